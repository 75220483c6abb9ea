"""Numba CPU code generator: an optimized Graph -> the source of ``@numba.njit`` functions.

Fused loop nests come from :mod:`symgrad.compiler.passes.fuse` (lowered by
symgrad.compiler.cpu.nests); every other op is one entry of ``LOWERINGS`` (op name ->
function emitting its lines). The lowering state is symgrad.compiler.cpu.lowering_state;
the module around the lowered body is assembled by symgrad.compiler.cpu.module.
"""
from ..codegen.internal_error import lowering_in, lowering_of
from .blas import lower_matmul
from .collectives import lower_all_reduce_mean
from .control_flow import CONTROL_FLOW_LOWERINGS
from .lowering_state import Lowering
from .nests import lower_fused
from ..passes.fuse import fused_ops
from .shape_ops import (lower_concatenate, lower_custom_vjp, lower_getitem, lower_reshape,
                        lower_setitem, lower_transpose)
from .sources import lower_constant, lower_input


LOWERINGS = {
    "input": lower_input,
    "constant": lower_constant,
    "matmul": lower_matmul,
    "transpose": lower_transpose,
    "reshape": lower_reshape,
    "getitem": lower_getitem,
    "setitem": lower_setitem,
    "concatenate": lower_concatenate,
    "custom_vjp": lower_custom_vjp,
    "all_reduce_mean": lower_all_reduce_mean,
    "remat_barrier": lower_custom_vjp,     # operand 0 passes through too
    **CONTROL_FLOW_LOWERINGS,
    **dict.fromkeys(fused_ops(), lower_fused),
}


MISSING_ADVICE = "every op of the registry should have one: a bug in symgrad, please report"


def lower_graph(graph, plan, in_place=None, workspace=None, function_name="run"):
    """Lower every node in order; returns the Lowering (prologue, body, arguments). Each
    line written records its node; a failing lowering raises a CodegenError naming it.
    ``workspace``: a WorkspacePlan the intermediate buffers are carved from. Loop bodies are
    lowered by this function again (``lowering.lower_subgraph``)."""
    lowering = Lowering(graph, plan, in_place, workspace, function_name, lower_graph)
    for node in graph.topological_order():
        lowering.prologue.origin = lowering.out.origin = node
        with lowering_of(graph, plan, node):
            lowering_in(LOWERINGS, "CPU", graph, plan, node, MISSING_ADVICE)(lowering, node)
    lowering.prologue.origin = lowering.out.origin = None
    return lowering
