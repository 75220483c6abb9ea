"""Workload W1 (seed 002): the two-layer ReLU network in plain numpy, differentiated by
``sg.grad`` instead of the hand-written backprop, on both backends.

The loss is the seed's forward pass, unmodified (``x.dot(w1)`` with data ``x``);
``hand_backprop`` is the seed's hand-derived gradient.
"""
import numpy as np
import pytest

import symgrad as sg

N, D_IN, H, D_OUT = 64, 1000, 100, 10
LEARNING_RATE = 1e-6
STEPS = 500


def loss(w1, w2, x, y):
    h = x.dot(w1)
    h_relu = np.maximum(h, 0)
    y_pred = h_relu.dot(w2)
    return np.square(y_pred - y).sum()


def hand_backprop(w1, w2, x, y):
    """Seed 002's gradients, derived by hand."""
    h = x.dot(w1)
    h_relu = np.maximum(h, 0)
    y_pred = h_relu.dot(w2)
    grad_y_pred = 2.0 * (y_pred - y)
    grad_w2 = h_relu.T.dot(grad_y_pred)
    grad_h_relu = grad_y_pred.dot(w2.T)
    grad_h = grad_h_relu.copy()
    grad_h[h < 0] = 0
    grad_w1 = x.T.dot(grad_h)
    return grad_w1, grad_w2


def seed_data(dtype=np.float64):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((N, D_IN))
    y = rng.standard_normal((N, D_OUT))
    w1 = rng.standard_normal((D_IN, H))
    w2 = rng.standard_normal((H, D_OUT))
    return [a.astype(dtype) for a in (w1, w2, x, y)]


def assert_close_relative(actual, expected, rtol):
    """Elementwise, relative to the largest entry (entries near zero cancel)."""
    assert actual.shape == expected.shape and actual.dtype == expected.dtype
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * np.abs(expected).max())


def test_gradient_matches_hand_derived_backprop(backend):
    w1, w2, x, y = seed_data()
    grad_w1, grad_w2 = sg.grad(loss, argnums=(0, 1), backend=backend)(w1, w2, x, y)
    hand_w1, hand_w2 = hand_backprop(w1, w2, x, y)
    assert_close_relative(grad_w1, hand_w1, 1e-5)
    assert_close_relative(grad_w2, hand_w2, 1e-5)
    value = sg.jit(loss, backend=backend)(w1, w2, x, y)
    assert float(value) == pytest.approx(float(loss(w1, w2, x, y)), rel=1e-12)


def test_gradient_in_float32_stays_float32(backend):
    args = seed_data(np.float32)
    grad_w1, grad_w2 = sg.grad(loss, argnums=(0, 1), backend=backend)(*args)
    hand_w1, hand_w2 = hand_backprop(*args)
    assert_close_relative(grad_w1, hand_w1, 1e-4)
    assert_close_relative(grad_w2, hand_w2, 1e-4)


def train_by_hand(w1, w2, x, y):
    for _ in range(STEPS):
        grad_w1, grad_w2 = hand_backprop(w1, w2, x, y)
        w1 -= LEARNING_RATE * grad_w1
        w2 -= LEARNING_RATE * grad_w2
    return loss(w1, w2, x, y)


def train_with_symgrad(w1, w2, x, y, backend):
    gradient = sg.grad(loss, argnums=(0, 1), backend=backend)
    for _ in range(STEPS):
        grad_w1, grad_w2 = gradient(w1, w2, x, y)
        w1 -= LEARNING_RATE * grad_w1
        w2 -= LEARNING_RATE * grad_w2
    return loss(w1, w2, x, y)


def test_500_steps_of_gradient_descent_match_the_hand_written_loop(backend):
    initial = loss(*seed_data())
    by_hand = train_by_hand(*seed_data())
    with_symgrad = train_with_symgrad(*seed_data(), backend=backend)
    assert by_hand < initial / 100          # the loop really trains
    assert with_symgrad == pytest.approx(by_hand, rel=1e-6)
