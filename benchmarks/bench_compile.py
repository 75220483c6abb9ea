"""Compile time: from the first call to the first result, in a new process.

For each workload the script starts fresh Python processes (``subprocess``) over temporary
cache folders (``SYMGRAD_CACHE_DIR``): "cold" finds the folder empty and answers from the
interpreter tier (symgrad.tiers) while the compiled code is made in the background
("compiled": until it is ready); "warm" finds the folder filled by the cold run; "waited"
finds an empty folder with ``SYMGRAD_COMPILE_IN_BACKGROUND=0`` (every call waits for
compiled code, as before the tier). With jax installed, JAX's ``jit(grad)`` / ``jit`` of a
``fori_loop`` of the step runs the same workload in the same run, and the ratios are
printed. ``import`` is excluded from the first-call figures.

Workloads (WORKLOADS.md, issue 19): W1 ``sg.grad`` of the numpy loss; W1 ``sg.train`` of a
``TwoLayerNet(nn.Module)`` + ``optim.SGD`` step; W2 the same with ``optim.Adam``; W4 LeNet
``sg.train`` at batch 1 and 64 when ``nn.Conv2d`` exists; the first four derivatives of
``tanh`` over 700 points (HIPS autograd's example); a functional ``sg.train`` step of
bias-free 256-wide MLPs of 2, 8 and 32 layers; W7's char GPT and W8's char LSTM at the
tests' tiny sizes (examples/). A second table runs W1 grad and train,
LeNet and the 8-layer MLP at one batch size, then at a new one in the same process: the new
one's seconds and numba compiles (none: the code reads its extents at run time).

Run: ``python benchmarks/bench_compile.py [--repeats 3] [--only w1_grad,w2_train]``.
"""
import argparse
import functools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from example_workloads import EXAMPLE_MODELS, example_train

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

N, D_in, H, D_out = 64, 1000, 100, 10


# -- the workloads, run inside the child process --------------------------------------------
def w1_grad(batch=N):
    import numpy as np
    import symgrad as sg

    def loss(w1, w2, x, y):
        h_relu = np.maximum(x.dot(w1), 0)
        return np.square(h_relu.dot(w2) - y).sum()

    rng = np.random.default_rng(0)
    data = [rng.standard_normal(s).astype(np.float32)
            for s in ((D_in, H), (H, D_out), (batch, D_in), (batch, D_out))]
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


def w1_train(batch=N):
    from symgrad import optim
    return _train(_two_layer_net, lambda p: optim.SGD(p, lr=1e-4), shape=(batch, D_in),
                  target=(batch, D_out))


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


def w4_train(batch=1):
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
    return _train(LeNet, lambda p: optim.SGD(p, lr=0.01), shape=(batch, 1, 32, 32),
                  target=(batch, 10))


def w4_train_b64():
    return w4_train(batch=64)


def tanh(x, np):
    y = np.exp(-2.0 * x)
    return (1.0 - y) / (1.0 + y)


def nested4_tanh():
    """HIPS autograd's tanh example: the first four derivatives over 700 points."""
    import numpy as np
    import symgrad as sg
    x = np.linspace(-7, 7, 700)
    start = time.perf_counter()
    derivative = functools.partial(tanh, np=np)
    for _ in range(4):
        derivative = sg.grad(lambda x, f=derivative: np.sum(f(x)))
        assert derivative(x).shape == x.shape
    return time.perf_counter() - start


MLP_DEPTHS = (2, 8, 32)
MLP_WIDTH, MLP_BATCH = 256, 32


def mlp_data(depth, batch=None):
    import numpy as np
    rng = np.random.default_rng(0)
    weights = [rng.standard_normal((MLP_WIDTH, MLP_WIDTH)).astype(np.float32) / MLP_WIDTH ** 0.5
               for _ in range(depth)]
    x, y = (rng.standard_normal((batch or MLP_BATCH, MLP_WIDTH)).astype(np.float32)
            for _ in range(2))
    return weights, x, y


def mlp_loss(np, weights, x, y):
    for w in weights[:-1]:
        x = np.tanh(x @ w)
    return np.sum((x @ weights[-1] - y) ** 2) / MLP_BATCH


def mlp_train(depth, batch=None):
    """A functional sg.train step of a bias-free MLP (the issue's compile-scaling row)."""
    import numpy as np
    import symgrad as sg
    weights, x, y = mlp_data(depth, batch)

    def step(weights, x, y):
        loss, grads = sg.value_and_grad(lambda w: mlp_loss(np, w, x, y))(weights)
        return [w - 0.01 * g for w, g in zip(weights, grads)], loss
    start = time.perf_counter()
    _, history = sg.train(step, weights, data=(x, y), steps=3, progress=False)
    assert len(history) == 3
    return time.perf_counter() - start


