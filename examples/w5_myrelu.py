"""W5: a custom differentiable ``MyReLU`` (``autograd.Function`` with ``forward(ctx, x)`` and
``backward(ctx, grad)``) used inside the W1 network (seed 002). Its ``backward`` is the one
that runs.

Run: ``python examples/w5_myrelu.py``.
"""
import time

import symgrad as torch

N, D_in, H, D_out = 64, 1000, 100, 10


class MyReLU(torch.autograd.Function):
    """ReLU with a hand-written backward."""

    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return input.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        grad_input = grad_output.clone()
        grad_input[input < 0] = 0
        return grad_input


def make_data(seed=0):
    torch.manual_seed(seed)
    x = torch.randn(N, D_in)
    y = torch.randn(N, D_out)
    w1 = torch.randn(D_in, H, requires_grad=True)
    w2 = torch.randn(H, D_out, requires_grad=True)
    return x, y, w1, w2


def train(x, y, w1, w2, steps=500, learning_rate=1e-6, report_every=100):
    """Gradient descent through MyReLU; updates w1, w2 in place; returns the losses."""
    history = []
    for t in range(steps):
        relu = MyReLU.apply
        y_pred = relu(x.mm(w1)).mm(w2)
        loss = (y_pred - y).pow(2).sum()
        history.append(loss.item())
        if report_every and t % report_every == report_every - 1:
            print(t, loss.item())
        loss.backward()
        with torch.no_grad():
            w1 -= learning_rate * w1.grad
            w2 -= learning_rate * w2.grad
            w1.grad.zero_()
            w2.grad.zero_()
    return history


def train_compiled(x, y, w1, w2, steps=500, learning_rate=1e-6):
    """The same loop as one compiled ``symgrad.training.loop`` call: MyReLU.backward is traced into
    the step's gradient graph, so the custom backward runs inside the native loop too."""
    def step(x, y):
        loss = (MyReLU.apply(x.mm(w1)).mm(w2) - y).pow(2).sum()
        loss.backward()
        with torch.no_grad():
            w1.sub_(learning_rate * w1.grad)
            w2.sub_(learning_rate * w2.grad)
            w1.grad.zero_()
            w2.grad.zero_()
        return loss
    return torch.train(step, data=(x, y), steps=steps, progress=False)


def main(steps=500):
    x, y, w1, w2 = make_data()
    start = time.perf_counter()
    history = train(x, y, w1, w2, steps=steps)
    print(f"loss {history[0]:.6g} -> {history[-1]:.6g} after {steps} steps "
          f"({time.perf_counter() - start:.2f} s)")
    x, y, w1, w2 = make_data()
    start = time.perf_counter()
    compiled = train_compiled(x, y, w1, w2, steps=steps)
    print(f"compiled loop: loss {compiled[0]:.6g} -> {compiled[-1]:.6g} "
          f"({time.perf_counter() - start:.2f} s including compilation)")
    return history


if __name__ == "__main__":
    main()
