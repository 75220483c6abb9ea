"""W3: scalar linear regression y = w * x by per-sample gradient descent (seed 003).

x = [1, 2, 3], y = [2, 4, 6], w starts at 1.0, learning rate 0.01, 100 epochs. Prints the
prediction for x = 4 before and after training (about 8.0), the gradient of every sample and
the loss of every epoch, and saves the loss curve as a PNG when matplotlib is installed.

Run: ``python examples/w3_regression.py [loss_curve.png]``.
"""
import sys

import numpy as np

import symgrad as torch

x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]


def forward(w, x):
    return x * w


def loss(w, x, y):
    y_pred = forward(w, x)
    return (y_pred - y) ** 2


def train(epochs=100, learning_rate=0.01, verbose=True):
    """Returns (w, epochs, last loss of each epoch, prediction for 4 before, after)."""
    w = torch.tensor([1.0], requires_grad=True)
    before = forward(w, 4).item()
    if verbose:
        print("predict (before training)", 4, before)
    epoch_list, loss_list = [], []
    for epoch in range(epochs):
        for x, y in zip(x_data, y_data):
            l = loss(w, x, y)
            l.backward()
            if verbose:
                print("\tgrad:", x, y, w.grad.item())
            w.data = w.data - learning_rate * w.grad.data
            w.grad.data.zero_()          # gradients accumulate otherwise
        epoch_list.append(epoch)
        loss_list.append(l.item())
        if verbose:
            print("progress:", epoch, l.item())
    after = forward(w, 4).item()
    if verbose:
        print("predict (after training)", 4, after)
    return w, epoch_list, loss_list, before, after


def train_compiled(epochs=100, learning_rate=0.01):
    """The same per-sample loop as one compiled ``symgrad.training.loop`` call (a native loop over
    300 steps). Returns (w, last loss of each epoch, prediction for 4 after)."""
    w = torch.tensor([1.0], requires_grad=True)

    def step(x, y):
        l = loss(w, x, y)
        l.backward()
        w.data = w.data - learning_rate * w.grad.data
        w.grad.data.zero_()
        return l

    data = (np.array(x_data, np.float32), np.array(y_data, np.float32))
    history = torch.train(step, data=data, epochs=epochs, progress=False)
    per_epoch = history[len(x_data) - 1::len(x_data)]
    return w, per_epoch, forward(w, 4).item()


def plot(epoch_list, loss_list, path="w3_loss.png"):
    """Save the loss curve; returns the path, or None when matplotlib is not installed."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: skipping the loss curve "
              "(pip install matplotlib to get it)")
        return None
    figure, axes = plt.subplots(figsize=(6, 4))
    axes.plot(epoch_list, loss_list)
    axes.set_yscale("log")
    axes.set_xlabel("epoch")
    axes.set_ylabel("loss (last sample of the epoch)")
    axes.set_title("W3: y = w * x, per-sample SGD, lr = 0.01")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    print(f"wrote {path}")
    return path


def main(path="w3_loss.png"):
    _, epoch_list, loss_list, _, _ = train()
    _, compiled_losses, after = train_compiled()
    print(f"compiled loop (symgrad.training.loop): predict 4 -> {after:.6f}, "
          f"last epoch loss {compiled_losses[-1]:.3g}")
    plot(epoch_list, loss_list, path)


if __name__ == "__main__":
    main(*sys.argv[1:2])
