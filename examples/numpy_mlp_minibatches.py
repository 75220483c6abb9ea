"""A multi-layer perceptron classifier in plain numpy, trained by Adam on minibatches that
the objective picks by its iteration number (HIPS autograd's ``examples/neural_net.py``,
on a synthetic dataset instead of MNIST). ``iter`` is a Python int that is not
differentiated: ``sg.grad`` treats it as static, and it selects rows with ``%`` and a slice.

Run: ``python examples/numpy_mlp_minibatches.py``.
"""
import numpy as np
import symgrad as sg
from symgrad import logsumexp     # scipy.special.logsumexp's signature, on traced values

LAYER_SIZES = [20, 32, 16, 4]
BATCH_SIZE = 32


def make_data(rows=256, seed=0):
    """Points in 20 dimensions, labelled (one-hot) by which of 4 random centres is nearest."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((LAYER_SIZES[-1], LAYER_SIZES[0]))
    inputs = rng.standard_normal((rows, LAYER_SIZES[0]))
    labels = np.argmin(((inputs[:, None, :] - centres) ** 2).sum(-1), axis=1)
    return inputs, np.eye(LAYER_SIZES[-1])[labels]


def init_random_params(scale, layer_sizes, rs=np.random.RandomState(0)):
    """A list of (weights, biases) tuples, one for each layer."""
    return [(scale * rs.randn(m, n), scale * rs.randn(n))
            for m, n in zip(layer_sizes[:-1], layer_sizes[1:])]


def neural_net_predict(params, inputs):
    """Normalized class log-probabilities of ``inputs`` (N x D)."""
    for W, b in params:
        outputs = np.dot(inputs, W) + b
        inputs = np.tanh(outputs)
    return outputs - logsumexp(outputs, axis=1, keepdims=True)


def l2_norm(params):
    flattened = np.concatenate([np.ravel(p) for layer in params for p in layer])
    return np.dot(flattened, flattened)


def log_posterior(params, inputs, targets, L2_reg):
    log_prior = -L2_reg * l2_norm(params)
    log_lik = np.sum(neural_net_predict(params, inputs) * targets)
    return log_prior + log_lik


def accuracy(params, inputs, targets):
    target_class = np.argmax(targets, axis=1)
    predicted_class = np.argmax(neural_net_predict(params, inputs), axis=1)
    return np.mean(predicted_class == target_class)


def adam(grad, params, num_iters, step_size=0.001, b1=0.9, b2=0.999, eps=1e-8):
    """Adam over a list of (W, b) tuples; ``grad(params, i)`` gives the gradient at step i."""
    m = [[np.zeros_like(p) for p in layer] for layer in params]
    v = [[np.zeros_like(p) for p in layer] for layer in params]
    params = [list(layer) for layer in params]
    for i in range(num_iters):
        g = grad(params, i)
        for layer, g_layer, m_layer, v_layer in zip(params, g, m, v):
            for k, gk in enumerate(g_layer):
                m_layer[k] = (1 - b1) * gk + b1 * m_layer[k]
                v_layer[k] = (1 - b2) * gk ** 2 + b2 * v_layer[k]
                m_hat = m_layer[k] / (1 - b1 ** (i + 1))
                v_hat = v_layer[k] / (1 - b2 ** (i + 1))
                layer[k] = layer[k] - step_size * m_hat / (np.sqrt(v_hat) + eps)
    return params


def objective_for(inputs, targets, L2_reg=0.01, batch_size=BATCH_SIZE):
    num_batches = int(np.ceil(len(inputs) / batch_size))

    def batch_indices(iter):
        idx = iter % num_batches
        return slice(idx * batch_size, (idx + 1) * batch_size)

    def objective(params, iter):
        idx = batch_indices(iter)
        return -log_posterior(params, inputs[idx], targets[idx], L2_reg)
    return objective, num_batches


def train(epochs=5, step_size=0.01):
    inputs, targets = make_data()
    objective, num_batches = objective_for(inputs, targets)
    params = adam(sg.grad(objective), init_random_params(0.1, LAYER_SIZES),
                  num_iters=epochs * num_batches, step_size=step_size)
    return params, accuracy(params, inputs, targets)


if __name__ == "__main__":
    params, train_accuracy = train()
    print(f"train accuracy after 5 epochs: {train_accuracy:.3f}")
