"""numpy 2's array-API spellings in ``np.linalg`` (``matrix_norm``, ``vector_norm``,
``svdvals``, ``trace`` and ``diagonal`` of the last two axes, ``vecdot``, ...), on traced
values: each is one of symgrad's functions with the arguments numpy passes on.

>>> import numpy as np, symgrad as sg
>>> sg.jit(lambda a: np.linalg.trace(a), backend="reference")(np.ones((2, 3, 3)))
array([3., 3.])
"""
import numpy as np

from symgrad.core.ops.common import normalize_axes
from symgrad.core.ops.contraction import outer, tensordot
from symgrad.core.ops.decompositions import mT
from symgrad.core.ops.diagonal import diagonal, trace
from symgrad.core.ops.linalg import matmul
from symgrad.core.ops.norms import norm
from symgrad.core.ops.numpy_linalg import svd
from symgrad.core.ops.reduction import sum as reduce_sum
from symgrad.core.ops.registry import Faces, faced, front
from symgrad.core.ops.shape import reshape, transpose
from symgrad.core.tracing import Tracer

front(matmul, Faces(numpy=(np.linalg.matmul,)))
front(outer, Faces(numpy=(np.linalg.outer,)))
front(mT, Faces(numpy=(np.linalg.matrix_transpose, np.matrix_transpose)))


@faced(numpy=(np.linalg.tensordot,))
def linalg_tensordot(x1, x2, /, *, axes=2):
    return tensordot(x1, x2, axes)


@faced(numpy=(np.linalg.trace,))
def linalg_trace(x, /, *, offset=0, dtype=None):
    """The traces of the matrices over the last two axes."""
    return trace(x, offset, -2, -1, dtype)


@faced(numpy=(np.linalg.diagonal,))
def linalg_diagonal(x, /, *, offset=0):
    return diagonal(x, offset, -2, -1)


@faced(numpy=(np.linalg.vector_norm,))
def vector_norm(x, /, *, axis=None, keepdims=False, ord=2):  # noqa: A002 - numpy's name
    """The vector norm over ``axis``: one axis, several (flattened together) or all."""
    ndim = np.ndim(x) if not isinstance(x, Tracer) else x.ndim
    axes = normalize_axes(axis, ndim, "vector_norm")
    rest = [i for i in range(ndim) if i not in axes]
    kept = tuple(np.shape(x)[i] for i in rest)
    result = norm(reshape(transpose(x, rest + list(axes)), kept + (-1,)), ord, -1)
    if keepdims:
        result = reshape(result, tuple(1 if i in axes else d for i, d in enumerate(np.shape(x))))
    return result


@faced(numpy=(np.linalg.matrix_norm,))
def matrix_norm(x, /, *, keepdims=False, ord="fro"):  # noqa: A002 - numpy's name
    return norm(x, ord, (-2, -1), keepdims)


@faced(numpy=(np.linalg.svdvals,))
def svdvals(x, /):
    return svd(x, compute_uv=False)


@faced(numpy=(np.linalg.vecdot, np.vecdot))
def vecdot(x1, x2, /, *, axis=-1):
    """The dot products along ``axis`` (the operands broadcast)."""
    return reduce_sum(x1 * x2, axis)
