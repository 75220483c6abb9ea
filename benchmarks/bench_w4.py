"""W4: LeNet (seed 001) training steps at batch 1 and batch 64, float32.

Per batch size, in one run, each variant in a fresh process (so that no library's idle
threads disturb another's), twice (``common.best_of_two_passes``):
- symgrad's ``sg.train`` of the PyTorch-style step: µs per step from the difference of the
  best of five long and five short runs, so tracing, the eager first step and the compile
  are excluded; the first call's time is reported separately, cold (new process, empty
  cache) and warm (new process, cache filled); again with one BLAS thread in the loop;
- symgrad's eager Tensor step;
- PyTorch eager with its default thread count and with one thread; JAX (jit of the step and
  a fori_loop of 100 steps) when installed;
- the FLOP floor: FLOPs per step / this machine's measured sgemm FLOP/s.
Ratios are to the faster of the two PyTorch rows.
Run: ``python benchmarks/bench_w4.py`` (``--batch 64`` for one size).
"""
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

# Steady state: every call waits for its compiled code (bench_compile.py measures first calls,
# which the interpreter tier answers while the compile runs in the background).
os.environ.setdefault("SYMGRAD_COMPILE_IN_BACKGROUND", "0")

from common import best_of_two_passes, print_table, sgemm_flops_per_second, time_per_call

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "examples"))


def data(batch, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((batch, 1, 32, 32)).astype(np.float32),
            rng.standard_normal((batch, 10)).astype(np.float32))


def flops_per_step(batch):
    """Multiply-adds x 2 of the forward, the weight gradients and the input gradients (not
    of conv1, whose input needs none)."""
    conv1, conv2 = 6 * 1 * 9 * 30 * 30, 16 * 6 * 9 * 13 * 13
    linear = 576 * 120 + 120 * 84 + 84 * 10
    forward = conv1 + conv2 + linear
    backward = conv1 + 2 * conv2 + 2 * linear
    return 2 * batch * (forward + backward)


# -- symgrad ---------------------------------------------------------------------------------------
def symgrad_train(batch):
    import symgrad as sg
    import w4_lenet
    sg.manual_seed(0)
    step = w4_lenet.training_step(w4_lenet.Net())
    arrays = data(batch)
    start = time.perf_counter()
    sg.train(step, data=arrays, steps=2, progress=False)
    first = time.perf_counter() - start
    short, long = (20, 3000) if batch == 1 else (4, 150)
    best = {short: float("inf"), long: float("inf")}
    for _ in range(5):
        for steps in best:
            start = time.perf_counter()
            sg.train(step, data=arrays, steps=steps, progress=False)
            best[steps] = min(best[steps], time.perf_counter() - start)
    return (best[long] - best[short]) / (long - short), first


def symgrad_eager(batch):
    import symgrad as torch
    import w4_lenet
    from symgrad import nn, optim
    torch.manual_seed(0)
    net = w4_lenet.Net()
    criterion, optimizer = nn.MSELoss(), optim.SGD(net.parameters(), lr=0.01)
    x, y = (torch.tensor(a) for a in data(batch))

    def step():
        optimizer.zero_grad()
        criterion(net(x), y).backward()
        optimizer.step()
    for _ in range(3):      # the backward graph compiles on its second use
        step()
    return time_per_call(step), None


# -- baselines -------------------------------------------------------------------------------------
def torch_step(batch, threads):
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    torch.set_num_threads(threads)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1, self.conv2 = nn.Conv2d(1, 6, 3), nn.Conv2d(6, 16, 3)
            self.fc1, self.fc2 = nn.Linear(576, 120), nn.Linear(120, 84)
            self.fc3 = nn.Linear(84, 10)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))
            x = F.max_pool2d(F.relu(self.conv2(x)), 2)
            x = x.view(-1, 576)
            return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))

    net = Net()
    criterion, optimizer = nn.MSELoss(), torch.optim.SGD(net.parameters(), lr=0.01)
    x, y = (torch.from_numpy(a) for a in data(batch))

    def step():
        optimizer.zero_grad()
        criterion(net(x), y).backward()
        optimizer.step()
    return time_per_call(step), None


def torch_variants(batch):
    try:
        import torch
    except ImportError:
        return {}
    cores = torch.get_num_threads()
    return {f"PyTorch eager ({cores} threads)": lambda: torch_step(batch, cores),
            "PyTorch eager (1 thread)": lambda: torch_step(batch, 1)}


