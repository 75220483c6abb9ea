"""Loops on numba's threads (compiler/cpu/threads.py, product_epilogues.py): large
elementwise nests run under prange, large products as blocks of rows or of the summed
dimension, a product with the nest that alone reads it; the trained numbers equal the eager
loop's."""
import functools

import numpy as np
import pytest

import symgrad as sg
import symgrad.core.pytree as pytree
from symgrad.compiler.cpu.threads import PARALLEL_WORK, thread_count

pytestmark = pytest.mark.skipif(thread_count() < 2, reason="numba has one thread here")

ROWS, COLUMNS = 64, 300                # the first weight's size
assert 256 * COLUMNS * 14 >= PARALLEL_WORK      # Adam's update: 14 ops an element


def loss(params, x, y):
    w1, w2 = params
    return np.sum((np.maximum(x @ w1, 0) @ w2 - y) ** 2)


def adam_step(state, x, y, lr=1e-3, b1=0.9, b2=0.999, eps=1e-8):
    params, moments, t = state
    value, grads = sg.value_and_grad(loss)(params, x, y)
    t = t + 1
    moments = tuple((b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g)
                    for g, (m, v) in zip(grads, moments))
    params = tuple(p - (lr / (1 - b1 ** t)) * m / (np.sqrt(v) / np.sqrt(1 - b2 ** t) + eps)
                   for p, (m, v) in zip(params, moments))
    return (params, moments, t), value


def test_adam_with_a_large_weight_runs_on_threads_and_matches_the_eager_loop():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((ROWS, 256)), rng.standard_normal((ROWS, 10))
    params = (rng.standard_normal((256, COLUMNS)) * 0.05, rng.standard_normal((COLUMNS, 10)) * 0.05)
    state = adam_state(params)
    trained, history = sg.train(adam_step, state, data=(x, y), steps=15, progress=False)
    source = sg.compiled_loops(adam_step)[-1].source
    # x @ w1: each thread multiplies its rows of w1 (those its part of the update wrote)
    assert source.count("gemm_inner(t, ") == 1
    # x.T @ grad by blocks of rows, each block followed by the update of those rows of w1
    assert source.count("gemm_block(block_start, block_end, ") == 1
    assert "for i0 in range(block_start, block_end):" in source
    expected, eager = [], state
    for _ in range(15):
        eager, value = adam_step(eager, x, y)
        expected.append(float(value))
    np.testing.assert_allclose(history, expected, rtol=1e-9)
    for ours, theirs in zip(pytree.flatten(trained)[0], pytree.flatten(eager)[0]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)


def test_adam_on_a_linear_layer_splits_its_products_by_the_weight_s_rows():
    """``nn.Linear`` keeps its weight as (out, in): ``x @ W.T`` splits by the result's
    columns, ``W``'s rows; ``W.grad`` by rows, each block with its part of the update."""
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((ROWS, 256)), rng.standard_normal((ROWS, COLUMNS))

    def run(step, model):
        history, optimizer = [], sg.optim.Adam(model.parameters(), lr=1e-3)

        def train_step(x, y):
            optimizer.zero_grad()
            loss = ((model(x) - y) ** 2).sum()
            loss.backward()
            optimizer.step()
            return loss
        return step(train_step), model

    def eager(train_step):
        return [float(train_step(sg.tensor(x), sg.tensor(y)).item()) for _ in range(6)]

    def compiled(train_step):
        history = sg.train(train_step, data=(x, y), steps=6, progress=False)
        sources.append(sg.compiled_loops(train_step)[-1].source)
        return history

    sg.manual_seed(0)
    sources = []
    history, trained = run(compiled, sg.nn.Linear(256, COLUMNS).double())
    (source,) = sources
    assert source.count("gemm_columns(t, ") == 1
    assert source.count("gemm_block(block_start, block_end, ") == 1
    sg.manual_seed(0)
    expected, reference = run(eager, sg.nn.Linear(256, COLUMNS).double())
    np.testing.assert_allclose(history, expected, rtol=1e-9)
    for ours, theirs in zip(trained.parameters(), reference.parameters()):
        np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-9, atol=1e-12)


def sgd_step(params, x, y):
    value, grads = sg.value_and_grad(loss)(params, x, y)
    return tuple(p - 1e-4 * np.sign(g) for p, g in zip(params, grads)), value


def adam_state(params):
    return params, tuple((np.zeros_like(w), np.zeros_like(w)) for w in params), 0.0


@pytest.mark.parametrize("step, state_of, size", [
    (adam_step, adam_state, "small"), (sgd_step, lambda p: p, "small"), (sgd_step, lambda p: p, "large")])
def test_small_or_cheap_updates_stay_on_one_thread(step, state_of, size):
    """Small steps, and a large weight's sign-SGD update (4 ops an element), stay serial."""
    rows = 20 if size == "small" else 256
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((16, rows)), rng.standard_normal((16, 3))
    params = (rng.standard_normal((rows, 8 if size == "small" else COLUMNS)),
              rng.standard_normal((8 if size == "small" else COLUMNS, 3)))
    sg.train(step, state_of(params), data=(x, y), steps=2, progress=False)
    assert "prange" not in sg.compiled_loops(step)[-1].source


SIZE = 256          # a SIZE x SIZE product splits by rows; a 9-op update of it is parallel


def product_update_step(state, x, updated):
    """``w' = w - lr * tanh(a @ x) * sqrt(|w| + 1) / (1 + (a @ x)^2)``, written over ``w``
    when ``updated`` is "w", over ``a`` (the product's operand) when it is "a"."""
    w, a = state
    p = a @ x
    old = w if updated == "w" else a
    new = old - 1e-3 * np.tanh(p) * np.sqrt(np.abs(old) + 1.0) / (1.0 + p * p)
    return ((new, a) if updated == "w" else (w, new)), np.sum(w * w)


@pytest.mark.parametrize("updated, fused", [("w", True), ("a", False)])
def test_a_product_runs_with_the_nest_that_reads_it_unless_the_nest_writes_its_operand(updated, fused):
    """Each thread's blocks of ``a @ x`` feed the update at once; when the update overwrites
    ``a`` itself, another thread's block would read rows already written, so the product
    runs first, whole."""
    rng = np.random.default_rng(3)
    w, a = rng.standard_normal((SIZE, SIZE)), rng.standard_normal((SIZE, SIZE)) / 16
    x = rng.standard_normal((SIZE, SIZE)) / 16
    step = functools.partial(product_update_step, updated=updated)
    trained, history = sg.train(step, (w, a), data=(x,), steps=4, progress=False)
    source = sg.compiled_loops(step)[-1].source
    assert ("gemm_block(block_start, " in source) == fused
    assert ("gemm_rows(t, " in source) == (not fused)
    state, expected = (w, a), []
    for _ in range(4):
        state, value = step(state, x)
        expected.append(float(value))
    np.testing.assert_allclose(history, expected, rtol=1e-12)
    for ours, theirs in zip(trained, state):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)
