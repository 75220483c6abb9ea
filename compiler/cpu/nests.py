"""Lowering of fused loop nests (symgrad.compiler.passes.fuse): one loop nest computes every
member per element from the ops' scalar templates, and accumulates a reduction."""
import math

import numpy as np

from .blas import lower_gemm_update
from .flat_nests import flatten, flattens
from .lowering_state import numba_dtype
from .outline import outlined
from .product_epilogues import row_blocks
from .runtime import runtime_modules_called
from ..codegen.source import copy_lines, literal
from .threads import loop_header
from symgrad.core.ops.registry import OPS


REDUCTIONS = {  # op -> (initial value, combine template); max and min keep a NaN, as numpy
    "sum": (lambda dtype: 0, "{acc} + {x}"),
    "prod": (lambda dtype: 1, "{acc} * {x}"),
    "max": (lambda dtype: -np.inf if dtype.kind == "f" else np.iinfo(dtype).min,
            "({x} if {x} > {acc} or {x} != {x} else {acc})"),
    "min": (lambda dtype: np.inf if dtype.kind == "f" else np.iinfo(dtype).max,
            "({x} if {x} < {acc} or {x} != {x} else {acc})"),
}


def load(lowering, operand, loop_shape, local):
    """The expression for ``operand``'s element at the loop indices (numpy broadcasting)."""
    if operand in local:
        return local[operand]
    variable = lowering.var(operand)
    if variable.kind == "scalar":
        return variable.name
    if variable.uniform is not None:
        return variable.uniform
    shape = lowering.attrs(operand)["shape"]
    offset = len(loop_shape) - len(shape)
    index = ["0" if d == 1 and loop_shape[offset + j] != 1 else f"i{offset + j}"
             for j, d in enumerate(shape)]
    return f"{variable.name}[{', '.join(index)}]"


def scalar_expression(lowering, node, loop_shape, local, writer=None):
    """The op's scalar template applied to its operands' elements. With a ``writer``, array
    loads go to locals first: ``where``'s ``{1} if {0} else {2}`` then compiles to a select
    instead of a branch around a load (a mispredicted branch per element, which had been
    a large part of a convolutional step)."""
    attrs = lowering.attrs(node)
    operands = []
    for position, operand in enumerate(lowering.graph.operands(node)):
        text = load(lowering, operand, loop_shape, local)
        if writer is not None and "[" in text:
            writer.line(f"a{node}_{position} = {text}")
            text = f"a{node}_{position}"
        operands.append(text)
    params = {k: numba_dtype(v) if k == "dtype" else v for k, v in attrs["params"].items()}
    expression = OPS[attrs["op"]].scalar.format(*operands, **params)
    lowering.runtime.update(runtime_modules_called(expression))
    return expression


# numpy functions of the scalar templates that the CPU code calls in a vectorizable form
# (symgrad.compiler.cpu.runtime.simd_math)
SIMD_CALLS = {"np.exp(": "simd_exp(", "np.tanh(": "simd_tanh("}
# a nest of fewer elements keeps numpy's calls: LLVM unrolls short constant loops whole, and
# inline math there adds compile time to a large function for little speed
SIMD_MIN_ELEMENTS = 128


def with_simd_calls(lowering, expression, elements):
    """``expression`` with the functions of ``SIMD_CALLS`` replaced by their runtime ones
    (in a nest of ``elements`` elements)."""
    if elements < SIMD_MIN_ELEMENTS:
        return expression
    for call, simd in SIMD_CALLS.items():
        if call in expression:
            expression = expression.replace(call, simd)
            lowering.runtime.add("simd_math")
    return expression


def lower_nest(lowering, nest, rows=None):
    """One loop nest computing every member per element (and accumulating the reduction).
    Every element is loaded before any is stored, so a store may overwrite an input.
    ``rows``: (first, last) names bounding the outermost axis, when not all of it."""
    out, shape = lowering.out, nest.shape
    reduction = nest.reduction
    if reduction is not None:
        accumulator = _open_reduction(lowering, reduction)
    stored = nest.stores + ([] if reduction is not None else [nest.root])
    for node in stored:
        lowering.define(node, "scalar") if shape == () else lowering.allocate(node)
    local, targets = {}, {node: lowering.var(node).name for node in stored}
    if reduction is None and flattens(lowering, nest, stored):
        shape = flatten(lowering, nest, stored, local, targets)
    for axis, extent in enumerate(shape):
        out.open(loop_header(lowering, axis, extent, nest.root in lowering.parallel_nests, rows))
    for member in nest.members:
        name = lowering.vars[member].name if (member in stored and shape == ()) else f"t{member}"
        expression = scalar_expression(lowering, member, shape, local, out)
        out.line(f"{name} = {with_simd_calls(lowering, expression, math.prod(shape))}")
        local[member] = name
    if reduction is not None:
        value = load(lowering, lowering.graph.operands(reduction)[0], shape, local)
        combine = REDUCTIONS[lowering.graph.op(reduction)][1]
        out.line(f"{accumulator} = {combine.format(acc=accumulator, x=value)}")
    if shape != ():
        index = ", ".join(f"i{axis}" for axis in range(len(shape)))
        for node in stored:
            out.line(f"{targets[node]}[{index}] = {local[node]}")
    for _ in shape:
        out.close()
    if reduction is not None:
        _close_reduction(lowering, reduction, accumulator)


def _accumulator_dtype(dtype):
    """Float32 totals accumulate in float64: as accurate as numpy's pairwise sum of a
    contiguous axis (a float32 running sum of 10**6 values is 200x less), and more along a
    strided one."""
    return "float64" if dtype == np.float32 else dtype.name


def _open_reduction(lowering, node):
    attrs = lowering.attrs(node)
    dtype = np.dtype(attrs["dtype"])
    initial = REDUCTIONS[attrs["op"]][0](dtype)
    wide = _accumulator_dtype(dtype)
    if attrs["shape"] == ():
        lowering.out.line(f"acc{node} = {literal(initial, wide)}")
        return f"acc{node}"
    if wide == dtype.name:
        name = lowering.allocate(node)
    else:
        name = f"w{node}"
        lowering.buffer(name, attrs["shape"], wide)
    lowering.out.line(f"{name}[...] = {literal(initial, wide)}")
    axes, keepdims = attrs["params"]["axes"], attrs["params"]["keepdims"]
    operand_ndim = len(lowering.attrs(lowering.graph.operands(node)[0])["shape"])
    index = [("0" if keepdims else None) if axis in axes else f"i{axis}" for axis in range(operand_ndim)]
    return f"{name}[{', '.join(i for i in index if i is not None)}]"


def _close_reduction(lowering, node, accumulator):
    attrs = lowering.attrs(node)
    if attrs["shape"] == ():
        name = lowering.define(node, "scalar")
        lowering.out.line(f"{name} = np.{numba_dtype(attrs['dtype'])}({accumulator})")
    elif _accumulator_dtype(np.dtype(attrs["dtype"])) != attrs["dtype"]:
        copy_lines(lowering.out, lowering.allocate(node), f"w{node}", attrs["shape"])


def lower_fused(lowering, node):
    if node in lowering.gemm_updates:
        return lower_gemm_update(lowering, node)
    nest = lowering.plan.emits_at(node)
    if nest is None:
        return
    if node in lowering.epilogues:
        with row_blocks(lowering, lowering.epilogues[node]) as rows:
            lower_nest(lowering, nest, rows)
    elif nest.shape != () and nest.root not in lowering.parallel_nests:
        with outlined(lowering):
            lower_nest(lowering, nest)
    else:
        lower_nest(lowering, nest)
