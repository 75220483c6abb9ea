"""Tensor contractions as composites: a transpose and reshape of each operand into a matrix,
one ``matmul`` (so the product reaches BLAS once compiled), a reshape back. Their gradients,
second order and compilation come from those primitives; nothing here is a primitive.

>>> import numpy as np, symgrad as sg
>>> sg.grad(lambda a: np.tensordot(a, np.ones((3, 2)), axes=1).sum())(np.ones((2, 3)))
array([[2., 2., 2.],
       [2., 2., 2.]])
"""
import math

import numpy as np

from symgrad.core.errors import TracingValueError
from symgrad.core.ops.common import lift, normalize_axis
from symgrad.core.ops.construction import composite
from symgrad.core.ops.elementwise import multiply
from symgrad.core.ops.linalg import matmul
from symgrad.core.ops.reduction import sum as reduce_sum
from symgrad.core.ops.registry import faced
from symgrad.core.ops.reordering import moveaxis
from symgrad.core.ops.shape import reshape, stack, transpose
from symgrad.core.tracing import Tracer, error_here, find_graph


def array_dtype(*values):
    """The result dtype of a numpy function that makes arrays of its operands first
    (np.dot, np.einsum, ...): a Python scalar counts as a float64/int64 array, not weak."""
    return np.result_type(*(v.dtype if isinstance(v, Tracer) else np.asarray(v).dtype
                            for v in values))


def traced_operands(*values):
    """``values`` as tracers of their common numpy dtype, or None when none is traced."""
    graph = find_graph(values)
    if graph is None:
        return None
    dtype = array_dtype(*values)
    return [lift(graph, value, dtype) for value in values]


def _axis_list(axes, ndim, what):
    axes = [axes] if isinstance(axes, (int, np.integer)) else list(axes)
    return [normalize_axis(axis, ndim, what) for axis in axes]


def _contracted_axes(a, b, axes):
    """numpy's ``axes`` of tensordot as two lists of non-negative axes, checked."""
    if isinstance(axes, (int, np.integer)):
        count = int(axes)
        if count < 0 or count > min(a.ndim, b.ndim):
            raise error_here(f"tensordot: axes={count} does not fit operands of shapes "
                             f"{list(a.shape)} and {list(b.shape)}")
        return list(range(a.ndim - count, a.ndim)), list(range(count))
    try:
        axes_a, axes_b = axes
    except (TypeError, ValueError):
        raise error_here(f"tensordot: axes must be an integer or a pair of axis sequences, "
                         f"got {axes!r}") from None
    axes_a = _axis_list(axes_a, a.ndim, "tensordot")
    axes_b = _axis_list(axes_b, b.ndim, "tensordot")
    if len(axes_a) != len(axes_b) or any(a.shape[i] != b.shape[j] for i, j in zip(axes_a, axes_b)):
        raise error_here(f"tensordot: shape-mismatch for sum: axes {axes_a} of "
                         f"{list(a.shape)} and {axes_b} of {list(b.shape)}")
    return axes_a, axes_b


def contract(a, b, axes_a, axes_b):
    """Sum of products over ``axes_a`` of ``a`` paired with ``axes_b`` of ``b``: the free axes
    of ``a``, then those of ``b`` (tensordot's layout), through one matrix product."""
    free_a = [i for i in range(a.ndim) if i not in axes_a]
    free_b = [i for i in range(b.ndim) if i not in axes_b]
    shape_a, shape_b = [a.shape[i] for i in free_a], [b.shape[i] for i in free_b]
    inner = math.prod(a.shape[i] for i in axes_a)
    left = reshape(transpose(a, free_a + list(axes_a)), (math.prod(shape_a), inner))
    right = reshape(transpose(b, list(axes_b) + free_b), (inner, math.prod(shape_b)))
    return reshape(matmul(left, right), tuple(shape_a + shape_b))


@faced(numpy=(np.tensordot,), tensor=("tensordot",), torch=("tensordot",))
def tensordot(a, b, axes=2):
    """``np.tensordot``: ``axes`` an integer (the last ``axes`` axes of ``a`` with the first of
    ``b``) or a pair of axis sequences (``torch.tensordot``'s ``dims``, positionally)."""
    operands = traced_operands(a, b)
    if operands is None:
        return np.tensordot(a, b, axes)
    a, b = operands
    return contract(a, b, *_contracted_axes(a, b, axes))


@faced(numpy=(np.dot,), method=("dot",), torch=("dot",), tensor=("dot",))
def dot(a, b):
    """``np.dot``: a product with a scalar multiplies; otherwise the sum over the last axis of
    ``a`` and the second-to-last of ``b`` (the only axis of a vector ``b``). For N-d operands
    that differs from matmul: every pair of stacks meets, ``a.shape[:-1] + b.shape[:-2] +
    b.shape[-1:]``."""
    return _last_axis_product(a, b, np.dot, lambda b: 0 if b.ndim == 1 else b.ndim - 2)


