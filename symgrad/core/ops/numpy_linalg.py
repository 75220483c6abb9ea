"""``np.linalg`` on traced values: numpy dispatches ``np.linalg.inv(tracer)`` through
``__array_function__`` to these functions, which slice the packed primitives of
symgrad.core.ops.decompositions (or compose them) with numpy's semantics: stacks of matrices,
a vector right-hand side for ``solve``, integer matrices as float64, numpy 2's named tuples
for several results (``np.linalg.slogdet(a).logabsdet``). Plain arrays go to numpy itself.

>>> import numpy as np, symgrad as sg
>>> sg.grad(lambda a: np.linalg.det(a))(np.eye(2) * 2)
array([[2., 0.],
       [0., 2.]])
"""
from collections import namedtuple

import numpy as np

from symgrad.core.errors import TracingError, TracingValueError
from symgrad.core.ops.common import check_integer, result_dtype
from symgrad.core.ops.decompositions import inverse, lifted_float, mT
from symgrad.core.ops.elementwise import exp, log
from symgrad.core.ops.linalg import matmul
from symgrad.core.ops.registry import faced
from symgrad.core.ops.shape import broadcast_to, getitem, reshape
from symgrad.core.tracing import bind, constant, error_here, find_graph


# numpy 2's result types, by their names and fields (numpy 1 returned plain tuples)
SlogdetResult = namedtuple("SlogdetResult", "sign logabsdet")
EighResult = namedtuple("EighResult", "eigenvalues eigenvectors")
SVDResult = namedtuple("SVDResult", "U S Vh")


class LinAlgError(np.linalg.LinAlgError, TracingError):
    """numpy's ``LinAlgError`` for traced matrices of the wrong shape, with the user's line."""


def traced_matrix(a, what=None):
    """``a`` as a float tracer, or None when it is not traced; with ``what`` (the numpy
    function's name) it must be a stack of square matrices, as numpy requires."""
    graph = find_graph([a])
    if graph is None:
        return None
    traced = lifted_float(graph, a)
    return traced if what is None else square_matrices(traced, what)


def square_matrices(a, what):
    """``a``, unless it is not a stack of square matrices: numpy's LinAlgError, here."""
    if a.ndim < 2:
        raise error_here(f"{what}: {a.ndim}-dimensional array given. Array must be at "
                         "least two-dimensional", LinAlgError)
    if a.shape[-1] != a.shape[-2]:
        raise error_here(f"{what}: Last 2 dimensions of the array must be square (shape "
                         f"{list(a.shape)})", LinAlgError)
    return a


def _last(x, *index):
    return getitem(x, (Ellipsis, *index))


@faced(numpy=(np.linalg.inv,), tensor=("inverse",), torch=("inverse",),
       grad_fn="LinalgInvExBackward0")
def inv(a):
    """``np.linalg.inv`` of a matrix or a stack of them."""
    traced = traced_matrix(a, "inv")
    return np.linalg.inv(a) if traced is None else inverse(traced)


@faced(numpy=(np.linalg.solve,))
def solve(a, b):
    """``np.linalg.solve``: ``b`` is a vector when it is 1-D (numpy 2's rule), else a stack of
    matrices broadcast against ``a``'s stack."""
    graph = find_graph([a, b])
    if graph is None:
        return np.linalg.solve(a, b)
    dtype = result_dtype(a, b)
    dtype = dtype if dtype.kind == "f" else np.dtype(np.float64)
    a, b = square_matrices(lifted_float(graph, a), "solve").astype(dtype), lifted_float(graph, b).astype(dtype)
    if b.ndim == 1:
        return reshape(bind("solve", a, reshape(b, b.shape + (1,))), a.shape[:-2] + b.shape)
    return bind("solve", a, b)


@faced(numpy=(np.linalg.slogdet,))
def slogdet(a):
    """``np.linalg.slogdet``: ``SlogdetResult(sign, logabsdet)``, log|det| in ``logabsdet``."""
    traced = traced_matrix(a, "slogdet")
    if traced is None:
        return np.linalg.slogdet(a)
    packed = bind("slogdet", traced)
    return SlogdetResult(_last(packed, 0), _last(packed, 1))


@faced(numpy=(np.linalg.det,), tensor=("det",), torch=("det",), grad_fn="LinalgDetBackward0")
def det(a):
    """``np.linalg.det``, as ``sign * exp(log|det|)``: its gradient is ``det * inv(a)^T``."""
    traced = traced_matrix(a, "det")
    if traced is None:
        return np.linalg.det(a)
    sign, logabs = slogdet(traced)
    return sign * exp(logabs)


@faced(tensor=("logdet",), torch=("logdet",), grad_fn="LogdetBackward0")
def logdet(a):
    """``torch.logdet``: ``log(det(a))``, nan for a negative determinant, -inf for zero."""
    traced = traced_matrix(a, "logdet")
    sign, logabs = np.linalg.slogdet(a) if traced is None else slogdet(traced)
    with np.errstate(invalid="ignore", divide="ignore"):
        return logabs + log(sign)


