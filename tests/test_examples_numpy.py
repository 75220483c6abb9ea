"""The numpy programs in examples/ (issue 17: autograd-style code run unmodified): their
gradients against central differences in float64, their training against a float64 numpy
reference, and against HIPS autograd running the same program when it is installed."""
import numpy as np
import pytest

import symgrad as sg
from symgrad.core import pytree
from conftest import load_example


def directional_error(f, gradient, params, seed=0, eps=1e-6):
    """|<gradient, d> - central difference of f along d| / scale, for a random direction d."""
    leaves, treedef = pytree.flatten(params)
    rng = np.random.default_rng(seed)
    directions = [rng.standard_normal(np.shape(leaf)) for leaf in leaves]

    def moved(step):
        return pytree.unflatten(treedef, [leaf + step * d for leaf, d in zip(leaves, directions)])
    numeric = (f(moved(eps)) - f(moved(-eps))) / (2 * eps)
    analytic = sum(np.sum(g * d) for g, d in zip(pytree.flatten(gradient)[0], directions))
    return abs(analytic - numeric) / max(1.0, abs(numeric))


def test_logistic_regression_trains_as_its_hand_derived_gradient_does():
    example = load_example("numpy_logistic_regression")
    weights, losses = example.train(steps=100)
    expected = np.zeros(3)
    for _ in range(100):      # d/dw of the negative log-likelihood: X^T (sigmoid(Xw) - t)
        predictions = 1 / (1 + np.exp(-example.INPUTS @ expected))
        expected -= 0.01 * example.INPUTS.T @ (predictions - example.TARGETS)
    np.testing.assert_allclose(weights, expected, rtol=1e-10)
    assert losses[0] == pytest.approx(4 * np.log(2)) and losses[-1] < losses[0]


def test_mlp_objective_of_params_and_iter_has_the_numeric_gradient_for_every_batch():
    example = load_example("numpy_mlp_minibatches")
    inputs, targets = example.make_data(rows=64)
    objective, num_batches = example.objective_for(inputs, targets, batch_size=16)
    params = example.init_random_params(0.1, example.LAYER_SIZES, np.random.RandomState(1))
    gradient = sg.grad(objective)
    for iteration in (0, 1, num_batches + 1):      # iter % num_batches picks the rows
        g = gradient(params, iteration)
        assert directional_error(lambda p: objective(p, iteration), g, params) < 1e-6
    with pytest.raises(AssertionError):            # the check can fail: another batch's rows
        assert directional_error(lambda p: objective(p, 2), gradient(params, 0), params) < 1e-6


def test_mlp_trained_by_adam_matches_autograd_running_the_same_program():
    autograd = pytest.importorskip("autograd")
    import autograd.numpy as anp
    from autograd.scipy.special import logsumexp as autograd_logsumexp
    example = load_example("numpy_mlp_minibatches")
    inputs, targets = example.make_data(rows=64)
    objective, num_batches = example.objective_for(inputs, targets, batch_size=32)
    start = example.init_random_params(0.1, example.LAYER_SIZES, np.random.RandomState(0))
    ours = example.adam(sg.grad(objective), start, num_iters=2 * num_batches, step_size=0.01)
    example.np, example.logsumexp = anp, autograd_logsumexp      # the same text, on autograd
    theirs = example.adam(autograd.grad(objective), start, num_iters=2 * num_batches,
                          step_size=0.01)
    for ours_leaf, theirs_leaf in zip(pytree.flatten(ours)[0], pytree.flatten(theirs)[0]):
        np.testing.assert_allclose(ours_leaf, theirs_leaf, rtol=1e-9, atol=1e-12)


def char_rnn_loss():
    """The char RNN example, its loss on six characters of its text, and small parameters."""
    example = load_example("numpy_char_rnn")
    alphabet = sorted(set("".join(example.TEXT)) | {" "})
    inputs = example.one_hot_text(example.TEXT, alphabet, 6)
    params = example.create_rnn_params(len(alphabet), 8, len(alphabet), 0.3,
                                       np.random.RandomState(2))

    def loss(p):
        return -example.rnn_log_likelihood(p, inputs, inputs)
    return example, loss, params


def test_char_rnn_gradient_is_numeric_and_training_lowers_the_loss():
    example, loss, params = char_rnn_loss()
    assert directional_error(loss, sg.grad(loss)(params), params) < 1e-6
    _, losses = example.train(steps=8, state_size=8, length=6)
    assert all(later < earlier for earlier, later in zip(losses, losses[1:]))


def test_char_rnn_gradient_matches_autograd():
    autograd = pytest.importorskip("autograd")
    import autograd.numpy as anp
    from autograd.scipy.special import logsumexp as autograd_logsumexp
    example, loss, params = char_rnn_loss()
    ours = sg.grad(loss)(params)
    example.np, example.logsumexp = anp, autograd_logsumexp
    theirs = autograd.grad(loss)(params)
    for name in params:
        np.testing.assert_allclose(ours[name], theirs[name], rtol=1e-9, atol=1e-12)
