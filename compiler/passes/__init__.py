"""Graph-to-graph optimizations, run to a fixed point before code generation."""
from .cse import eliminate_common_subexpressions
from .dce import eliminate_dead_code
from .fold import fold_constants
from .fuse import FusionPlan, LoopNest, plan_fusion  # noqa: F401
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
