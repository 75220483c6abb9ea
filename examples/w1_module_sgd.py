"""W1 as a ``TwoLayerNet(nn.Module)`` trained by ``optim.SGD(lr=1e-4)`` (seeds 000, 002),
written as the PyTorch program would be with ``import symgrad as torch``.

Run: ``python examples/w1_module_sgd.py``.
"""
import time

import symgrad as torch
from symgrad import nn, optim

N, D_in, H, D_out = 64, 1000, 100, 10


class TwoLayerNet(nn.Module):
    def __init__(self, D_in, H, D_out):
        """Two nn.Linear modules assigned as attributes: registered as submodules."""
        super().__init__()
        self.linear1 = nn.Linear(D_in, H)
        self.linear2 = nn.Linear(H, D_out)

    def forward(self, x):
        h_relu = self.linear1(x).clamp(min=0)
        y_pred = self.linear2(h_relu)
        return y_pred


def make_data(seed=0):
    torch.manual_seed(seed)
    x = torch.randn(N, D_in)
    y = torch.randn(N, D_out)
    return x, y


def train(model, x, y, steps=500, learning_rate=1e-4, report_every=100):
    """``optimizer.zero_grad(); loss.backward(); optimizer.step()``; returns the losses."""
    criterion = nn.MSELoss(reduction="sum")
    optimizer = optim.SGD(model.parameters(), lr=learning_rate)
    history = []
    for t in range(steps):
        y_pred = model(x)
        loss = criterion(y_pred, y)
        history.append(loss.item())
        if report_every and t % report_every == report_every - 1:
            print(t, loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return history


def main(steps=500):
    x, y = make_data()
    model = TwoLayerNet(D_in, H, D_out)
    print(model)
    start = time.perf_counter()
    history = train(model, x, y, steps=steps)
    print(f"loss {history[0]:.6g} -> {history[-1]:.6g} after {steps} steps "
          f"({time.perf_counter() - start:.2f} s)")
    return history


if __name__ == "__main__":
    main()
