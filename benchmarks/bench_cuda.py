"""The CUDA backend against PyTorch on the GPU: W1 (SGD) and W2 (Adam) at the seed's size
and at N = D_in = H = 4096, W4 (LeNet) at batch 64; float32.

Per workload, in one run: symgrad's ``sg.train(..., device="cuda")`` (µs per step from the
difference of a long and a short run, so tracing and compiling are excluded; the first
call's time reported apart), PyTorch eager on CUDA, and for W1/W2 the cuBLAS floor (the
step's five matrix products through torch.mm). Ratios are to PyTorch eager.
Run: ``python benchmarks/bench_cuda.py`` on a machine with a GPU, PyTorch (CUDA) and
numba-cuda; ``NUMBA_ENABLE_CUDASIM=1 python benchmarks/bench_cuda.py --tiny`` checks the
script under numba's simulator (W1/W2 at tiny sizes, symgrad only).
"""
import os
import sys
import time

import numpy as np

from bench_train import symgrad_adam_step, symgrad_sgd_step
from bench_w4 import data as lenet_data
from common import print_table, torch_w1_step

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "examples"))

SIZES = {"W1/W2": (64, 1000, 100, 10), "W1/W2 large": (4096, 4096, 4096, 10)}
TINY = {"W1/W2": (4, 6, 5, 3)}


def arrays(n, d_in, h, d_out):
    rng = np.random.default_rng(0)
    return [rng.standard_normal(s).astype(np.float32)
            for s in ((n, d_in), (n, d_out), (d_in, h), (h, d_out))]


def seconds_per_step(run, short, long):
    """(seconds per step, first-call seconds) of ``run(steps)``: best of three long minus
    best of three short runs, over the steps between them."""
    start = time.perf_counter()
    run(short)
    first = time.perf_counter() - start

    def best(steps):
        times = []
        for _ in range(3):
            start = time.perf_counter()
            run(steps)
            times.append(time.perf_counter() - start)
        return min(times)
    return (best(long) - best(short)) / (long - short), first


# -- symgrad ---------------------------------------------------------------------------------------
def symgrad_w1(data, optimizer, short, long):
    import symgrad as sg
    x, y, w1, w2 = data
    if optimizer == "sgd":
        state, step = (w1, w2), symgrad_sgd_step
    else:
        zeros = tuple((np.zeros_like(w), np.zeros_like(w)) for w in (w1, w2))
        state, step = ((w1, w2), zeros, np.float32(0)), symgrad_adam_step
    return seconds_per_step(lambda steps: sg.train(step, state, data=(x, y), steps=steps,
                                                   progress=False, device="cuda"), short, long)


def symgrad_w4(batch, short, long):
    import symgrad as sg
    import w4_lenet
    sg.manual_seed(0)
    step = w4_lenet.training_step(w4_lenet.Net().cuda())
    x, y = lenet_data(batch)
    return seconds_per_step(lambda steps: sg.train(step, data=(x, y), steps=steps, progress=False),
                            short, long)


# -- PyTorch on the GPU -----------------------------------------------------------------------------
def torch_cuda():
    try:
        import torch
    except ImportError:
        return None
    return torch if torch.cuda.is_available() else None


def torch_timed(torch, step, short, long):
    def run(steps):
        for _ in range(steps):
            step()
        torch.cuda.synchronize()
    return seconds_per_step(run, short, long)


def torch_w1(torch, data, optimizer, short, long):
    step = torch_w1_step(torch, *(torch.from_numpy(a).cuda() for a in data), optimizer)
    return torch_timed(torch, step, short, long)


def cublas_floor(torch, data, short, long):
    """The W1 step's five products (x@w1, h@w2; h.T@g, g@w2.T, x.T@gh) through torch.mm."""
    x, y, w1, w2 = (torch.from_numpy(a).cuda() for a in data)
    h, g = x.mm(w1), y.clone()

    def step():
        torch.mm(x, w1, out=h)
        h.mm(w2)
        h.t().mm(g)
        gh = g.mm(w2.t())
        x.t().mm(gh)
    return torch_timed(torch, step, short, long)


def torch_lenet(torch):
    """W4's network in PyTorch."""
    nn, F = torch.nn, torch.nn.functional

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1, self.conv2 = nn.Conv2d(1, 6, 3), nn.Conv2d(6, 16, 3)
            self.fc1, self.fc2, self.fc3 = nn.Linear(576, 120), nn.Linear(120, 84), nn.Linear(84, 10)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv1(x)), 2)
            x = F.max_pool2d(F.relu(self.conv2(x)), 2).flatten(1)
            return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))
    return Net()


def torch_w4(torch, batch, short, long):
    net = torch_lenet(torch).cuda()
    opt = torch.optim.SGD(net.parameters(), lr=0.01)
    x, y = (torch.from_numpy(a).cuda() for a in lenet_data(batch))

    def step():
        opt.zero_grad()
        torch.nn.functional.mse_loss(net(x), y).backward()
        opt.step()
    return torch_timed(torch, step, short, long)


def main():
    tiny = "--tiny" in sys.argv
    short, long = (1, 3) if tiny else (20, 220)
    torch = None if tiny else torch_cuda()
    for name, size in (TINY if tiny else SIZES).items():
        data = arrays(*size)
        for optimizer in ("sgd", "adam"):
            rows = {"symgrad sg.train (cuda)": symgrad_w1(data, optimizer, short, long)}
            if torch is not None:
                rows["PyTorch eager (cuda)"] = torch_w1(torch, data, optimizer, short, long)
                rows["cuBLAS floor (the 5 products)"] = cublas_floor(torch, data, short, long)
            report(f"{name} {optimizer}, N, D_in, H, D_out = {size}", rows)
    if tiny:     # LeNet's 32 x 32 images take minutes in the simulator
        return
    rows = {"symgrad sg.train (cuda)": symgrad_w4(64, short, long)}
    if torch is not None:
        rows["PyTorch eager (cuda)"] = torch_w4(torch, 64, short, long)
    report("W4 LeNet, batch 64", rows)


def report(title, rows):
    measured = {name: timing for name, timing in rows.items() if timing is not None}
    print_table(title, [(name, seconds) for name, (seconds, _) in measured.items()],
                "PyTorch eager (cuda)")
    for name, (_, first) in measured.items():
        print(f"  first call of {name}: {first:.2f} s")


if __name__ == "__main__":
    main()
