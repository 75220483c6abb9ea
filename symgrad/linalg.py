"""``torch.linalg`` on Tensors: norms, solves, inverses, determinants and the decompositions
(``cholesky``, ``qr``, ``eigh``, ``svd``), with PyTorch's signatures and named results. Each
records its gradient (numpy's LAPACK computes the values; the backward graph is symgrad's) and
traces inside a compiled step.

>>> import symgrad as torch
>>> a = torch.tensor([[2.0, 0.0], [0.0, 4.0]], requires_grad=True)
>>> torch.linalg.det(a).backward(); a.grad.tolist()
[[4.0, 0.0], [0.0, 2.0]]
>>> torch.linalg.vector_norm(torch.tensor([3.0, 4.0])).item()
5.0
"""
from collections import namedtuple

import numpy as np

import symgrad.core.ops as ops
from symgrad.core.ops import numpy_linalg
from symgrad.core.tracing import find_graph
from symgrad.eager.dims import normalize_dim
from symgrad.eager.fused_arithmetic import cross as _cross, p_norm
from symgrad.eager.tensor import Tensor, _check_concrete, _value_of, apply

SlogdetResult = namedtuple("slogdet", ["sign", "logabsdet"])
EighResult = namedtuple("eigh", ["eigenvalues", "eigenvectors"])
SVDResult = namedtuple("svd", ["U", "S", "Vh"])
QRResult = namedtuple("qr", ["Q", "R"])
LstsqResult = namedtuple("lstsq", ["solution", "residuals", "rank", "singular_values"])


class LinAlgError(RuntimeError, np.linalg.LinAlgError):
    """``torch.linalg.LinAlgError``: a singular or not positive-definite input."""


# -- module-level functions the tape replays (their identity is part of the cache key) -------
def part(x, decomposition, position, **params):
    """Entry ``position`` of ``decomposition(x, **params)``'s results."""
    return decomposition(x, **params)[position]


def solved(a, b, vectors):
    if vectors:
        return ops.reshape(numpy_linalg.solve(a, ops.expand_dims(b, -1)), np.shape(b))
    return numpy_linalg.solve(a, b)


def matrix_norm_of(x, ord, axes, keepdims):  # noqa: A002 - PyTorch's name
    if ord in ("fro", "f"):
        return p_norm(x, 2, axes, keepdims)
    return ops.norm(x, ord, axes, keepdims)


def least_squares(a, b):
    return ops.matmul(numpy_linalg.pinv(a), b)


def _householder_step(r, q, j):
    """One LAPACK ``geqrf`` reflection of column ``j`` (none where the column is already
    zero below the diagonal, as ``dlarfg``), applied to ``r`` and accumulated into ``q``."""
    column = ops.getitem(r, (Ellipsis, slice(j, None), slice(j, j + 1)))
    alpha = ops.getitem(column, (Ellipsis, slice(0, 1), slice(None)))
    tail = ops.sum(ops.square(ops.getitem(column, (Ellipsis, slice(1, None), slice(None)))),
                   (-2, -1), keepdims=True)
    reflects = ops.greater(tail, 0)
    length = ops.sqrt(ops.add(ops.square(alpha), tail))
    beta = ops.multiply(ops.where(ops.less(alpha, 0), 1.0, -1.0), length)
    first = np.zeros((column.shape[-2], 1), bool)
    first[0] = True
    v = ops.where(first, ops.subtract(alpha, beta), column)
    scale = ops.where(reflects, ops.true_divide(2.0, ops.where(
        reflects, ops.sum(ops.square(v), (-2, -1), keepdims=True), 1.0)), 0.0)
    lower = ops.getitem(r, (Ellipsis, slice(j, None), slice(None)))
    lower = ops.subtract(lower, ops.multiply(scale, ops.matmul(v, ops.matmul(
        ops.swapaxes(v, -1, -2), lower))))
    r = ops.concatenate([ops.getitem(r, (Ellipsis, slice(0, j), slice(None))), lower], -2)
    right = ops.getitem(q, (Ellipsis, slice(None), slice(j, None)))
    right = ops.subtract(right, ops.multiply(scale, ops.matmul(ops.matmul(right, v),
                                                               ops.swapaxes(v, -1, -2))))
    return r, ops.concatenate([ops.getitem(q, (Ellipsis, slice(None), slice(0, j))), right], -1)


def qr_of(a, mode):
    """``np.linalg.qr`` on arrays; on tracers Householder reflections, op by op, which give
    LAPACK's factors (its signs) and a gradient."""
    if find_graph([a]) is None:
        return np.linalg.qr(a, mode)
    m, n = a.shape[-2:]
    r, q = a, ops.broadcast_to(np.eye(m, dtype=a.dtype), a.shape[:-2] + (m, m))
    for j in range(min(m, n) if m > n else min(m, n) - 1):
        r, q = _householder_step(r, q, j)
    r = ops.triu(r)
    if mode == "complete":
        return q, r
    k = min(m, n)
    return (ops.getitem(q, (Ellipsis, slice(None), slice(0, k))),
            ops.getitem(r, (Ellipsis, slice(0, k), slice(None))))


