"""LAPACK-backed primitives of ``np.linalg``, on stacks of matrices (numpy's batching):
``solve``, ``slogdet``, ``cholesky``, ``eigh``, ``svd`` and ``pinv``. A primitive has one
result, so those with several pack them into one array that the frontend
(symgrad.core.ops.numpy_linalg) slices: ``slogdet`` gives ``[..., (sign, log|det|)]``,
``eigh`` the eigenvalues as row 0 above the eigenvectors, ``svd`` the rows of ``u``, then
``s``, then ``v = vh^T`` (columns padded with zeros to one width).

The VJPs are the classical ones (those of HIPS autograd: Giles' matrix derivative results,
Murray's Cholesky note, Townsend's SVD note), written with ops so that second order works.
Where a degenerate spectrum divides by zero, a zero cotangent still contributes zero.
"""
import numpy as np

import symgrad.core.ops.batch_rules as batch_rules
from symgrad.core.ops.common import lift
from symgrad.core.ops.diagonal import tril
from symgrad.core.ops.elementwise import where
from symgrad.core.ops.linalg import matmul
from symgrad.core.ops.registry import declare
from symgrad.core.ops.shape import getitem, reshape, swapaxes
from symgrad.core.tracing import bind, constant, error_here


def mT(x):
    """The matrices of a stack transposed."""
    return swapaxes(x, -1, -2)


def eye_like(x, n):
    return constant(x.graph, np.eye(n, dtype=x.dtype))


def inverse(a):
    """The inverses of a stack of square matrices (a solve against the identity)."""
    return bind("solve", a, eye_like(a, a.shape[-1]))


def _check_matrices(a, square=True):
    """numpy's LinAlgError wording, as a ValueError that bind reports with the op's name."""
    if a.ndim < 2:
        raise ValueError(f"{a.ndim}-dimensional array given. Array must be at least "
                         "two-dimensional")
    if square and a.shape[-1] != a.shape[-2]:
        raise ValueError(f"Last 2 dimensions of the array must be square, got shape "
                         f"{list(a.shape)}")
    if a.dtype.kind != "f":
        raise TypeError(f"needs floating-point matrices, got {a.dtype.name}")


def _same_rule(a):
    _check_matrices(a)
    return a.shape, a.dtype


def _solve_rule(a, b):
    _check_matrices(a)
    if b.ndim < 2 or b.shape[-2] != a.shape[-1]:
        raise ValueError(f"the right-hand side of shape {list(b.shape)} does not fit "
                         f"matrices of shape {list(a.shape[-2:])}")
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    return batch + b.shape[-2:], a.dtype


def _solve_a(g, out, a, b):
    return -matmul(bind("solve", mT(a), g), mT(out))


declare("solve", _solve_rule, np.linalg.solve,
        [_solve_a, lambda g, out, a, b: bind("solve", mT(a), g)], family="linalg",
        batch=batch_rules.stacked)


def _slogdet_reference(a):
    sign, logabs = np.linalg.slogdet(a)
    return np.stack([sign, logabs], axis=-1).astype(a.dtype)


def _slogdet_rule(a):
    _check_matrices(a)
    return a.shape[:-2] + (2,), a.dtype


def _slogdet_vjp(g, out, a):
    """d log|det a| = tr(a^-1 da); the sign is piecewise constant."""
    logabs_g = reshape(getitem(g, (Ellipsis, 1)), g.shape[:-1] + (1, 1))
    return logabs_g * mT(inverse(a))


declare("slogdet", _slogdet_rule, _slogdet_reference, [_slogdet_vjp], family="linalg",
        batch=batch_rules.stacked)


def _cholesky_vjp(g, out, a):
    """Murray (arXiv:1602.07527): S = L^-T phi(L^T g) L^-1, symmetrized; phi takes the lower
    triangle with the diagonal halved."""
    lower = out
    n = a.shape[-1]
    projected = tril(matmul(mT(lower), g)) * constant(g.graph, 1 - 0.5 * np.eye(n, dtype=g.dtype))
    s = bind("solve", mT(lower), mT(bind("solve", mT(lower), mT(projected))))
    return (s + mT(s)) * 0.5


declare("cholesky", _same_rule, np.linalg.cholesky, [_cholesky_vjp], family="linalg",
        batch=batch_rules.stacked)


def _eigh_reference(a):
    w, v = np.linalg.eigh(a)
    return np.concatenate([w[..., None, :], v], axis=-2)


def _eigh_rule(a):
    _check_matrices(a)
    return a.shape[:-2] + (a.shape[-1] + 1, a.shape[-1]), a.dtype


def _spectral_coupling(gap, projection):
    """``projection / gap`` off the diagonal, 0 on it and where ``projection`` is 0 (a zero
    cotangent contributes nothing, even between equal eigenvalues)."""
    n = gap.shape[-1]
    safe_gap = gap + eye_like(gap, n)
    off_diagonal = constant(gap.graph, 1 - np.eye(n, dtype=gap.dtype))
    return where(projection == 0, 0, off_diagonal * projection / safe_gap)


