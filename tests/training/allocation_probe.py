"""Run by tests/training/test_training_loop.py with NUMBA_NRT_STATS=1: numba allocations of a short and a
long compiled training run (equal when the steady-state step allocates nothing). Both runs
have the same two chunks (one step, then the rest): a chunk's call makes the loop's buffers."""
import numpy as np, symgrad as sg
from numba.core.runtime import rtsys
from symgrad.training import progress
progress.CHUNK_SECONDS, progress.GROWTH = 1e9, 10 ** 9
def step(w, x, y):
    loss, g = sg.value_and_grad(lambda w: np.sum((x @ w - y) ** 2))(w)
    return w - 0.01 * g, loss
rng = np.random.default_rng(0)
x, y, w = rng.standard_normal((32, 8)), rng.standard_normal((32, 3)), rng.standard_normal((8, 3))
sg.train(step, w, data=(x, y), steps=5, progress=False)
counts = []
for steps in (10, 110):
    before = rtsys.get_allocation_stats().alloc
    sg.train(step, w, data=(x, y), steps=steps, progress=False)
    counts.append(rtsys.get_allocation_stats().alloc - before)
print(*counts)