# -- functions ------------------------------------------------------------------------------
def _tensor(value):
    return value if isinstance(value, Tensor) else Tensor(np.asarray(value))


def _float_matrices(a, name, square=True):
    a = _tensor(a)
    if a.ndim < 2:
        raise RuntimeError(f"linalg.{name}: The input tensor A must have at least 2 dimensions.")
    if square and a.shape[-1] != a.shape[-2]:
        raise RuntimeError(f"linalg.{name}: A must be batches of square matrices, but they are "
                           f"{a.shape[-2]} by {a.shape[-1]} matrices")
    if not a.dtype.is_floating_point:
        raise RuntimeError(f"linalg.{name}: Expected a floating point or complex tensor as "
                           f"input. Got {a.dtype.name.capitalize()}")
    return a


def _dims(x, dim, what):
    if dim is None:
        return None
    if isinstance(dim, (int, np.integer)):
        return normalize_dim(dim, x.shape, what)
    return tuple(normalize_dim(d, x.shape, what) for d in dim)


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):  # noqa: A002
    """The ``ord``-norm of the elements over ``dim`` (all when None)."""
    x = _tensor(x) if dtype is None else _tensor(x).to(dtype)
    if not x.dtype.is_floating_point:
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as "
                           f"input. Got {x.dtype.name.capitalize()}")
    return apply("LinalgVectorNormBackward0", p_norm, x, p=float(ord),
                 axes=_dims(x, dim, "linalg.vector_norm"), keepdims=bool(keepdim))


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):  # noqa: A002, N803
    """'fro', 'nuc', 1, -1, 2, -2, inf or -inf norm of the matrices over ``dim``."""
    A = _float_matrices(A if dtype is None else _tensor(A).to(dtype), "matrix_norm", False)
    axes = _dims(A, dim, "linalg.matrix_norm")
    if len(axes) != 2 or axes[0] == axes[1]:
        raise RuntimeError("linalg.matrix_norm: dims must be different. Got "
                           f"({dim[0]}, {dim[1]})")
    order = ord if isinstance(ord, str) else float(ord)
    if isinstance(order, str) and order not in ("fro", "nuc"):
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    return apply("LinalgMatrixNormBackward0", matrix_norm_of, A, ord=order, axes=axes,
                 keepdims=bool(keepdim))


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):  # noqa: A002, N803
    """``torch.linalg.norm``: a vector norm (``dim`` an int, or a 1-D input), a matrix norm
    (``dim`` a pair, or a 2-D input with ``ord`` given), the 2-norm of all when both are None."""
    A = _tensor(A)
    if isinstance(dim, (int, np.integer)) or (dim is None and (ord is None or A.ndim == 1)):
        return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)
    if dim is None and A.ndim != 2:
        raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be "
                           f"1D or 2D. Got {A.ndim}D.")
    return matrix_norm(A, "fro" if ord is None else ord, (-2, -1) if dim is None else dim,
                       keepdim, dtype=dtype)


def solve(A, B, *, left=True):  # noqa: N803 - PyTorch's names
    """``X`` with ``A X = B``; ``B`` is a batch of vectors when it has one dim less than A."""
    A = _float_matrices(A, "solve")
    B = _tensor(B)
    if not left:
        return solve(A.mT, B.mT).mT
    vectors = B.ndim == A.ndim - 1 or B.ndim == 1
    if B.shape[-1 if vectors else -2] != A.shape[-1]:
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation "
                           f"AX = B ({A.shape[-2]}x{A.shape[-1]} and {tuple(B.shape)})")
    return _lapack("solve", "The solver failed because the input matrix is singular.",
                   "LinalgSolveExBackward0", solved, A, B, vectors=vectors)


def _lapack(name, failure, *recorded, **params):
    """``apply(*recorded, **params)``, numpy's LinAlgError as PyTorch's."""
    try:
        return apply(*recorded, **params)
    except np.linalg.LinAlgError:
        raise LinAlgError(f"linalg.{name}: {failure}") from None


def inv(A):  # noqa: N803
    return _lapack("inv", "The diagonal element 1 is zero, the inversion could not be "
                   "completed because the input matrix is singular.", "LinalgInvExBackward0",
                   numpy_linalg.inv, _float_matrices(A, "inv"))


def det(A):  # noqa: N803
    return apply("LinalgDetBackward0", numpy_linalg.det, _float_matrices(A, "det"))


def slogdet(A):  # noqa: N803
    A = _float_matrices(A, "slogdet")
    sign = numpy_linalg.slogdet(_value_of(A))[0]
    sign = Tensor(sign if hasattr(sign, "aval") else np.asarray(sign))
    return SlogdetResult(sign, apply("LinalgSlogdetBackward0", part, A,
                                     decomposition=numpy_linalg.slogdet, position=1))


