"""Contractions and linear algebra (symgrad/core/ops/contraction.py, diagonal.py, einsum.py,
linalg.py, decompositions.py, numpy_linalg.py, norms.py, array_api_linalg.py;
compiler/cpu/linalg.py), with the op table's checks (tests/core/test_ops.py):
gradients against central differences to second order, the reference interpreter against
numpy (values and dtypes), compiled code against the reference (on a sample: each case is
a compile); an einsum grid on the reference backend; PyTorch's gradients where installed.

Matrices are well conditioned (a random matrix plus a multiple of the identity) and the
symmetric inputs of eigh and cholesky are built inside the function (``a @ a.T + n I``), so
central differences are a fair oracle. Eigenvectors and singular vectors enter through
sign-free expressions (``v ** 2``, ``u @ vh``).
"""
import numpy as np
import pytest

import symgrad as sg

from conftest import assert_same
from test_ops import (REF, Case, check_against_numpy, check_compiled, check_gradient, projected,
                      uniform)


def spd(a):
    """A symmetric positive definite matrix (stack) from any square ``a``."""
    return a @ np.swapaxes(a, -1, -2) + a.shape[-1] * np.eye(a.shape[-1])


def conditioned(shape, seed):
    return uniform(shape, -1, 1, seed) + 3 * np.eye(shape[-1])


def eigh_parts(a, uplo="L"):
    w, v = np.linalg.eigh(spd(a), uplo)
    assert np.linalg.eigh(spd(a)).eigenvalues.shape == w.shape     # numpy 2's named tuple
    return w, v ** 2, v @ np.diag(np.arange(1.0, a.shape[-1] + 1)) @ v.T


def svd_parts(a):
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return np.linalg.svd(a, full_matrices=False).S, u @ vh, u ** 2, vh ** 2


M = uniform((3, 4), seed=20)
N = uniform((4, 2), seed=21)
T3 = uniform((2, 3, 4), seed=22)
V = uniform((4,), seed=23)
SQUARE = conditioned((3, 3), 24)
STACK = conditioned((2, 3, 3), 25)

