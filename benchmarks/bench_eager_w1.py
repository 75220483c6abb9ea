"""Eager PyTorch-style W1 step (forward, backward(), SGD update) in symgrad vs PyTorch eager.

The symgrad step records a tape, and backward() runs its compiled gradient graph (compiled
once, on the first step). Run: ``python benchmarks/bench_eager_w1.py``.
"""
import time

import numpy as np

import symgrad
from common import print_table, time_per_call

N, D_in, H, D_out = 64, 1000, 100, 10


def make_step(torch, arrays):
    x, y, w1, w2 = (torch.from_numpy(a.copy()) for a in arrays)
    w1.requires_grad_(); w2.requires_grad_()

    def step():
        loss = (x.mm(w1).clamp(min=0).mm(w2) - y).pow(2).sum()
        loss.backward()
        with torch.no_grad():
            w1.sub_(1e-6 * w1.grad)
            w2.sub_(1e-6 * w2.grad)
            w1.grad.zero_()
            w2.grad.zero_()
    return step


def main():
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s).astype(np.float32)
              for s in ((N, D_in), (N, D_out), (D_in, H), (H, D_out))]
    step = make_step(symgrad, arrays)
    start = time.perf_counter()
    step()
    first = time.perf_counter() - start
    rows = [("symgrad eager (compiled backward)", time_per_call(step))]
    try:
        import torch
        torch.set_num_threads(2)
        rows.append(("PyTorch eager", time_per_call(make_step(torch, arrays))))
        baseline = "PyTorch eager"
    except ImportError:
        baseline = rows[0][0]
    print_table(f"W1 eager step (first symgrad step incl. compile: {first:.2f} s)", rows, baseline)


if __name__ == "__main__":
    main()
