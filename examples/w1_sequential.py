"""W1 as ``nn.Sequential(Linear, ReLU, Linear)`` + ``MSELoss(reduction='sum')`` with a
manual gradient-descent update (seeds 000 and 002), written as the PyTorch program would be
with ``import symgrad as torch``.

Run: ``python examples/w1_sequential.py``.
"""
import time

import symgrad as torch
from symgrad import nn

N, D_in, H, D_out = 64, 1000, 100, 10


def make_data(seed=0):
    """Random input and target, from symgrad's global generator seeded with ``seed``."""
    torch.manual_seed(seed)
    x = torch.randn(N, D_in)
    y = torch.randn(N, D_out)
    return x, y


def build_model():
    return nn.Sequential(
        nn.Linear(D_in, H),
        nn.ReLU(),
        nn.Linear(H, D_out),
    )


def train(model, x, y, steps=500, learning_rate=1e-4, report_every=100):
    """Gradient descent on the summed squared error; returns the loss of every step."""
    loss_fn = nn.MSELoss(reduction="sum")
    history = []
    for t in range(steps):
        y_pred = model(x)
        loss = loss_fn(y_pred, y)
        history.append(loss.item())
        if report_every and t % report_every == report_every - 1:
            print(t, loss.item())
        model.zero_grad()
        loss.backward()
        with torch.no_grad():
            for param in model.parameters():
                param -= learning_rate * param.grad
    return history


def main(steps=500):
    x, y = make_data()
    model = build_model()
    print(model)
    start = time.perf_counter()
    history = train(model, x, y, steps=steps)
    print(f"loss {history[0]:.6g} -> {history[-1]:.6g} after {steps} steps "
          f"({time.perf_counter() - start:.2f} s)")
    return history


if __name__ == "__main__":
    main()