def jax_variants(batch):
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return {}
    from jax import lax

    def conv(x, w, b):
        out = lax.conv_general_dilated(x, w, (1, 1), "VALID")
        return out + b[None, :, None, None]

    def pool(x):
        return lax.reduce_window(x, -jnp.inf, lax.max, (1, 1, 2, 2), (1, 1, 2, 2), "VALID")

    def loss(params, x, y):
        c1w, c1b, c2w, c2b, w1, b1, w2, b2, w3, b3 = params
        h = pool(jax.nn.relu(conv(x, c1w, c1b)))
        h = pool(jax.nn.relu(conv(h, c2w, c2b))).reshape(x.shape[0], -1)
        h = jax.nn.relu(h @ w1.T + b1)
        h = jax.nn.relu(h @ w2.T + b2)
        return jnp.mean((h @ w3.T + b3 - y) ** 2)

    @jax.jit
    def step(params, x, y):
        grads = jax.grad(loss)(params, x, y)
        return [p - 0.01 * g for p, g in zip(params, grads)]

    @jax.jit
    def loop(params, x, y):
        return lax.fori_loop(0, 100, lambda i, p: step(p, x, y), params)

    rng = np.random.default_rng(0)
    shapes = [(6, 1, 3, 3), (6,), (16, 6, 3, 3), (16,), (120, 576), (120,), (84, 120), (84,),
              (10, 84), (10,)]
    params = [jnp.asarray(rng.uniform(-0.1, 0.1, s).astype(np.float32)) for s in shapes]
    x, y = (jnp.asarray(a) for a in data(batch))
    return {"JAX jit step": lambda: (time_per_call(
                lambda: jax.block_until_ready(step(params, x, y))), None),
            "JAX fori_loop (per step)": lambda: (time_per_call(
                lambda: jax.block_until_ready(loop(params, x, y))) / 100, None)}


def variants(batch):
    """name -> function() returning (seconds per step, first-call seconds or None)."""
    found = {
        "symgrad sg.train": lambda: symgrad_train(batch),
        "symgrad sg.train, 1 BLAS thread": lambda: symgrad_train(batch),
        "symgrad eager Tensor step": lambda: symgrad_eager(batch),
    }
    found.update(torch_variants(batch))
    found.update(jax_variants(batch))
    found["FLOP floor (FLOPs / sgemm FLOP/s)"] = \
        lambda: (flops_per_step(batch) / sgemm_flops_per_second(), None)
    return found


ENVIRONMENT = {"symgrad sg.train, 1 BLAS thread": {"SYMGRAD_LOOP_BLAS_THREADS": "1"}}


def measure_one(batch, variant):
    seconds, first = variants(batch)[variant]()
    print(json.dumps([seconds, first]))


def run(batch, variant, cache):
    environment = dict(os.environ, SYMGRAD_CACHE_DIR=cache, **ENVIRONMENT.get(variant, {}))
    out = subprocess.run([sys.executable, __file__, str(batch), variant], capture_output=True,
                         text=True, env=environment)
    if out.returncode:
        raise RuntimeError(f"{variant} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(batches):
    with tempfile.TemporaryDirectory() as cache:
        for batch in batches:
            names = list(variants(batch))
            best = best_of_two_passes(names, lambda name: run(batch, name, cache))
            _, warm = run(batch, "symgrad sg.train", cache)      # new process, cache filled
            rows = [(name, best[name][0]) for name in names]
            torch_rows = [(s, n) for n, s in rows if n.startswith("PyTorch eager")]
            baseline = min(torch_rows)[1] if torch_rows else names[0]
            print_table(f"W4 LeNet, batch {batch}, float32: µs per training step "
                        f"({flops_per_step(batch) / 1e6:.1f} MFLOP/step; ratios to the faster "
                        f"PyTorch)", rows, baseline)
            print(f"sg.train first call incl. trace and compile: cold "
                  f"{best['symgrad sg.train'][1]:.1f} s, warm {warm:.1f} s")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1].isdigit():
        measure_one(int(sys.argv[1]), sys.argv[2])
    else:
        batches = [1, 64]
        if "--batch" in sys.argv:
            batches = [int(sys.argv[sys.argv.index("--batch") + 1])]
        main(batches)
