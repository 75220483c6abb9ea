"""W1 (seed 002's two-layer MLP, float32): one gradient-descent step, timed against baselines.

symgrad: ``sg.value_and_grad`` compiled once, called from a Python loop with a numpy update.
Baselines in the same run: numpy by hand (seed 002), and PyTorch / JAX when installed.
Run: ``python benchmarks/bench_w1.py``.
"""
import time

import numpy as np

import symgrad as sg
from common import print_table, sgemm_flops_per_second, time_per_call

N, D_in, H, D_out = 64, 1000, 100, 10
LR = np.float32(1e-6)


def loss(w1, w2, x, y):
    h_relu = np.maximum(x.dot(w1), 0)
    return np.square(h_relu.dot(w2) - y).sum()


def make_data():
    rng = np.random.default_rng(0)
    return [rng.standard_normal(s).astype(np.float32)
            for s in ((D_in, H), (H, D_out), (N, D_in), (N, D_out))]


def numpy_step(w1, w2, x, y):
    h = x.dot(w1)
    h_relu = np.maximum(h, 0)
    y_pred = h_relu.dot(w2)
    grad_y_pred = 2.0 * (y_pred - y)
    grad_w2 = h_relu.T.dot(grad_y_pred)
    grad_h = grad_y_pred.dot(w2.T)
    grad_h[h < 0] = 0
    grad_w1 = x.T.dot(grad_h)
    w1 -= LR * grad_w1
    w2 -= LR * grad_w2


def symgrad_step_factory():
    value_and_grad = sg.value_and_grad(loss, argnums=(0, 1))

    def step(w1, w2, x, y):
        _, (grad_w1, grad_w2) = value_and_grad(w1, w2, x, y)
        w1 -= LR * grad_w1
        w2 -= LR * grad_w2
    return step


def torch_rows(data):
    try:
        import torch
    except ImportError:
        return []
    torch.set_num_threads(2)
    w1, w2, x, y = (torch.from_numpy(a.copy()) for a in data)
    w1.requires_grad_()
    w2.requires_grad_()

    def step():
        loss_value = (x.mm(w1).clamp(min=0).mm(w2) - y).pow(2).sum()
        loss_value.backward()
        with torch.no_grad():
            w1.sub_(1e-6 * w1.grad)
            w2.sub_(1e-6 * w2.grad)
            w1.grad.zero_()
            w2.grad.zero_()
    return [("PyTorch eager", time_per_call(step))]


def main():
    data = make_data()
    flops = 2 * N * D_in * H * 3 + 2 * N * H * D_out * 3
    floor = flops / sgemm_flops_per_second()
    start = time.perf_counter()
    step = symgrad_step_factory()
    step(*[a.copy() for a in data])
    compile_seconds = time.perf_counter() - start
    rows = [("numpy by hand", time_per_call(lambda w=[a.copy() for a in data]: numpy_step(*w))),
            ("symgrad value_and_grad + numpy update",
             time_per_call(lambda w=[a.copy() for a in data]: step(*w)))]
    rows += torch_rows(data)
    rows.append(("BLAS floor (FLOPs / sgemm FLOP/s)", floor))
    print_table(f"W1 step, N={N} D_in={D_in} H={H} D_out={D_out}, float32 "
                f"(symgrad first call incl. compile: {compile_seconds:.2f} s)", rows, "numpy by hand")


if __name__ == "__main__":
    main()
