"""``np.linalg.norm`` as a composite, numpy's cases one by one: vector norms over one axis
(``ord`` None/2, 1, inf, -inf, 0, any p), matrix norms over two ('fro', 'nuc', 1, -1, 2,
-2, inf, -inf; 2 and 'nuc' through the singular values), the 2-norm of everything when
``axis`` is None. As in autograd and JAX, the gradient of the 2-norm at 0 is nan (0 / 0).

>>> import numpy as np, symgrad as sg
>>> sg.grad(lambda x: np.linalg.norm(x))(np.array([3.0, 4.0]))
array([0.6, 0.8])
"""
import numpy as np

from symgrad.core.errors import TracingValueError
from symgrad.core.ops.common import normalize_axis
from symgrad.core.ops.elementwise import absolute, not_equal, sqrt
from symgrad.core.ops.numpy_linalg import svd, traced_matrix
from symgrad.core.ops.reduction import amax, amin, sum as reduce_sum
from symgrad.core.ops.registry import faced
from symgrad.core.ops.shape import reshape, transpose
from symgrad.core.tracing import error_here


def _two_norm(x, axes):
    return sqrt(reduce_sum(x * x, axes))


def _vector_norm(x, ord, axis):  # noqa: A002 - numpy's name
    if ord is None or ord == 2:
        return _two_norm(x, axis)
    if isinstance(ord, str):
        raise error_here(f"norm: Invalid norm order {ord!r} for vectors", TracingValueError)
    if ord == np.inf:
        return amax(absolute(x), axis)
    if ord == -np.inf:
        return amin(absolute(x), axis)
    if ord == 0:
        return reduce_sum(not_equal(x, 0).astype(x.dtype), axis)
    if ord == 1:
        return reduce_sum(absolute(x), axis)
    return reduce_sum(absolute(x) ** ord, axis) ** (1.0 / ord)


def _singular_values(x, rows, columns):
    """The singular values of the matrices over axes ``rows``, ``columns`` (last axis)."""
    rest = [i for i in range(x.ndim) if i not in (rows, columns)]
    return svd(transpose(x, rest + [rows, columns]), compute_uv=False)


def _matrix_norm(x, ord, rows, columns):  # noqa: A002 - numpy's name
    if ord in (None, "fro", "f"):
        return _two_norm(x, (rows, columns))
    if ord == "nuc":
        return reduce_sum(_singular_values(x, rows, columns), -1)
    if ord in (2, -2):
        return (amax if ord == 2 else amin)(_singular_values(x, rows, columns), -1)
    if ord in (1, -1, np.inf, -np.inf):
        summed, kept = (rows, columns) if ord in (1, -1) else (columns, rows)
        extremum = amax if ord in (1, np.inf) else amin
        return extremum(reduce_sum(absolute(x), summed), kept - (kept > summed))
    raise error_here(f"norm: Invalid norm order {ord!r} for matrices", TracingValueError)


@faced(numpy=(np.linalg.norm,))
def norm(x, ord=None, axis=None, keepdims=False):  # noqa: A002 - numpy's name
    """``np.linalg.norm`` of a vector, a matrix, or stacks of either along ``axis``."""
    traced = traced_matrix(x)
    if traced is None:
        return np.linalg.norm(x, ord, axis, keepdims)
    x = traced
    if axis is None:
        if ord is None or (ord in ("f", "fro") and x.ndim == 2) or (ord == 2 and x.ndim == 1):
            total = _two_norm(x, None)
            return reshape(total, (1,) * x.ndim) if keepdims else total
        if x.ndim not in (1, 2):
            raise error_here("norm: Improper number of dimensions to norm.", TracingValueError)
        axis = tuple(range(x.ndim))
    axes = (axis,) if not isinstance(axis, (tuple, list)) else tuple(axis)
    axes = tuple(normalize_axis(a, x.ndim, "norm") for a in axes)
    if len(axes) == 1:
        result = _vector_norm(x, ord, axes[0])
    elif len(axes) == 2:
        if axes[0] == axes[1]:
            raise error_here("norm: Duplicate axes given.", TracingValueError)
        result = _matrix_norm(x, ord, *axes)
    else:
        raise error_here("norm: Improper number of dimensions to norm.", TracingValueError)
    if keepdims:
        result = reshape(result, tuple(1 if i in axes else d for i, d in enumerate(x.shape)))
    return result
