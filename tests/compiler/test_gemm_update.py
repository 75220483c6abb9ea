"""Updates by a matrix product folded into one GEMM call (compiler/passes/gemm_update.py,
compiler/cpu/runtime/gemm.py, compiler/cpu/blas.py): the runtime function against
numpy, and training loops whose updates fold (or must not) against the eager loop."""
import re

import numba
import numpy as np
import pytest

import symgrad as sg
import symgrad.core.pytree as pytree
from symgrad.compiler.cpu.runtime.gemm import add_partials, gemm, gemm_columns, gemm_inner, gemm_rows, strided
from workloads import mlp_data, mlp_loss, mlp_step


@numba.njit
def call_gemm(alpha, a, b, beta, c):
    gemm(alpha, a, b, beta, c)


@numba.njit
def call_gemm_strided(alpha, a, b, beta, c):
    """As the generated code calls it: operands typed by their strides."""
    gemm(alpha, strided(a), strided(b), beta, c)


@pytest.mark.parametrize("call", [call_gemm, call_gemm_strided])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("orders", ["CCC", "FCC", "CFC", "FFC", "CCF", "FFF"])
@pytest.mark.parametrize("m, k, n", [(5, 7, 3), (1, 7, 3), (5, 1, 3), (5, 7, 1), (1, 1, 1)])
def test_gemm_computes_alpha_a_b_plus_beta_c_for_every_layout(call, dtype, orders, m, k, n):
    """Every order of every operand, and rows or columns of one element (whose strides
    say less about the order)."""
    rng = np.random.default_rng(0)
    a, b, c = (np.asarray(rng.standard_normal(shape), dtype, order=order)
               for shape, order in zip(((m, k), (k, n), (m, n)), orders))
    expected = 0.5 * c - 2.0 * (a.astype(np.float64) @ b)
    call(-2.0, a, b, 0.5, c)
    np.testing.assert_allclose(c, expected, rtol=1e-5, atol=1e-5)


def test_strided_takes_only_contiguous_matrices():
    with pytest.raises(numba.TypingError, match="C- or F-contiguous"):
        call_gemm_strided(1.0, np.ones((4, 6))[:, ::2], np.ones((3, 2)), 0.0, np.ones((4, 2)))


def test_gemm_reads_transposed_views_in_place():
    rng = np.random.default_rng(1)
    x, g, w = rng.standard_normal((6, 4)), rng.standard_normal((6, 3)), rng.standard_normal((4, 3))
    expected = w - 0.1 * x.T @ g
    call_gemm(-0.1, x.T, g, 1.0, w)
    np.testing.assert_allclose(w, expected, rtol=1e-12)


@pytest.mark.parametrize("m, k, n", [(0, 3, 2), (2, 0, 3), (2, 3, 0)])
def test_gemm_with_an_empty_dimension_follows_numpy(m, k, n):
    a, b, c = np.ones((m, k)), np.ones((k, n)), np.full((m, n), 3.0)
    call_gemm(2.0, a, b, 0.5, c)
    np.testing.assert_array_equal(c, 0.5 * 3.0 + 2.0 * a @ b)


@numba.njit
def all_row_blocks(parts, alpha, a, b, beta, c):
    for part in range(parts):
        gemm_rows(part, parts, alpha, strided(a), strided(b), beta, c)


@numba.njit
def all_column_blocks(parts, alpha, a, b, beta, c):
    for part in range(parts):
        gemm_columns(part, parts, alpha, strided(a), strided(b), beta, c)


@pytest.mark.parametrize("blocks", [all_row_blocks, all_column_blocks])
@pytest.mark.parametrize("parts", [1, 2, 3])
@pytest.mark.parametrize("a_order, b_order", [("C", "C"), ("transposed", "C"), ("C", "transposed")])
def test_row_or_column_blocks_of_a_product_make_the_whole_product(blocks, parts, a_order, b_order):
    rng = np.random.default_rng(4)
    a = rng.standard_normal((10, 6)) if a_order == "C" else rng.standard_normal((6, 10)).T
    b = rng.standard_normal((6, 8)) if b_order == "C" else rng.standard_normal((8, 6)).T
    c = rng.standard_normal((10, 8))
    expected = 0.5 * c - 2.0 * a @ b
    blocks(parts, -2.0, a, b, 0.5, c)
    np.testing.assert_allclose(c, expected, rtol=1e-12)


