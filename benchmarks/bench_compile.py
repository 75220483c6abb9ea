"""Compile time: from the first call to the first result, in a new process.

For each workload the script starts fresh Python processes (``subprocess``) twice over one
temporary cache folder (``SYMGRAD_CACHE_DIR``): "cold" finds the folder empty, "warm" finds
it filled by the cold run (generated modules and numba's machine code). It reports the
median of ``--repeats`` pairs, each with a fresh folder, plus ``import symgrad`` time.
``import`` is excluded from the first-call figures.

Workloads (WORKLOADS.md): W1 ``sg.grad`` of the numpy loss; W1 ``sg.train`` of a
``TwoLayerNet(nn.Module)`` + ``optim.SGD`` step; W2 the same with ``optim.Adam``; W4 LeNet
``sg.train`` when ``nn.Conv2d`` exists. Targets (2-core CPU): W1 cold <= 2 s, warm <= 0.3 s,
``import symgrad`` <= 0.5 s.

Run: ``python benchmarks/bench_compile.py [--repeats 3] [--only w1_grad,w2_train]``.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

N, D_in, H, D_out = 64, 1000, 100, 10


# -- the workloads, run inside the child process --------------------------------------------
def w1_grad():
    import numpy as np
    import symgrad as sg

    def loss(w1, w2, x, y):
        h_relu = np.maximum(x.dot(w1), 0)
        return np.square(h_relu.dot(w2) - y).sum()

    rng = np.random.default_rng(0)
    data = [rng.standard_normal(s).astype(np.float32)
            for s in ((D_in, H), (H, D_out), (N, D_in), (N, D_out))]
    start = time.perf_counter()
    grads = sg.grad(loss, argnums=(0, 1))(*data)
    assert grads[0].shape == (D_in, H)
    return time.perf_counter() - start


def _train(make_model, make_optimizer, shape=(N, D_in), target=(N, D_out), steps=3):
    import symgrad as sg
    from symgrad import nn

    sg.manual_seed(0)
    x, y = sg.randn(*shape), sg.randn(*target)
    model = make_model()
    optimizer = make_optimizer(model.parameters())
    criterion = nn.MSELoss(reduction="sum")

    def step(x, y):
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
        return loss

    start = time.perf_counter()
    history = sg.train(step, data=(x, y), steps=steps, progress=False)
    assert len(history) == steps
    return time.perf_counter() - start


def _two_layer_net():
    from symgrad import nn

    class TwoLayerNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear1 = nn.Linear(D_in, H)
            self.linear2 = nn.Linear(H, D_out)

        def forward(self, x):
            return self.linear2(self.linear1(x).clamp(min=0))
    return TwoLayerNet()


def w1_train():
    from symgrad import optim
    return _train(_two_layer_net, lambda p: optim.SGD(p, lr=1e-4))


def w2_train():
    from symgrad import nn, optim
    return _train(lambda: nn.Sequential(nn.Linear(D_in, H), nn.ReLU(), nn.Linear(H, D_out)),
                  lambda p: optim.Adam(p, lr=1e-4))


def w4_available():
    try:
        from symgrad import nn
    except ImportError:
        return False
    return hasattr(nn, "Conv2d") and hasattr(nn.functional, "max_pool2d")


def w4_train():
    from symgrad import nn, optim
    import symgrad.nn.functional as F

    class LeNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 6, 3)
            self.conv2 = nn.Conv2d(6, 16, 3)
            self.fc1 = nn.Linear(16 * 6 * 6, 120)
            self.fc2 = nn.Linear(120, 84)
            self.fc3 = nn.Linear(84, 10)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv1(x)), 2)
            x = F.max_pool2d(F.relu(self.conv2(x)), 2)
            x = x.reshape(x.shape[0], -1)
            x = F.relu(self.fc1(x))
            x = F.relu(self.fc2(x))
            return self.fc3(x)
    return _train(LeNet, lambda p: optim.SGD(p, lr=0.01), shape=(1, 1, 32, 32), target=(1, 10))


WORKLOADS = {"w1_grad": w1_grad, "w1_train": w1_train, "w2_train": w2_train,
             "w4_train": w4_train}
TITLES = {"w1_grad": "W1 sg.grad (numpy loss)", "w1_train": "W1 sg.train TwoLayerNet+SGD",
          "w2_train": "W2 sg.train Sequential+Adam", "w4_train": "W4 sg.train LeNet+SGD b=1"}


def child(name):
    start = time.perf_counter()
    import symgrad  # noqa: F401
    imported = time.perf_counter() - start
    first_call = WORKLOADS[name]()
    print(json.dumps({"import": imported, "first_call": first_call}))


# -- the parent: fresh processes, fresh cache folders ---------------------------------------
def run_child(name, cache, extra_env=None):
    env = dict(os.environ, SYMGRAD_CACHE_DIR=cache, PYTHONPATH=os.pathsep.join(
        [ROOT] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    env.pop("SYMGRAD_CACHE", None)
    env.update(extra_env or {})
    done = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", name],
                          env=env, capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"{name} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def import_time(repeats):
    """Wall time of ``python -c "import symgrad"`` minus that of ``python -c pass``."""
    def wall(code):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
        return time.perf_counter() - start
    bare = statistics.median(wall("pass") for _ in range(repeats))
    full = statistics.median(wall("import symgrad") for _ in range(repeats))
    return full, full - bare


def measure(names, repeats):
    rows = []
    for name in names:
        cold, warm, imports = [], [], []
        for _ in range(repeats):
            cache = tempfile.mkdtemp(prefix="symgrad-bench-")
            try:
                first = run_child(name, cache)
                second = run_child(name, cache)
            finally:
                shutil.rmtree(cache, ignore_errors=True)
            cold.append(first["first_call"])
            warm.append(second["first_call"])
            imports.append(second["import"])
        rows.append((name, statistics.median(cold), min(cold), statistics.median(warm), min(warm),
                     statistics.median(imports)))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", default="", help="comma-separated workload names")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        return child(arguments.child)
    names = [n for n in (arguments.only.split(",") if arguments.only else WORKLOADS) if n]
    if "w4_train" in names and not arguments.only and not w4_available():
        names.remove("w4_train")
    full, net = import_time(max(arguments.repeats, 5))
    rows = measure(names, arguments.repeats)
    print(f"\nCompile time, first call to first result, seconds (median and best of "
          f"{arguments.repeats}; a new process each; import excluded)")
    print(f"{'workload':<32}{'cold':>8}{'best':>8}{'warm':>8}{'best':>8}{'import':>9}")
    for name, cold, cold_best, warm, warm_best, imported in rows:
        print(f"{TITLES[name]:<32}{cold:>8.3f}{cold_best:>8.3f}{warm:>8.3f}{warm_best:>8.3f}"
              f"{imported:>9.3f}")
    label = 'python -c "import symgrad"'
    print(f"{label:<32}{'':>32}{full:>9.3f}   (minus interpreter start: {net:.3f})")
    print("targets: W1 cold <= 2 s, warm <= 0.3 s; import symgrad <= 0.5 s")


if __name__ == "__main__":
    sys.exit(main())