@faced(numpy=(np.inner,), tensor=("inner",), torch=("inner",))
def inner(a, b):
    """``np.inner``: the sum over the last axes of both; a scalar operand multiplies."""
    return _last_axis_product(a, b, np.inner, lambda b: b.ndim - 1)


def _last_axis_product(a, b, numpy_function, axis_of_b):
    """``numpy_function(a, b)`` where nothing is traced; else a product with a scalar
    multiplies, and ``a``'s last axis meets ``b``'s axis ``axis_of_b(b)`` (a matrix
    product up to 2-D for np.dot, whose mismatch numpy words as matmul's)."""
    operands = traced_operands(a, b)
    if operands is None:
        return numpy_function(a, b)
    a, b = operands
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    if numpy_function is np.dot and a.ndim <= 2 and b.ndim <= 2:
        return matmul(a, b)
    axis_b = axis_of_b(b)
    if a.shape[-1] != b.shape[axis_b]:
        raise error_here(f"{numpy_function.__name__}: shapes {a.shape} and {b.shape} not "
                         f"aligned: {a.shape[-1]} (dim {a.ndim - 1}) != {b.shape[axis_b]} "
                         f"(dim {axis_b})")
    return contract(a, b, [a.ndim - 1], [axis_b])


@faced(numpy=(np.outer,), tensor=("outer", "ger"), torch=("outer", "ger"))
def outer(a, b):
    """``np.outer``: every element of ``a`` (flattened) times every element of ``b``."""
    operands = traced_operands(a, b)
    if operands is None:
        return np.outer(a, b)
    a, b = operands
    return multiply(reshape(a, (a.size, 1)), reshape(b, (1, b.size)))


@faced(numpy=(np.vdot,))
def vdot(a, b):
    """``np.vdot`` of real arrays: the dot product of both flattened."""
    operands = traced_operands(a, b)
    if operands is None:
        return np.vdot(a, b)
    a, b = operands
    if a.size != b.size:
        raise error_here(f"vdot: vectors have different lengths ({a.size} and {b.size}; "
                         f"shapes {list(a.shape)} and {list(b.shape)})")
    return matmul(reshape(a, (a.size,)), reshape(b, (b.size,)))


@faced(numpy=(np.kron,), tensor=("kron",), torch=("kron",))
def kron(a, b):
    """``np.kron``: blocks ``a[i, j] * b``; the operand with fewer axes gets leading ones.
    Each axis of ``a`` is paired with the same axis of ``b`` by a broadcasting product."""
    operands = traced_operands(a, b)
    if operands is None:
        return np.kron(a, b)
    a, b = operands
    ndim = max(a.ndim, b.ndim)
    shape_a = (1,) * (ndim - a.ndim) + a.shape
    shape_b = (1,) * (ndim - b.ndim) + b.shape
    spread_a = reshape(a, tuple(d for size in shape_a for d in (size, 1)))
    spread_b = reshape(b, tuple(d for size in shape_b for d in (1, size)))
    return reshape(spread_a * spread_b, tuple(p * q for p, q in zip(shape_a, shape_b)))


def sum_axes(x, axes, dtype):
    """``x`` summed over ``axes`` (none: ``x``), kept in ``dtype`` (einsum's integers do not
    widen as np.sum's do)."""
    if not axes:
        return x
    total = reduce_sum(x, tuple(axes))
    return total if total.dtype == dtype else total.astype(dtype)


@composite(np.cross)
def cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """``np.cross``: the cross product of 3-vectors along ``axisa``/``axisb`` (a 2-vector
    counts as one with z = 0; two 2-vectors give the z component alone), broadcast over the
    other axes, the vectors of the result along ``axisc``."""
    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = traced_operands(a, b)
    a, b = moveaxis(a, axisa, -1), moveaxis(b, axisb, -1)
    if a.shape[-1] not in (2, 3) or b.shape[-1] not in (2, 3):
        raise error_here("incompatible dimensions for cross product\n"
                         "(dimension must be 2 or 3)", TracingValueError)
    a0, a1, b0, b1 = a[..., 0], a[..., 1], b[..., 0], b[..., 1]
    z = a0 * b1 - a1 * b0
    if a.shape[-1] == b.shape[-1] == 2:
        return z
    a2 = a[..., 2] if a.shape[-1] == 3 else 0
    b2 = b[..., 2] if b.shape[-1] == 3 else 0
    product = stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, z], axis=-1)
    return moveaxis(product, -1, normalize_axis(axisc, product.ndim, "cross"))
