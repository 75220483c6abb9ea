"""Logistic regression in plain numpy, differentiated by ``sg.grad`` (HIPS autograd's
``examples/logistic_regression.py``, unchanged but for the import).

Run: ``python examples/numpy_logistic_regression.py``.
"""
import numpy as np

import symgrad as sg

INPUTS = np.array([[0.52, 1.12, 0.77],
                   [0.88, -1.08, 0.15],
                   [0.52, 0.06, -1.30],
                   [0.74, -2.49, 1.39]])
TARGETS = np.array([True, True, False, True])


def sigmoid(x):
    return 0.5 * (np.tanh(x / 2.0) + 1)


def logistic_predictions(weights, inputs):
    return sigmoid(np.dot(inputs, weights))


def training_loss(weights, inputs=INPUTS, targets=TARGETS):
    """Negative log-likelihood of the training labels."""
    preds = logistic_predictions(weights, inputs)
    label_probabilities = preds * targets + (1 - preds) * (1 - targets)
    return -np.sum(np.log(label_probabilities))


def train(steps=100, step_size=0.01):
    training_gradient = sg.grad(training_loss)
    weights = np.array([0.0, 0.0, 0.0])
    losses = []
    for _ in range(steps):
        losses.append(float(training_loss(weights)))
        weights -= training_gradient(weights) * step_size
    return weights, losses


if __name__ == "__main__":
    weights, losses = train()
    print(f"initial loss {losses[0]:.6f}, trained loss {training_loss(weights):.6f}")
    print("trained weights", weights)