def cholesky(A, *, upper=False):  # noqa: N803
    return _lapack("cholesky", "The factorization could not be completed because the input is "
                   "not positive-definite.", "LinalgCholeskyExBackward0", numpy_linalg.cholesky,
                   _float_matrices(A, "cholesky"), upper=bool(upper))


def qr(A, mode="reduced"):  # noqa: N803
    """``(Q, R)`` of ``A = Q R`` (``mode`` 'reduced' or 'complete'), LAPACK's signs."""
    if mode not in ("reduced", "complete"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of "
                           f"'reduced' (default), 'r', or 'complete'")
    A = _float_matrices(A, "qr", False)
    return QRResult(*(apply("LinalgQrBackward0", part, A, decomposition=qr_of, position=i,
                            mode=mode) for i in range(2)))


def eigh(A, UPLO="L"):  # noqa: N803
    A = _float_matrices(A, "eigh")
    return EighResult(*(apply("LinalgEighBackward0", part, A, decomposition=numpy_linalg.eigh,
                              position=i, UPLO=UPLO) for i in range(2)))


def eigvalsh(A, UPLO="L"):  # noqa: N803
    return eigh(A, UPLO).eigenvalues


def svd(A, full_matrices=True, *, driver=None):  # noqa: N803
    A = _float_matrices(A, "svd", False)
    return SVDResult(*(apply("LinalgSvdBackward0", part, A, decomposition=numpy_linalg.svd,
                             position=i, full_matrices=bool(full_matrices)) for i in range(3)))


def svdvals(A, *, driver=None):  # noqa: N803
    return svd(A, False).S


def pinv(A, *, atol=None, rtol=None, hermitian=False):  # noqa: N803
    A = _float_matrices(A, "pinv", False)
    if atol is not None:
        raise NotImplementedError("linalg.pinv(atol=...) is not supported; give rtol")
    return apply("LinalgPinvBackward0", numpy_linalg.pinv, A, rtol=rtol)


def lstsq(A, B, rcond=None, *, driver=None):  # noqa: N803
    """The least-squares solution of ``A X = B`` (minimum norm); as PyTorch's default driver
    ('gelsy'), the residuals and singular values are empty and the rank is given."""
    A, B = _float_matrices(A, "lstsq", False), _tensor(B)
    solution = apply("LinalgLstsqBackward0", least_squares, A, B)
    empty = Tensor(np.zeros((0,), np.dtype(A._value.dtype)))
    value = _value_of(A)
    rank = Tensor(np.asarray(np.linalg.matrix_rank(value), np.int64)) \
        if not hasattr(value, "aval") else empty
    return LstsqResult(solution, empty, rank, empty)


def matrix_power(A, n):  # noqa: N803
    return apply("LinalgMatrixPowerBackward0", numpy_linalg.matrix_power,
                 _float_matrices(A, "matrix_power"), n=int(n))


def matrix_rank(A, *, atol=None, rtol=None, hermitian=False):  # noqa: N803
    A = _tensor(A)
    _check_concrete(A, "linalg.matrix_rank()")
    return Tensor(np.asarray(np.linalg.matrix_rank(A._value, hermitian=hermitian), np.int64))


def multi_dot(tensors):
    product = tensors[0]
    for tensor in tensors[1:]:
        product = product @ tensor
    return product


def cross(input, other, *, dim=-1):  # noqa: A002 - PyTorch's name
    return _cross(_tensor(input), other, dim)


def vecdot(x, y, *, dim=-1):
    return (x * y).sum(dim)


__all__ = ["LinAlgError", "vector_norm", "matrix_norm", "norm", "solve", "inv", "det", "slogdet",
           "cholesky", "qr", "eigh", "eigvalsh", "svd", "svdvals", "pinv", "lstsq",
           "matrix_power", "matrix_rank", "multi_dot", "cross", "vecdot"]


# -- the older top-level spellings (torch.svd, torch.qr, ...) and their Tensor methods -------
def svd_legacy(input, some=True, compute_uv=True):  # noqa: A002 - PyTorch's name
    """``torch.svd``: ``(U, S, V)``, V not transposed; reduced when ``some``."""
    U, S, Vh = svd(input, full_matrices=not some)
    return namedtuple("svd", ["U", "S", "V"])(U, S, Vh.mT)


def qr_legacy(input, some=True):  # noqa: A002
    return qr(input, "reduced" if some else "complete")


def pinverse(input, rcond=1e-15):  # noqa: A002
    return apply("PinverseBackward0", numpy_linalg.pinv, _float_matrices(input, "pinv", False),
                 rtol=rcond)


def lstsq_removed(*_args, **_kwargs):
    raise RuntimeError("This function was deprecated since version 1.9 and is now removed. "
                       "`torch.lstsq` is deprecated in favor of `torch.linalg.lstsq`.")


LEGACY = {"svd": svd_legacy, "qr": qr_legacy, "pinverse": pinverse, "slogdet": slogdet,
          "lstsq": lstsq_removed}
for _name, _function in LEGACY.items():
    if _name != "lstsq":
        setattr(Tensor, _name, _function)