@faced(numpy=(np.linalg.cholesky,), tensor=("cholesky",), torch=("cholesky",),
       grad_fn="CholeskyBackward0")
def cholesky(a, upper=False):
    """``np.linalg.cholesky``: the lower factor (the upper one with ``upper=True``, from the
    upper triangle), which reads only that triangle of ``a``."""
    traced = traced_matrix(a, "cholesky")
    if traced is None:
        return np.linalg.cholesky(a, upper=upper)
    return mT(bind("cholesky", mT(traced))) if upper else bind("cholesky", traced)


def _hermitian_input(a, UPLO):
    if UPLO not in ("L", "U"):
        raise error_here(f"UPLO argument must be 'L' or 'U', got {UPLO!r}", TracingValueError)
    return mT(a) if UPLO == "U" else a


@faced(numpy=(np.linalg.eigh,))
def eigh(a, UPLO="L"):  # noqa: N803 - numpy's name
    """``np.linalg.eigh``: ``EighResult(eigenvalues ascending, eigenvectors as columns)`` of the
    symmetric matrix whose ``UPLO`` triangle ``a`` holds."""
    traced = traced_matrix(a, "eigh")
    if traced is None:
        return np.linalg.eigh(a, UPLO)
    packed = bind("eigh", _hermitian_input(traced, UPLO))
    return EighResult(_last(packed, 0, slice(None)), _last(packed, slice(1, None), slice(None)))


@faced(numpy=(np.linalg.eigvalsh,))
def eigvalsh(a, UPLO="L"):  # noqa: N803 - numpy's name
    """``np.linalg.eigvalsh``: the eigenvalues of ``eigh``."""
    traced = traced_matrix(a, "eigvalsh")
    return np.linalg.eigvalsh(a, UPLO) if traced is None else eigh(traced, UPLO)[0]


@faced(numpy=(np.linalg.svd,))
def svd(a, full_matrices=True, compute_uv=True, hermitian=False):
    """``np.linalg.svd``: ``SVDResult(U, S, Vh)``, or ``S`` with ``compute_uv=False``. The gradient
    needs ``full_matrices=False`` for non-square matrices, as in autograd."""
    traced = traced_matrix(a)
    if traced is None:
        return np.linalg.svd(a, full_matrices, compute_uv, hermitian)
    if hermitian:
        raise error_here("np.linalg.svd(hermitian=True) is not supported on traced arrays; "
                         "use np.linalg.eigh for symmetric matrices")
    m, n = traced.shape[-2:]
    full = bool(full_matrices) and bool(compute_uv) and m != n
    packed = bind("svd", traced, full_matrices=full)
    k = min(m, n)
    s = _last(packed, m, slice(0, k))
    if not compute_uv:
        return s
    u = _last(packed, slice(0, m), slice(0, m if full else k))
    vh = mT(_last(packed, slice(m + 1, None), slice(0, n if full else k)))
    return SVDResult(u, s, vh)


@faced(numpy=(np.linalg.pinv,))
def pinv(a, rcond=None, hermitian=False, *, rtol=None):
    """``np.linalg.pinv``: singular values below ``rcond * max(s)`` count as zero (numpy's
    default ``max(M, N) * eps``)."""
    traced = traced_matrix(a)
    if traced is None:
        keywords = {} if rtol is None else {"rtol": rtol}
        return np.linalg.pinv(a, rcond, hermitian, **keywords)
    if rcond is None:
        rcond = rtol if rtol is not None else max(traced.shape[-2:]) * np.finfo(traced.dtype).eps
    return bind("pinv", traced, rcond=float(rcond))


@faced(numpy=(np.linalg.matrix_power,), tensor=("matrix_power",), torch=("matrix_power",),
       grad_fn="LinalgMatrixPowerBackward0")
def matrix_power(a, n):
    """``np.linalg.matrix_power``: products by repeated squaring; a negative ``n`` inverts
    first, ``n == 0`` gives identities."""
    graph = find_graph([a])
    if graph is None:
        return np.linalg.matrix_power(a, n)
    check_integer(n, "matrix_power", "the exponent")
    square_matrices(a, "matrix_power")
    if n == 0:
        return broadcast_to(constant(graph, np.eye(a.shape[-1], dtype=a.dtype)), a.shape)
    base, n, result = (inv(a) if n < 0 else a), abs(int(n)), None
    while n:
        if n & 1:
            result = base if result is None else matmul(result, base)
        n >>= 1
        if n:
            base = matmul(base, base)
    return result


@faced(numpy=(np.linalg.multi_dot,))
def multi_dot(arrays):
    """``np.linalg.multi_dot``: the product of a chain; the first and last may be vectors."""
    if find_graph(arrays) is None:
        return np.linalg.multi_dot(arrays)
    if len(arrays) < 2:
        raise error_here("multi_dot: expecting at least two arrays", TracingValueError)
    product = arrays[0]
    for array in arrays[1:]:
        product = matmul(product, array)
    return product