CASES = [
    # contractions: composites of transpose, reshape, broadcasting products, sum and matmul
    Case("tensordot", lambda a, b, c: (np.tensordot(a, b, 1), np.tensordot(c, a, ([1, 2], [0, 1])),
                                       np.tensordot(b, b, 0), np.tensordot(a, a, 2)),
         (M, N, T3), float32=True),
    Case("dot_nd", lambda c, b, v: (np.dot(c, b), np.dot(c, v), c.dot(v), np.dot(v, b), np.dot(2.0, v)),
         (T3, uniform((3, 4, 2), seed=26), V)),
    Case("inner_outer_vdot_kron", lambda a, c, v: (
        np.inner(c, a), np.inner(v, v), np.outer(a, v), np.vdot(a, a * 2), np.kron(a, v[:2]),
        np.kron(c, a)), (M, T3, V)),
    Case("cross", lambda a, b, c: (np.cross(a, b), np.cross(a, b[1]), np.cross(c, a.T[:, None], axis=0),
                                   np.cross(a.T, b.T, axisa=0, axisb=0, axisc=0)),
         (uniform((4, 3), seed=36), uniform((4, 3), seed=37), uniform((3, 2, 4), seed=38))),
    Case("einsum", lambda a, b, c: (
        np.einsum("ij,jk->ik", a, b), np.einsum("ij,jk", a, b), np.einsum("ba", a),
        np.einsum("bij,jk->bki", c, b), np.einsum("...ij,j->...i", c, b[:, 0]),
        np.einsum("ij,ij->i", a, a), np.einsum("i,j", a[0], b[0]), np.einsum("ijk->", c),
        np.einsum("ij,jk,kl->il", a, b, b.T), np.einsum(a, [0, 1], b, [1, 2], [2, 0])),
         (M, N, T3), float32=True),
    Case("einsum_repeated_labels", lambda s, c: (
        np.einsum("ii", s), np.einsum("ii->i", s), np.einsum("bii->b", c), np.einsum("iji->j", c.transpose(1, 0, 2)[:, :2]),
        np.einsum("ij,jj->i", s, s)), (SQUARE, STACK)),
    Case("diagonal_trace", lambda a, c: (
        np.diagonal(a), a.diagonal(1), np.diagonal(a, -1), np.diagonal(c, 0, 2, 0), np.trace(a),
        c.trace(1, 1, 2), np.trace(c, -1, -1, 0), np.diag(a), np.diag(a, 2), np.diag(a[0]),
        np.diag(a[1], -1)), (M, T3), float32=True),
    Case("triangles", lambda a, c: (np.triu(a), np.tril(a, 1), np.triu(c, -1), np.tril(c[0, 0])),
         (M, T3)),
    # linear algebra: the LAPACK primitives and their compositions
    Case("inv_solve", lambda a, s, b: (
        np.linalg.inv(a), np.linalg.inv(s), np.linalg.solve(a, b), np.linalg.solve(s, b[:, 0]),
        np.linalg.solve(s, b)), (SQUARE, STACK, uniform((3, 2), seed=27)), float32=True),
    Case("det_slogdet", lambda a, s: (np.linalg.det(a), np.linalg.det(s),
                                      tuple(np.linalg.slogdet(s)), np.linalg.slogdet(-a).logabsdet),
         (SQUARE, STACK), float32=True),
    Case("cholesky", lambda a, s: (np.linalg.cholesky(spd(a)), np.linalg.cholesky(spd(s), upper=True)),
         (SQUARE, STACK), float32=True),
    Case("eigh", lambda a, s: (eigh_parts(a), eigh_parts(a, "U"), np.linalg.eigvalsh(spd(s)),
                               np.linalg.eigh(spd(s))[1] ** 2),
         (SQUARE, STACK), check={"tolerance": 1e-4}, float32=True),
    Case("svd", lambda wide, tall, s: (svd_parts(wide), svd_parts(tall), np.linalg.svd(s)[1],
                                       np.linalg.svd(wide, compute_uv=False)),
         (uniform((3, 4), seed=28), uniform((4, 3), seed=29), STACK), check={"tolerance": 1e-4},
         float32=True),
    Case("pinv", lambda wide, tall: (np.linalg.pinv(wide), np.linalg.pinv(tall)),
         (uniform((3, 4), seed=30), uniform((4, 2), seed=31)), float32=True),
    Case("matrix_power_multi_dot", lambda a, m: (
        np.linalg.matrix_power(a / 3, 3), np.linalg.matrix_power(a, -2), np.linalg.matrix_power(a, 1),
        np.linalg.multi_dot([m[:, 0], m, m.T, a])), (SQUARE, M)),
    Case("norm_vector", lambda x: tuple(
        (np.linalg.norm(x[0], order), np.linalg.norm(x, order, axis=1),
         np.linalg.norm(x, order, axis=0, keepdims=True))
        for order in (None, 2, 1, np.inf, -np.inf, 3, 0.5)), (uniform((3, 4), -1, 1, seed=32),)),
    Case("array_api_spellings", lambda x, a: (
        np.linalg.matrix_norm(x), np.linalg.matrix_norm(x, ord="nuc", keepdims=True),
        np.linalg.vector_norm(x), np.linalg.vector_norm(x, axis=(0, 2), ord=1, keepdims=True),
        np.linalg.vector_norm(x, axis=1), np.linalg.svdvals(x), np.linalg.trace(x),
        np.linalg.diagonal(x, offset=1), np.linalg.vecdot(x, x[0]), np.linalg.matmul(x, a),
        np.linalg.tensordot(a, a, axes=1), np.linalg.outer(a[0], a[1]),
        np.linalg.matrix_transpose(x)),
         (uniform((2, 3, 4), -1, 1, seed=34), uniform((4, 4), seed=35)), check={"tolerance": 1e-4}),
    Case("norm_matrix", lambda x: tuple(
        (np.linalg.norm(x[0], order), np.linalg.norm(x, order, axis=(2, 0)),
         np.linalg.norm(x, order, axis=(1, 2), keepdims=True))
        for order in (None, "fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf)) + (np.linalg.norm(x),),
         (uniform((3, 4, 2), -1, 1, seed=33),), check={"tolerance": 1e-4}),
]
CASES_BY_NAME = {case.name: case for case in CASES}
CASE_IDS = list(CASES_BY_NAME)
# compiled == reference on a sample, one small function per LAPACK primitive and for the
# einsum planner and the diagonals (each is one numba compile of forward and gradient)
COMPILED = [
    Case("einsum", lambda c, b: np.einsum("bij,jk->bki", c, b) * np.einsum("ii", c[0, :, :3]),
         (T3, N)),
    Case("diagonal", lambda a: np.trace(a) * np.diag(a[0]) + np.triu(a, 1)[1], (SQUARE,)),
    Case("solve", lambda s, b: np.linalg.solve(s, b), (STACK, uniform((3, 2), seed=27))),
    Case("slogdet", lambda a: np.linalg.slogdet(a)[1], (STACK,)),
    Case("cholesky", lambda a: np.linalg.cholesky(spd(a)), (STACK,)),
    Case("eigh", lambda a: eigh_parts(a)[:2], (SQUARE,)),
    Case("svd", lambda a: svd_parts(a)[:2], (uniform((3, 4), seed=28),), float32=True),
    Case("pinv", lambda a: np.linalg.pinv(a), (uniform((4, 2), seed=31),)),
]
COMPILED_PARAMS = [pytest.param(case, np.float64, id=f"{case.name}-f64") for case in COMPILED] + \
    [pytest.param(case, np.float32, id=f"{case.name}-f32") for case in COMPILED if case.float32]


@pytest.mark.parametrize("name", CASE_IDS)
def test_gradient_matches_numeric_first_and_second_order(name):
    check_gradient(CASES_BY_NAME[name])


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("name", CASE_IDS)
def test_reference_matches_numpy(name, dtype):
    tolerance = 1e-4 if dtype == np.float32 else 1e-10    # LAPACK's float32 paths differ
    check_against_numpy(CASES_BY_NAME[name], dtype, rtol=tolerance, atol=tolerance)


@pytest.mark.numba
@pytest.mark.parametrize("case, dtype", COMPILED_PARAMS)
def test_compiled_matches_reference(case, dtype):
    check_compiled(case, dtype, **({"rtol": 2e-3, "atol": 2e-3} if dtype == np.float32 else {}))


# -- PyTorch's gradients (where installed) --------------------------------------------------
TORCH_PAIRS = {   # name: (numpy function, the same in torch, argument)
    "det": (lambda a: np.linalg.det(a), lambda t, a: t.linalg.det(a), STACK),
    "slogdet": (lambda a: np.linalg.slogdet(a)[1], lambda t, a: t.linalg.slogdet(a)[1], STACK),
    "inv": (lambda a: np.linalg.inv(a) ** 2, lambda t, a: t.linalg.inv(a) ** 2, SQUARE),
    "solve": (lambda a: np.linalg.solve(a, a[..., :1] ** 2), lambda t, a: t.linalg.solve(a, a[..., :1] ** 2), STACK),
    "cholesky": (lambda a: np.linalg.cholesky(spd(a)), lambda t, a: t.linalg.cholesky(a @ a.mT + 3 * t.eye(3, dtype=a.dtype)), STACK),
    "eigh": (lambda a: eigh_parts(a)[:2], lambda t, a: (lambda w, v: (w, v ** 2))(*t.linalg.eigh(a @ a.mT + 3 * t.eye(3, dtype=a.dtype))), SQUARE),
    "svd": (lambda a: svd_parts(a)[:2], lambda t, a: (lambda u, s, vh: (s, u @ vh))(*t.linalg.svd(a, full_matrices=False)), M),
    "pinv": (lambda a: np.linalg.pinv(a), lambda t, a: t.linalg.pinv(a), M),
    "norms": (lambda a: (np.linalg.norm(a), np.linalg.norm(a, "nuc"), np.linalg.norm(a, 2), np.linalg.norm(a, 1, axis=0)),
              lambda t, a: (t.linalg.norm(a), t.linalg.matrix_norm(a, "nuc"), t.linalg.matrix_norm(a, 2), t.linalg.vector_norm(a, 1, dim=0)), M),
    "einsum": (lambda a: np.einsum("ij,kj,ii->ik", a, a, a[:, :3]), lambda t, a: t.einsum("ij,kj,ii->ik", a, a, a[:, :3]), M),
    "contractions": (lambda a: (np.kron(a, a[:2, :2]), np.trace(a), np.diag(a[0]), np.triu(a, 1), np.tensordot(a, a, ([1], [1]))),
                     lambda t, a: (t.kron(a, a[:2, :2]), t.trace(a), t.diag(a[0]), t.triu(a, 1), t.tensordot(a, a, ([1], [1]))), M),
}


@pytest.mark.parametrize("name", list(TORCH_PAIRS))
def test_gradients_match_pytorch(name):
    torch = pytest.importorskip("torch")
    numpy_fn, torch_fn, x = TORCH_PAIRS[name]
    scalar = projected(numpy_fn, numpy_fn(x))
    expected = torch.tensor(x, requires_grad=True)
    outputs = torch_fn(torch, expected)
    outputs = outputs if isinstance(outputs, tuple) else (outputs,)
    leaves = numpy_fn(x) if isinstance(numpy_fn(x), tuple) else (numpy_fn(x),)
    total = sum((out * torch.tensor(np.linspace(0.5, 1.5, np.size(leaf)).reshape(np.shape(leaf)))).sum()
                for out, leaf in zip(outputs, leaves))
    total.backward()
    assert_same(sg.jit(scalar, backend=REF)(x), total.detach().numpy(), rtol=1e-9)
    assert_same(sg.grad(scalar, backend=REF)(x), expected.grad.numpy(), rtol=1e-8, atol=1e-10)


def test_torch_faces_on_tensors():
    a = sg.tensor(SQUARE, requires_grad=True)
    loss = sg.det(a) + (a @ a).trace() + sg.logdet(a) + sg.inverse(a).sum() + sg.kron(a, a).sum()
    loss.backward()
    expected = sg.grad(lambda a: np.linalg.det(a) + np.trace(a @ a) + np.linalg.slogdet(a)[1]
                       + np.linalg.inv(a).sum() + np.kron(a, a).sum(), backend=REF)(SQUARE)
    assert_same(a.grad.numpy(), expected)


# -- numpy's semantics and errors -------------------------------------------------------------
def test_norm_gradient_at_zero_is_nan_as_in_autograd_and_jax():
    with np.errstate(invalid="ignore", divide="ignore"):
        grad = sg.grad(lambda x: np.linalg.norm(x), backend=REF)(np.zeros(3))
    assert np.isnan(grad).all()
    assert_same(sg.grad(lambda x: np.linalg.norm(x, 1), backend=REF)(np.zeros(3)), np.zeros(3))


def test_integer_matrices_are_float64_as_in_numpy():
    a = np.array([[2, 1], [1, 3]])
    for fn in (np.linalg.inv, np.linalg.det, np.linalg.cholesky, lambda a: np.linalg.norm(a, "nuc")):
        assert_same(sg.jit(fn, backend=REF)(a), fn(a))


@pytest.mark.parametrize("fn, words", [
    (lambda a: np.linalg.inv(a), "inv: Last 2 dimensions of the array must be square"),
    (lambda a: np.linalg.det(a[0]), "det: 1-dimensional array given"),
    (lambda a: np.linalg.solve(a, a), "solve: Last 2 dimensions"),
    (lambda a: np.linalg.eigh(a, "X"), "UPLO argument must be 'L' or 'U'"),
    (lambda a: np.linalg.norm(a, "fro", axis=0), "Invalid norm order 'fro' for vectors"),
    (lambda a: np.linalg.norm(a, 3, axis=(0, 1)), "Invalid norm order 3 for matrices"),
    (lambda a: np.linalg.eig(a), "np.linalg.eig is not supported"),
])
def test_linalg_errors_name_the_function(fn, words):
    with pytest.raises(sg.TracingError) as error:
        sg.jit(fn, backend=REF)(M)
    assert words in str(error.value) and "test_linalg.py" in str(error.value)


def test_a_shape_error_is_numpys_linalg_error():
    with pytest.raises(np.linalg.LinAlgError):
        sg.jit(np.linalg.inv, backend=REF)(M)


def test_svd_gradient_of_full_non_square_matrices_is_refused_clearly():
    def loss(a):
        u, s, vh = np.linalg.svd(a)
        return np.sum(u) + np.sum(vh)
    assert_same(sg.jit(lambda a: np.linalg.svd(a)[0].shape, backend=REF)(M), (3, 3))
    with pytest.raises(sg.TracingError, match="full_matrices=False"):
        sg.grad(loss, backend=REF)(M)


def test_the_lapack_ops_say_they_are_not_on_cuda_yet():
    from symgrad.compiler.cuda.linalg import LOWERINGS
    with pytest.raises(NotImplementedError, match="'eigh' .*not on CUDA yet.*device='cpu'"):
        LOWERINGS["eigh"](None, 7)


@pytest.mark.numba
def test_compiled_cholesky_of_an_indefinite_matrix_raises_numpys_error():
    with pytest.raises(np.linalg.LinAlgError):
        sg.jit(np.linalg.cholesky)(-np.eye(2))


def test_decompositions_return_numpys_named_tuples():
    def fields(a):
        sign, logabsdet = np.linalg.slogdet(a)
        eigh, svd = np.linalg.eigh(spd(a)), np.linalg.svd(a)
        assert np.linalg.slogdet(a).sign is not None and type(eigh).__name__ == "EighResult"
        return (np.linalg.slogdet(a).logabsdet - logabsdet, eigh.eigenvalues, eigh.eigenvectors ** 2,
                svd.U @ np.diag(svd.S) @ svd.Vh, sign)
    assert_same(sg.jit(fields, backend=REF)(SQUARE), fields(SQUARE))
