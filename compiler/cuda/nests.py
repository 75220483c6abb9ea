"""Fused loop nests on the GPU: one grid-stride kernel per elementwise nest (each element
computed by the op registry's scalar templates), and one per reduction nest (a block per
output element, its partial results combined in a shared-memory tree)."""
import math

import numpy as np

from .kernel import Kernel, broadcast, unflatten
from .reduce import reduce
from ..cpu.nests import REDUCTIONS, scalar_expression


def compute_members(lowering, kernel, members, shape, indices):
    """Lines computing each member at ``indices``; returns node -> local expression."""
    local = {}
    for member in members:
        for operand in lowering.graph.operands(member):
            if operand not in local:
                local[operand] = _load(lowering, kernel, operand, shape, indices)
        kernel.body.line(f"t{member} = {scalar_expression(lowering, member, shape, local)}")
        local[member] = f"t{member}"
    return local


def _load(lowering, kernel, operand, shape, indices):
    """A local holding ``operand``'s element (numpy broadcasting), or its literal."""
    value = lowering.values[operand]
    if value.literal is not None:
        return value.literal
    kernel.body.line(f"l{operand} = "
                     f"{kernel.read(value, broadcast(lowering.shape(operand), shape, indices))}")
    return f"l{operand}"


def lower_nest(lowering, nest):
    if nest.reduction is not None:
        lower_reduction(lowering, nest)
        return
    stored = nest.stores + [nest.root]
    for node in stored:
        lowering.allocate(node)
    kernel = Kernel(lowering, f"nest_{nest.root}")
    indices = kernel.grid_stride(nest.shape)
    local = compute_members(lowering, kernel, nest.members, nest.shape, indices)
    for node in stored:
        kernel.body.line(f"{kernel.read(lowering.values[node], indices)} = {local[node]}")
    kernel.finish(f"grid({math.prod(nest.shape)}), THREADS")


def lower_reduction(lowering, nest):
    """Blocks take output elements (or slices of one, see symgrad.compiler.cuda.reduce);
    their threads compute the nest's members at the reduced elements, store the members the
    nest stores and accumulate the reduced operand."""
    node, shape = nest.reduction, nest.shape
    op, dtype = lowering.graph.op(node), np.dtype(lowering.dtype(node))
    axes = sorted(lowering.attrs(node)["params"]["axes"])
    kept = [axis for axis in range(len(shape)) if axis not in axes]
    names = [f"i{axis}" if extent != 1 else "0" for axis, extent in enumerate(shape)]
    for stored in nest.stores:
        lowering.allocate(stored)
    out = lowering.allocate(node)
    keepdims = lowering.attrs(node)["params"]["keepdims"]
    out_names = [("0" if keepdims else None) if axis in axes else names[axis]
                 for axis in range(len(shape))]
    out_index = ", ".join(name for name in out_names if name is not None) or "0"

    def index(kernel):
        unflatten(kernel.body, "element", [shape[a] for a in kept], [f"i{a}" for a in kept])

    def accumulate(kernel, reduction):
        unflatten(kernel.body, "flat", [shape[a] for a in axes], [f"i{a}" for a in axes])
        local = compute_members(lowering, kernel, nest.members, shape, names)
        operand = lowering.graph.operands(node)[0]
        reduction.accumulate(local[operand] if operand in local else
                             _load(lowering, kernel, operand, shape, names))
        for stored in nest.stores:
            kernel.body.line(f"{kernel.read(lowering.values[stored], names)} = {local[stored]}")

    initial, combine = REDUCTIONS[op]
    reduce(lowering, f"reduce_{node}", dtype.name, initial(dtype), combine,
           math.prod(shape[a] for a in kept), math.prod(shape[a] for a in axes), index,
           accumulate, lambda kernel: f"{kernel.use(out)}[{out_index}]")


def lower_fused(lowering, node):
    nest = lowering.plan.emits_at(node)
    if nest is not None:
        lower_nest(lowering, nest)