@numba.njit
def all_inner_blocks(parts, alpha, a, b, beta, c, partials):
    for part in range(parts):
        gemm_inner(part, parts, alpha, strided(a), strided(b), beta, c, partials)
    add_partials(c, partials)


@pytest.mark.parametrize("parts", [1, 2, 3, 7])
@pytest.mark.parametrize("a_order, b_order", [("C", "C"), ("transposed", "C"), ("C", "transposed")])
def test_blocks_of_the_summed_dimension_add_up_to_the_whole_product(parts, a_order, b_order):
    """Part 0 scales ``c`` by beta and adds its share; the other parts' shares are added
    after (7 parts of 6: one empty block, whose share is zero)."""
    rng = np.random.default_rng(5)
    a = rng.standard_normal((10, 6)) if a_order == "C" else rng.standard_normal((6, 10)).T
    b = rng.standard_normal((6, 4)) if b_order == "C" else rng.standard_normal((4, 6)).T
    c = rng.standard_normal((10, 4))
    expected = 0.5 * c - 2.0 * a @ b
    all_inner_blocks(parts, -2.0, a, b, 0.5, c, np.full((parts - 1, 10, 4), np.nan))
    np.testing.assert_allclose(c, expected, rtol=1e-12)


def test_gemm_rejects_arrays_of_other_ranks_or_mixed_dtypes():
    with pytest.raises(numba.TypingError, match="2-D"):
        call_gemm(1.0, np.ones(3), np.ones((3, 2)), 0.0, np.ones((1, 2)))
    with pytest.raises(numba.TypingError, match="one dtype"):
        call_gemm(1.0, np.ones((2, 3), np.float32), np.ones((3, 2)), 0.0, np.ones((2, 2)))


# -- folding inside training loops -------------------------------------------------------------
def decaying_sum_step(state, x, y):
    """Sums gradients with decay (the parameters stay): ``s' = 0.9 * s + g``, GEMM's beta."""
    params, sums = state
    value, grads = sg.value_and_grad(mlp_loss)(params, x, y)
    return (params, tuple(0.9 * s + g for s, g in zip(sums, grads))), value


def eager_run(step, state, x, y, steps):
    history = []
    for _ in range(steps):
        state, value = step(state, x, y)
        history.append(float(value))
    return state, history


def gemm_updates(source):
    """(alpha, beta, target) of the generated GEMM calls (``outlined(gemm, (...))``) that
    update a buffer (beta != 0)."""
    loop = source[source.index("def train_loop("):]
    calls = [[a.strip() for a in call.split(",")] for call in re.findall(r"^ *outlined\(gemm, \((.*)\)\)$", loop, re.M)]
    return [(alpha, beta, target) for alpha, _, _, beta, target in calls if beta != "0.0"]


@pytest.mark.parametrize("step, state_of, updated", [
    (mlp_step, lambda w1, w2: (w1, w2), {"v0", "v1"}),
    (decaying_sum_step, lambda w1, w2: ((w1, w2), (np.ones_like(w1), np.ones_like(w2))), {"v2", "v3"}),
])
def test_updates_by_a_gradient_product_fold_into_gemm_and_match_the_eager_loop(step, state_of, updated):
    x, y, w1, w2 = mlp_data()
    state, history = sg.train(step, state_of(w1, w2), data=(x, y), steps=20, progress=False)
    source = sg.compiled_loops(step)[-1].source
    updates = gemm_updates(source)
    assert {target for _, _, target in updates} == updated, source
    expected_state, expected = eager_run(step, state_of(w1, w2), x, y, 20)
    np.testing.assert_allclose(history, expected, rtol=1e-10)
    for ours, theirs in zip(pytree.flatten(state)[0], pytree.flatten(expected_state)[0]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10)


def self_product_step(w, x):
    """w' = w - lr * (w @ x): BLAS would read the buffer it writes, so this must not fold."""
    value = np.sum(w * w)
    return w - 0.01 * (w @ x), value


def test_a_product_that_reads_its_own_target_is_not_folded():
    rng = np.random.default_rng(2)
    w, x = rng.standard_normal((5, 5)), rng.standard_normal((5, 5)) * 0.1
    final, _ = sg.train(self_product_step, w, data=(x,), steps=5, progress=False)
    assert gemm_updates(sg.compiled_loops(self_product_step)[-1].source) == []
    expected = w.copy()
    for _ in range(5):
        expected = expected - 0.01 * (expected @ x)
    np.testing.assert_allclose(final, expected, rtol=1e-12)