# -- JAX, the anchor (``jit(grad)``, ``jit`` of a ``fori_loop`` of the training step) --------
def jax_w1_grad():
    import jax
    import jax.numpy as jnp
    import numpy as np
    rng = np.random.default_rng(0)
    data = [rng.standard_normal(s).astype(np.float32)
            for s in ((D_in, H), (H, D_out), (N, D_in), (N, D_out))]

    def loss(w1, w2, x, y):
        return jnp.square(jnp.maximum(x @ w1, 0) @ w2 - y).sum()
    start = time.perf_counter()
    jax.block_until_ready(jax.jit(jax.grad(loss, argnums=(0, 1)))(*data))
    return time.perf_counter() - start


def jax_nested4_tanh():
    import jax
    import jax.numpy as jnp
    x = jnp.linspace(-7, 7, 700)
    start = time.perf_counter()
    derivative = functools.partial(tanh, np=jnp)
    for _ in range(4):
        derivative = jax.jit(jax.grad(lambda x, f=derivative: jnp.sum(f(x))))
        jax.block_until_ready(derivative(x))
    return time.perf_counter() - start


def jax_mlp_train(depth):
    import jax
    import jax.numpy as jnp
    weights, x, y = mlp_data(depth)

    def step(_, weights):
        grads = jax.grad(lambda w: mlp_loss(jnp, w, x, y))(weights)
        return [w - 0.01 * g for w, g in zip(weights, grads)]
    start = time.perf_counter()
    jax.block_until_ready(jax.jit(lambda w: jax.lax.fori_loop(0, 3, step, w))(weights))
    return time.perf_counter() - start


JAX_WORKLOADS = {"w1_grad": jax_w1_grad, "nested4_tanh": jax_nested4_tanh,
                 **{f"mlp{depth}_train": functools.partial(jax_mlp_train, depth)
                    for depth in MLP_DEPTHS}}


WORKLOADS = {"w1_grad": w1_grad, "w1_train": w1_train, "w2_train": w2_train,
             "w4_train": w4_train, "w4_train_b64": w4_train_b64, "nested4_tanh": nested4_tanh,
             **{f"mlp{depth}_train": functools.partial(mlp_train, depth) for depth in MLP_DEPTHS},
             **{name: functools.partial(example_train, name) for name in EXAMPLE_MODELS}}
TITLES = {"w1_grad": "W1 sg.grad (numpy loss)", "w1_train": "W1 sg.train TwoLayerNet+SGD",
          "w2_train": "W2 sg.train Sequential+Adam", "w4_train": "W4 sg.train LeNet+SGD b=1",
          "w4_train_b64": "W4 sg.train LeNet+SGD b=64",
          "nested4_tanh": "4 nested grads of tanh, 700 pts",
          **{f"mlp{depth}_train": f"sg.train MLP {depth}x256 (functional)"
             for depth in MLP_DEPTHS},
          "w7_char_gpt": "W7 char GPT sg.train (tiny)", "w8_char_lstm": "W8 char LSTM sg.train (tiny)"}


# -- a new batch size in the same process: (workload, first batch, new batch) ---------------
NEW_BATCH = {"w1_grad": (w1_grad, N, 50), "w1_train": (w1_train, N, 50),
             "w4_train": (w4_train, 64, 50), "mlp8_train": (functools.partial(mlp_train, 8), 32, 20)}


def new_batch_child(name):
    """The workload at its first batch size, then at a new one: the new one's seconds and
    numba compiles (symgrad's compile log), compiled code waited for."""
    import logging
    workload, first, new = NEW_BATCH[name]
    compiles = []
    handler = logging.Handler()
    handler.emit = lambda record: compiles.append("with numba" in record.getMessage())
    logger = logging.getLogger("symgrad.compile")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    first_seconds = workload(batch=first)
    del compiles[:]
    seconds = workload(batch=new)
    print(json.dumps({"first": first_seconds, "new": seconds, "compiles": sum(compiles)}))


def new_batch_rows(names, repeats):
    """Rows of (name, first batch seconds, new batch seconds, numba compiles), medians."""
    rows = []
    for name in names:
        runs = []
        for _ in range(repeats):
            cache = tempfile.mkdtemp(prefix="symgrad-bench-")
            try:
                runs.append(run_child(f"new_batch:{name}", cache,
                                      {"SYMGRAD_COMPILE_IN_BACKGROUND": "0"}))
            finally:
                shutil.rmtree(cache, ignore_errors=True)
        rows.append((name, *(statistics.median(r[k] for r in runs)
                             for k in ("first", "new", "compiles"))))
    return rows


