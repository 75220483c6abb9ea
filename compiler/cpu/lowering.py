"""Numba CPU code generator: an optimized Graph -> the source of ``@numba.njit`` functions.

Fused loop nests come from :mod:`symgrad.compiler.passes.fuse` (lowered by
symgrad.compiler.cpu.nests); every other op is one entry of ``LOWERINGS`` (op name ->
function emitting its lines). The lowering state is symgrad.compiler.cpu.lowering_state;
the module around the lowered body is assembled by symgrad.compiler.cpu.module.
"""
from ..codegen.internal_error import lowering_of
from .blas import lower_matmul
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
    **dict.fromkeys(fused_ops(), lower_fused),
}


def lower_graph(graph, plan, in_place=None):
    """Lower every node in order; returns the Lowering (prologue, body, arguments). Each
    line written records its node; a failing lowering raises a CodegenError naming it."""
    lowering = Lowering(graph, plan, in_place)
    for node in graph.topological_order():
        lowering.prologue.origin = lowering.out.origin = node
        with lowering_of(graph, plan, node):
            if graph.op(node) not in LOWERINGS:
                raise KeyError(f"the CPU backend has no lowering for op {graph.op(node)!r}")
            LOWERINGS[graph.op(node)](lowering, node)
    lowering.prologue.origin = lowering.out.origin = None
    return lowering
