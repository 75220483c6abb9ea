"""Timing helpers shared by the benchmark scripts: median of repeated runs, BLAS floor."""
import statistics
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