def _eigh_vjp(g, out, a):
    """With a = v diag(w) v^T: v (diag(gw) + F * (v^T gv)) v^T, F_ij = 1 / (w_j - w_i), then
    onto the lower triangle that LAPACK read (an off-diagonal entry stands for two)."""
    n = a.shape[-1]
    w, v = getitem(out, (Ellipsis, slice(0, 1), slice(None))), getitem(out, (Ellipsis, slice(1, None), slice(None)))
    gw, gv = getitem(g, (Ellipsis, slice(0, 1), slice(None))), getitem(g, (Ellipsis, slice(1, None), slice(None)))
    gap = w - mT(w)                                   # [i, j] = w_j - w_i
    inner = _spectral_coupling(gap, matmul(mT(v), gv))
    full = matmul(matmul(v, inner), mT(v)) + matmul(v * gw, mT(v))
    below = constant(g.graph, np.tri(n, n, -1, dtype=bool))
    return where(below, full + mT(full), 0) + full * eye_like(g, n)


declare("eigh", _eigh_rule, _eigh_reference, [_eigh_vjp], family="linalg", batch=batch_rules.stacked)


def svd_width(m, n, full_matrices):
    return max(m, n) if full_matrices else min(m, n)


def _svd_reference(a, full_matrices):
    m, n = a.shape[-2:]
    u, s, vh = np.linalg.svd(a, full_matrices=full_matrices)
    width = svd_width(m, n, full_matrices)
    packed = np.zeros(a.shape[:-2] + (m + 1 + n, width), a.dtype)
    packed[..., :m, :u.shape[-1]] = u
    packed[..., m, :s.shape[-1]] = s
    packed[..., m + 1:, :vh.shape[-2]] = np.swapaxes(vh, -1, -2)
    return packed


def _svd_rule(a, full_matrices):
    _check_matrices(a, square=False)
    m, n = a.shape[-2:]
    return a.shape[:-2] + (m + 1 + n, svd_width(m, n, full_matrices)), a.dtype


def _svd_parts(packed, m):
    rows = (slice(0, m), slice(m, m + 1), slice(m + 1, None))
    return [getitem(packed, (Ellipsis, part, slice(None))) for part in rows]


def _svd_vjp(g, out, a, full_matrices):
    """Townsend's reduced-SVD derivative; s as a row (1, k) broadcasts over columns."""
    m, n = a.shape[-2:]
    if full_matrices:
        raise error_here(f"the gradient of np.linalg.svd(full_matrices=True) of {m}x{n} "
                         "matrices is not implemented (as in autograd): pass "
                         "full_matrices=False")
    (u, s, v), (gu, gs, gv) = _svd_parts(out, m), _svd_parts(g, m)
    k = min(m, n)
    squares = s * s
    gap = squares - mT(squares)                                   # [i, j] = s_j^2 - s_i^2
    utgu, vtgv = matmul(mT(u), gu), matmul(mT(v), gv)
    core = (_spectral_coupling(gap, utgu - mT(utgu)) * s + mT(s) * _spectral_coupling(gap, vtgv - mT(vtgv))
            + eye_like(g, k) * mT(gs))
    grad = matmul(matmul(u, core), mT(v))
    if m < n:
        grad = grad + matmul(matmul(u / s, mT(gv)), eye_like(g, n) - matmul(v, mT(v)))
    elif m > n:
        grad = grad + mT(matmul(matmul(v / s, mT(gu)), eye_like(g, m) - matmul(u, mT(u))))
    return grad


declare("svd", _svd_rule, _svd_reference, [_svd_vjp], family="linalg", params=("full_matrices",),
        batch=batch_rules.stacked)


def _pinv_rule(a, rcond):
    _check_matrices(a, square=False)
    return a.shape[:-2] + (a.shape[-1], a.shape[-2]), a.dtype


def _pinv_vjp(g, out, a, rcond):
    """Golub and Pereyra's derivative of the pseudo-inverse P of a (exact at constant rank)."""
    m, n = a.shape[-2:]
    p = out
    grad = (-matmul(matmul(p, mT(g)), p)
            + matmul(matmul(matmul(p, mT(p)), g), eye_like(g, m) - matmul(a, p))
            + matmul(matmul(eye_like(g, n) - matmul(p, a), g), matmul(mT(p), p)))
    return mT(grad)


declare("pinv", _pinv_rule, lambda a, rcond: np.linalg.pinv(a, rcond=rcond), [_pinv_vjp],
        family="linalg", params=("rcond",), batch=batch_rules.stacked)


def lifted_float(graph, value):
    """``value`` as a float tracer: integer matrices are float64, as np.linalg makes them."""
    dtype = np.asarray(value).dtype if not hasattr(value, "aval") else value.dtype
    return lift(graph, value, dtype if dtype.kind == "f" else np.dtype(np.float64))