def report_new_batch(rows):
    print("\nA new batch size in the same process (same ranks and dtypes; compiled code waited "
          "for): seconds of the first call at each size and numba compiles of the new one")
    print(f"{'workload':<36}{'batches':>10}{'first':>9}{'new':>9}{'compiles':>9}")
    for name, first, new, compiles in rows:
        _, a, b = NEW_BATCH[name]
        print(f"{TITLES[name]:<36}{f'{a} -> {b}':>10}{first:>9.3f}{new:>9.3f}{compiles:>9g}")


def child(name):
    if name.startswith("new_batch:"):
        return new_batch_child(name.split(":")[1])
    start = time.perf_counter()
    import symgrad  # noqa: F401
    imported = time.perf_counter() - start
    first_call = (JAX_WORKLOADS if name.startswith("jax:") else WORKLOADS)[name.split(":")[-1]]()
    waited = time.perf_counter()
    from symgrad.tiers import wait_for_background_compiles
    wait_for_background_compiles()
    ready = first_call + time.perf_counter() - waited
    print(json.dumps({"import": imported, "first_call": first_call, "ready": ready}))


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


def jax_available():
    try:
        import jax  # noqa: F401
    except ImportError:
        return False
    return True


def _one_repeat(name, with_jax):
    """Seconds to the first result: cold (interpreter tier; and until the compiled code is
    ready), cold waiting for compiled code (SYMGRAD_COMPILE_IN_BACKGROUND=0), warm, JAX."""
    cache, waiting_cache = (tempfile.mkdtemp(prefix="symgrad-bench-") for _ in range(2))
    try:
        cold = run_child(name, cache)
        warm = run_child(name, cache)
        waiting = run_child(name, waiting_cache, {"SYMGRAD_COMPILE_IN_BACKGROUND": "0"})
    finally:
        shutil.rmtree(cache, ignore_errors=True)
        shutil.rmtree(waiting_cache, ignore_errors=True)
    jax = run_child(f"jax:{name}", tempfile.gettempdir())["first_call"] if with_jax else None
    return {"cold": cold["first_call"], "ready": cold["ready"], "waiting": waiting["first_call"],
            "warm": warm["first_call"], "import": warm["import"], "jax": jax}


def measure(names, repeats):
    rows = []
    with_jax = jax_available()
    for name in names:
        runs = [_one_repeat(name, with_jax and name in JAX_WORKLOADS) for _ in range(repeats)]
        rows.append((name, {column: None if runs[0][column] is None else
                            statistics.median(run[column] for run in runs) for column in runs[0]}))
        print(name, json.dumps(rows[-1][1]), file=sys.stderr, flush=True)    # progress
    return rows


COLUMNS = (("cold", "cold"), ("ready", "compiled"), ("waiting", "waited"), ("warm", "warm"),
           ("jax", "JAX"), ("import", "import"))


def _ratio(value, jax):
    return f"{value / jax:>9.2f}" if jax else f"{'':>9}"


def report(rows, repeats, full, net):
    print(f"\nFirst call to first result, seconds (median of {repeats}; a new process each; "
          "import excluded). cold: empty cache, answered by the interpreter tier; compiled: "
          "until its compiled code is ready; waited: empty cache, SYMGRAD_COMPILE_IN_BACKGROUND=0 "
          "(every call waits for compiled code); warm: the cache filled by the cold run")
    print(f"{'workload':<36}" + "".join(f"{title:>9}" for _, title in COLUMNS) +
          f"{'cold/JAX':>9}{'wait/JAX':>9}")
    for name, row in rows:
        cells = "".join(f"{row[column]:>9.3f}" if row[column] is not None else f"{'-':>9}"
                        for column, _ in COLUMNS)
        print(f"{TITLES[name]:<36}{cells}{_ratio(row['cold'], row['jax'])}"
              f"{_ratio(row['waiting'], row['jax'])}")
    label = 'python -c "import symgrad"'
    print(f"{label:<36}{'':>45}{full:>9.3f}   (minus interpreter start: {net:.3f})")
    print("targets (issue 19): W1 grad <= 1.5x JAX and <= 0.4 s; W1 train <= 0.6 s; LeNet b=64 "
          "<= 3 s; nested grads <= 2 s; MLP <= 2x JAX; warm <= 0.1 s")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", default="", help="comma-separated workload names")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        return child(arguments.child)
    names = [n for n in (arguments.only.split(",") if arguments.only else WORKLOADS) if n]
    if not arguments.only and not w4_available():
        names = [n for n in names if not n.startswith("w4_")]
    full, net = import_time(max(arguments.repeats, 5))
    report(measure(names, arguments.repeats), arguments.repeats, full, net)
    report_new_batch(new_batch_rows([n for n in names if n in NEW_BATCH], arguments.repeats))


if __name__ == "__main__":
    sys.exit(main())
