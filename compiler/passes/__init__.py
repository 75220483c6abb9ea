"""Graph-to-graph optimizations, run to a fixed point before code generation, then the plans
both wings' code generators follow (fused loop nests, state updated in place)."""
from typing import NamedTuple

from ..codegen.extents import name_extents
from .cse import eliminate_common_subexpressions
from .dce import eliminate_dead_code
from .fold import fold_constants
from .fuse import FusionPlan, LoopNest, plan_fusion  # noqa: F401
from .memory import plan_in_place
from .simplify import simplify

PIPELINE = (fold_constants, simplify, eliminate_common_subexpressions, eliminate_dead_code)


def optimize(graph, max_rounds=10):
    """Rewrite ``graph`` in place until no pass changes it; returns the graph."""
    for _ in range(max_rounds):
        changed = False
        for graph_pass in PIPELINE:
            changed |= graph_pass(graph)
        if not changed:
            break
    return graph


class Optimized(NamedTuple):
    """What the passes make of a graph, the input of a wing's code generator."""
    graph: object      # the optimized copy
    plan: FusionPlan
    in_place: dict     # output node -> the input node whose buffer it overwrites


def optimize_for_codegen(graph, state_count=0, run_time_extents=False):
    """``graph`` copied, optimized and planned. A step graph carries its first
    ``state_count`` inputs to outputs 1, 2, ...: new state is computed into the old state's
    buffer where that is safe (``in_place``, symgrad.compiler.passes.memory). With
    ``run_time_extents`` the shapes name the extents the code reads from its inputs
    (symgrad.compiler.codegen.extents)."""
    optimized = graph.copy()
    if run_time_extents:
        name_extents(optimized)
    optimize(optimized)
    if run_time_extents:
        name_extents(optimized)
    plan = plan_fusion(optimized)
    carried = list(zip(optimized.inputs[:state_count], optimized.outputs[1:]))
    in_place = plan_in_place(optimized, plan, carried) if carried else {}
    return Optimized(optimized, plan, in_place)
