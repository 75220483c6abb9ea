"""Static arguments (symgrad/static_arguments.py): non-differentiated Python ints are static by
default, ``static_argnums``/``static_argnames`` as in JAX; and ``np.random`` inside a traced
function draws constants, as in autograd."""
import logging

import numpy as np
import pytest

import symgrad as sg

from conftest import assert_same

REF = "reference"
RNG = np.random.default_rng(0)
IMAGES, LABELS = RNG.standard_normal((6, 4)), np.eye(3)[RNG.integers(0, 3, 6)]
BATCH_SIZE, NUM_BATCHES = 3, 2


def batch_indices(iter):  # noqa: A002 - autograd's example names it so
    index = iter % NUM_BATCHES
    return slice(index * BATCH_SIZE, (index + 1) * BATCH_SIZE)


def objective(params, iter):  # noqa: A002
    """HIPS autograd's neural_net.py objective: a minibatch picked by ``iter``, a
    logsumexp-normalized log-softmax, an L2 penalty."""
    (w1, b1), (w2, b2) = params
    index = batch_indices(iter)
    hidden = np.tanh(IMAGES[index] @ w1 + b1)
    outputs = hidden @ w2 + b2
    log_probabilities = outputs - sg.logsumexp(outputs, axis=1, keepdims=True)
    penalty = sum(np.sum(w ** 2) for w, _ in params)
    return -np.sum(log_probabilities * LABELS[index]) / BATCH_SIZE + 0.1 * penalty


def initial_params():
    rng = np.random.default_rng(1)
    return [(rng.standard_normal((4, 5)) * 0.5, np.zeros(5)),
            (rng.standard_normal((5, 3)) * 0.5, np.zeros(3))]


def test_autograd_minibatch_objective_matches_finite_differences():
    (w1, b1), (w2, b2) = initial_params()
    for iter in range(3):  # noqa: A001
        sg.check_grad(lambda w1, b1, w2, b2: objective([(w1, b1), (w2, b2)], iter),
                      w1, b1 + 0.1, w2, b2 - 0.2, order=1, backend=REF)


@pytest.mark.numba
def test_a_new_static_value_compiles_once_per_value():
    gradient = sg.grad(objective)
    params = initial_params()
    for iter in range(2 * NUM_BATCHES):  # noqa: A001
        expected = sg.grad(objective, backend=REF)(params, iter)
        assert_same(gradient(params, iter), expected)
    assert len(gradient.cache) == 2 * NUM_BATCHES       # one per value of iter
    assert_same(gradient(params, 0), sg.grad(objective, backend=REF)(params, 0))
    assert len(gradient.cache) == 2 * NUM_BATCHES       # a value seen before is reused


def test_the_compile_log_names_the_static_value(caplog):
    caplog.set_level(logging.INFO, logger="symgrad.compile")
    f = sg.jit(lambda x, n: x[:n].sum(), backend=REF)
    assert float(f(np.arange(4.0), 2)) == 1.0 and float(f(np.arange(4.0), 3)) == 3.0
    assert "n static value 2 -> static value 3" in caplog.text


def test_static_argnums_and_argnames_as_in_jax():
    scale = sg.jit(lambda x, factor: x * factor, static_argnums=1, backend=REF)
    assert_same(scale(np.ones(2), 3.0), np.full(2, 3.0))
    assert len(scale.cache) == 1 and scale(np.ones(2), 4.0)[0] == 4.0 and len(scale.cache) == 2

    def mode_loss(x, mode="square"):
        return np.sum(x * x) if mode == "square" else np.sum(np.abs(x))

    dx = sg.grad(mode_loss, static_argnames="mode", backend=REF)
    assert_same(dx(np.array([1.0, -2.0]), mode="square"), np.array([2.0, -4.0]))
    assert_same(dx(np.array([1.0, -2.0]), mode="abs"), np.array([1.0, -1.0]))
    # a static_argnames argument passed by position is static too
    assert_same(sg.value_and_grad(mode_loss, static_argnames="mode", backend=REF)(
        np.array([3.0]), "abs"), (np.array(3.0), np.array([1.0])))


def test_an_unhashable_static_argument_is_refused():
    with pytest.raises(sg.TracingError, match="must be hashable"):
        sg.jit(lambda x, shape: x.reshape(shape), static_argnums=1, backend=REF)(
            np.ones(4), [2, 2])


def test_a_differentiated_argument_is_never_static():
    with pytest.raises(sg.TracingError, match="only floating-point"):
        sg.grad(lambda x, n: x * n, argnums=1, backend=REF)(2.0, 3)


def test_numpy_random_inside_a_traced_function_is_a_constant():
    np.random.seed(0)
    f = sg.jit(lambda w: np.sum(w * np.random.randn(3)), backend=REF)
    first = f(np.ones(3))
    np.random.seed(0)
    assert first == np.sum(np.random.randn(3))       # drawn when traced, as autograd does
    assert f(np.ones(3)) == first                     # the graph keeps that draw
    noise = np.random.default_rng(2).standard_normal(3)
    assert_same(sg.grad(lambda w: np.sum(w * noise + 0 * np.random.rand(3)), backend=REF)(
        np.ones(3)), noise)


@pytest.mark.numba
def test_static_values_that_trace_one_graph_compile_once_and_do_not_warn(recwarn):
    def loss(x, iter):  # noqa: A002 - autograd's name
        return np.sum(x * (iter % 2 + 1))       # iter picks one of two graphs
    gradient = sg.grad(loss)
    for iter in range(20):  # noqa: A001
        assert_same(gradient(np.ones(3), iter), np.full(3, iter % 2 + 1.0))
    assert len(gradient.cache) == 20 and len(gradient.by_graph) == 2
    assert not [w for w in recwarn if "has been compiled" in str(w.message)]
