"""Timing helpers shared by the benchmark scripts: median of repeated runs, the better of
two passes over the variants, BLAS floor."""
import contextlib
import statistics
import subprocess
import sys
import time

import numpy as np


def time_per_call(function, repeats=7, min_seconds=0.2):
    """Median seconds per call of ``function()`` over ``repeats`` timed batches."""
    function()
    calls = 1
    while True:
        start = time.perf_counter()
        for _ in range(calls):
            function()
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds / repeats:
            break
        calls *= 2
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            function()
        samples.append((time.perf_counter() - start) / calls)
    return statistics.median(samples)


def best_of_two_passes(names, measure):
    """``{name: (seconds, extra)}``: ``measure(name)`` (a run in a fresh process, returning
    (seconds, extra) or None when the variant is unavailable) for every name, then again in
    reverse order; the faster seconds, the first run's extra (a cold compile time). This
    2-core VM has slow spells, of seconds to minutes, in which every variant runs up to 1.5x
    slower: one pass let them land on whichever row they hit."""
    best = {}
    for name in names + names[::-1]:
        result = measure(name)
        if result is not None:
            seconds, extra = result
            best[name] = (min(seconds, best[name][0]), best[name][1]) if name in best else result
    return best


def sgemm_flops_per_second(size=1024):
    """Measured float32 matrix-multiply speed of this machine (numpy's BLAS)."""
    a = np.random.default_rng(0).standard_normal((size, size)).astype(np.float32)
    seconds = time_per_call(lambda: a @ a, repeats=5)
    return 2 * size ** 3 / seconds


def print_table(title, rows, *baselines):
    """Rows of (name, seconds per step), with one ratio column per baseline row name."""
    seconds_of = dict(rows)
    present = [b for b in baselines if b in seconds_of]
    print(f"\n{title}")
    print(f"{'variant':<34}{'µs/step':>12}" + "".join(f"{'÷ ' + b[:26]:>30}" for b in present))
    for name, seconds in rows:
        micros = seconds * 1e6
        print(f"{name:<34}{micros:>12.{1 if micros >= 10 else 4}f}"
              + "".join(f"{seconds / seconds_of[b]:>30.2f}" for b in present))


def torch_w1_step(torch, x, y, w1, w2, optimizer):
    """The W1 step in PyTorch on these tensors (seed 002's loop): SGD (lr 1e-6) or Adam
    (lr 1e-4, ``optimizer="adam"``)."""
    params = [w1.requires_grad_(), w2.requires_grad_()]
    opt = torch.optim.SGD(params, lr=1e-6) if optimizer == "sgd" else torch.optim.Adam(params, lr=1e-4)

    def step():
        opt.zero_grad()
        (x.mm(w1).clamp(min=0).mm(w2) - y).pow(2).sum().backward()
        opt.step()
    return step


@contextlib.contextmanager
def busy_process():
    """One other CPU-bound process (a Python busy loop) running while the block runs: the
    "busy machine" rows (laptops, CI runners and shared servers have one)."""
    process = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.5)        # let the scheduler see it
        yield
    finally:
        process.kill()
        process.wait()


def beside_busy_process(measure):
    """``measure`` (returning (seconds, extra)) run with one busy process beside it."""
    def run():
        with busy_process():
            return measure()
    return run
