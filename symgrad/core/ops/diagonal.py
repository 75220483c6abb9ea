"""Diagonals and triangles as composites. A diagonal of an ``(n1, n2)`` matrix is a strided
slice of the matrix flattened: ``offset + i * (n2 + 1)``; reading it is a ``getitem``
(whose VJP writes the cotangent back with ``setitem``), building a matrix from one is a
``setitem`` into zeros. A triangle is a ``where`` with a constant mask (numpy's ``tri``).

>>> import numpy as np, symgrad as sg
>>> sg.grad(lambda a: np.trace(a @ a))(np.eye(2))
array([[2., 0.],
       [0., 2.]])
"""
import numpy as np

from symgrad.core.errors import TracingValueError
from symgrad.core.ops.common import check_integer, lift, normalize_axis
from symgrad.core.ops.elementwise import where
from symgrad.core.ops.reduction import sum as reduce_sum
from symgrad.core.ops.registry import faced
from symgrad.core.ops.shape import broadcast_to, reshape, transpose
from symgrad.core.tracing import Tracer, bind, constant, error_here


def _diagonal_range(rows, columns, offset):
    """(start, count) of diagonal ``offset`` of a row-major ``rows x columns`` matrix, flat."""
    if offset >= 0:
        return offset, max(0, min(rows, columns - offset))
    return -offset * columns, max(0, min(rows + offset, columns))


def _strided(start, count, step):
    """The primitive index entry of ``count`` elements from ``start`` by ``step``."""
    return (start, start + (count - 1) * step + 1, step) if count else (start, start, 1)


@faced(numpy=(np.diagonal,), method=("diagonal",), tensor=("diagonal",), torch=("diagonal",),
       grad_fn="DiagonalBackward0")
def diagonal(a, offset=0, axis1=0, axis2=1):
    """``np.diagonal``: axes ``axis1`` and ``axis2`` removed, their diagonal ``offset``
    appended as the last axis (a copy; numpy's is a read-only view)."""
    if not isinstance(a, Tracer):
        return np.diagonal(a, offset, axis1, axis2)
    check_integer(offset, "diagonal", "offset")
    if a.ndim < 2:
        raise error_here(f"diagonal requires an array of at least two dimensions, got shape "
                         f"{list(a.shape)}", TracingValueError)
    axis1, axis2 = (normalize_axis(axis, a.ndim, "diagonal") for axis in (axis1, axis2))
    if axis1 == axis2:
        raise error_here("diagonal: axis1 and axis2 cannot be the same")
    rest = [i for i in range(a.ndim) if i not in (axis1, axis2)]
    rows, columns = a.shape[axis1], a.shape[axis2]
    batch = tuple(a.shape[i] for i in rest)
    flat = reshape(transpose(a, rest + [axis1, axis2]), batch + (rows * columns,))
    start, count = _diagonal_range(rows, columns, int(offset))
    index = tuple((0, d, 1) for d in batch) + (_strided(start, count, columns + 1),)
    return bind("getitem", flat, index=index)


@faced(numpy=(np.diag,), tensor=("diag",), torch=("diag",), grad_fn="DiagBackward0")
def diag(v, k=0):
    """``np.diag``: a vector's matrix with it on diagonal ``k``, or a matrix's diagonal ``k``."""
    if not isinstance(v, Tracer):
        return np.diag(v, k)
    check_integer(k, "diag", "k")
    if v.ndim == 2:
        return diagonal(v, k)
    if v.ndim != 1:
        raise error_here(f"diag: Input must be 1- or 2-d. (shape {list(v.shape)})",
                         TracingValueError)
    size = v.shape[0] + abs(int(k))
    zeros = broadcast_to(lift(v.graph, 0, v.dtype), (size * size,))
    start, count = _diagonal_range(size, size, int(k))
    matrix = bind("setitem", zeros, v, index=(_strided(start, count, size + 1),))
    return reshape(matrix, (size, size))


# Not symgrad.trace (torch.trace): that name is symgrad's tracing of a function.
@faced(numpy=(np.trace,), method=("trace",), tensor=("trace",), grad_fn="TraceBackward0")
def trace(a, offset=0, axis1=0, axis2=1, dtype=None):
    """``np.trace`` and ``Tensor.trace``: the sum of diagonal ``offset`` over ``axis1`` and
    ``axis2``."""
    if not isinstance(a, Tracer):
        return np.trace(a, offset, axis1, axis2, dtype)
    return reduce_sum(diagonal(a, offset, axis1, axis2), -1, dtype=dtype)


def _triangle(m, k, lower, what):
    if not isinstance(m, Tracer):
        return (np.tril if lower else np.triu)(m, k)
    check_integer(k, what, "k")
    if m.ndim == 0:
        raise error_here(f"{what}: the input must have at least one dimension, got a 0-d array")
    rows, columns = (m.shape[-2:] if m.ndim > 1 else (m.shape[-1],) * 2)
    below = np.tri(rows, columns, int(k) if lower else int(k) - 1, dtype=bool)
    mask = constant(m.graph, below if lower else ~below)
    return where(mask, m, 0)


@faced(numpy=(np.tril,), tensor=("tril",), torch=("tril",), grad_fn="TrilBackward0")
def tril(m, k=0):
    """``np.tril``: the elements on and below diagonal ``k`` of the last two axes, else 0."""
    return _triangle(m, k, True, "tril")


@faced(numpy=(np.triu,), tensor=("triu",), torch=("triu",), grad_fn="TriuBackward0")
def triu(m, k=0):
    """``np.triu``: the elements on and above diagonal ``k`` of the last two axes, else 0."""
    return _triangle(m, k, False, "triu")
