"""Loops on numba's threads (compiler/codegen/threads.py): large elementwise nests run under
prange and large products as row blocks, and the trained numbers equal the eager loop's."""
import numpy as np
import pytest

import symgrad as sg
from compiler.codegen.threads import PARALLEL_WORK, thread_count

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
    source = sg.train.last_loop.source
    assert "for i0 in numba.prange(256):" in source          # the update of the large weight
    # x @ w1 (ROWS rows) and x.T @ grad (256 rows), each split when it has rows for every thread
    splits = sum(rows >= 2 * thread_count() for rows in (ROWS, 256))
    assert source.count("gemm_rows(t, ") == splits
    expected, eager = [], state
    for _ in range(15):
        eager, value = adam_step(eager, x, y)
        expected.append(float(value))
    np.testing.assert_allclose(history, expected, rtol=1e-9)
    for ours, theirs in zip(sg.pytree.flatten(trained)[0], sg.pytree.flatten(eager)[0]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)


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
    assert "prange" not in sg.train.last_loop.source
