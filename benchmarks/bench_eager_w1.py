"""Eager PyTorch-style W1 steps: symgrad vs PyTorch eager, same code with `torch` swapped.

Two loops: tensors and a manual update (seed 002), and ``TwoLayerNet(nn.Module)`` with
``optim.SGD`` (seed 000). symgrad's ``backward()`` runs a compiled gradient graph (compiled
on the first step; reported separately). Each variant runs in a fresh process so no
library's idle threads disturb another's, twice (``common.best_of_two_passes``).
Run: ``python benchmarks/bench_eager_w1.py``.
"""
import json
import os
import subprocess
import sys
import time

import numpy as np

# Steady state: every call waits for its compiled code (bench_compile.py measures first calls,
# which the interpreter tier answers while the compile runs in the background).
os.environ.setdefault("SYMGRAD_COMPILE_IN_BACKGROUND", "0")

from common import best_of_two_passes, print_table, time_per_call

N, D_in, H, D_out = 64, 1000, 100, 10


def arrays():
    rng = np.random.default_rng(0)
    return [rng.standard_normal(s).astype(np.float32)
            for s in ((N, D_in), (N, D_out), (D_in, H), (H, D_out))]


def manual_step(torch):
    x, y, w1, w2 = (torch.from_numpy(a.copy()) for a in arrays())
    w1.requires_grad_()
    w2.requires_grad_()

    def step():
        loss = (x.mm(w1).clamp(min=0).mm(w2) - y).pow(2).sum()
        loss.backward()
        with torch.no_grad():
            w1.sub_(1e-6 * w1.grad)
            w2.sub_(1e-6 * w2.grad)
            w1.grad.zero_()
            w2.grad.zero_()
    return step


def module_step(torch):
    nn, optim = torch.nn, torch.optim

    class TwoLayerNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear1 = nn.Linear(D_in, H)
            self.linear2 = nn.Linear(H, D_out)

        def forward(self, x):
            return self.linear2(self.linear1(x).clamp(min=0))
    x, y = (torch.from_numpy(a.copy()) for a in arrays()[:2])
    model = TwoLayerNet()
    criterion = nn.MSELoss(reduction="sum")
    optimizer = optim.SGD(model.parameters(), lr=1e-4)

    def step():
        loss = criterion(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return step


VARIANTS = {"manual update": manual_step, "TwoLayerNet + optim.SGD": module_step}
LIBRARIES = ["symgrad", "PyTorch eager", "PyTorch eager (1 thread)"]


def measure_one(library, variant):
    if library == "symgrad":
        import symgrad as torch
    else:
        import torch
        if "1 thread" in library:
            torch.set_num_threads(1)
    step = VARIANTS[variant](torch)
    start = time.perf_counter()
    step()
    first = time.perf_counter() - start
    print(json.dumps([time_per_call(step), first]))


def measure_in_a_new_process(library, variant):
    done = subprocess.run([sys.executable, __file__, library, variant], capture_output=True,
                          text=True)
    if done.returncode != 0:
        return None            # PyTorch not installed
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    for variant in VARIANTS:
        best = best_of_two_passes(LIBRARIES, lambda library: measure_in_a_new_process(library, variant))
        note = f" (symgrad first step incl. compile: {best['symgrad'][1]:.2f} s)"
        rows = [(library, best[library][0]) for library in LIBRARIES if library in best]
        print_table(f"W1 eager step, {variant}{note}", rows,
                    "PyTorch eager" if len(rows) > 1 else "symgrad")


if __name__ == "__main__":
    if len(sys.argv) == 3:
        measure_one(*sys.argv[1:])
    else:
        main()
