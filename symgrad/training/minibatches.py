"""Which rows each step of a compiled training loop reads (``train``'s steps/epochs/batches).

>>> import numpy as np
>>> plan = plan_batches([np.arange(6.0)], steps=None, epochs=2, batch_size=3, shuffle=False, seed=0)
>>> plan.mode, plan.total_steps, plan.order.tolist()
('batch', 4, [0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5])
"""
from dataclasses import dataclass

import numpy as np


@dataclass
class BatchPlan:
    mode: str            # "full", "sample" or "batch" (see symgrad.compiler.cpu.training_loop)
    total_steps: int
    batch_size: int      # rows per step (0 in "full" mode)
    order: np.ndarray    # row indices, step by step
    steps_per_epoch: int = 1

    def example(self, array):
        """An array shaped like one step's batch of ``array``."""
        if self.mode == "full":
            return array
        return array[0] if self.mode == "sample" else array[:self.batch_size]

    def batch(self, array, step):
        """Step ``step``'s batch of ``array`` (for running a step eagerly)."""
        if self.mode == "full":
            return array
        if self.mode == "sample":
            return array[self.order[step]]
        return array[self.order[step * self.batch_size:(step + 1) * self.batch_size]]


def _check_rows(arrays):
    rows = {a.shape[0] if a.ndim else None for a in arrays}
    if None in rows or len(rows) > 1:
        shapes = ", ".join(str(list(a.shape)) for a in arrays)
        raise ValueError(f"train: data arrays must share their first dimension (the samples); "
                         f"got shapes {shapes}")
    return rows.pop()


def _epoch_orders(rows, used, epochs, shuffle, seed):
    """Each epoch's first ``used`` row indices (a fresh permutation per epoch if shuffled)."""
    orders = np.tile(np.arange(rows, dtype=np.int64), (epochs, 1))
    if shuffle:
        orders = np.random.default_rng(seed).permuted(orders, axis=1)
    return orders[:, :used].ravel()


def _count(name, value):
    """``value`` (None, or a positive int: numpy integers too) as an int, else a clear error."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"train: {name} must be a positive int, got {value!r} "
                        f"({type(value).__name__})")
    if value < 1:
        raise ValueError(f"train: {name} must be a positive int, got {value}")
    return int(value)


def _check_samples(arrays):
    """Every data array has rows to draw (an empty data set is a mistake, in any mode)."""
    for position, array in enumerate(arrays):
        if array.ndim and array.shape[0] == 0:
            raise ValueError(f"train: data[{position}] has shape {list(array.shape)}: no samples "
                             f"(its first dimension is 0)")


def plan_batches(arrays, steps, epochs, batch_size, shuffle, seed):
    """Check the arguments (clear errors before anything runs) and list each step's rows."""
    steps, epochs = _count("steps", steps), _count("epochs", epochs)
    batch_size = _count("batch_size", batch_size)
    if steps is None and epochs is None:
        raise ValueError("train: give steps= or epochs=")
    _check_samples(arrays)
    if epochs is None and batch_size is None:
        return BatchPlan("full", steps, 0, np.zeros(0, np.int64))
    if not arrays:
        raise ValueError("train: epochs= and batch_size= need data=(arrays...) to draw from")
    rows = _check_rows(arrays)
    if batch_size is not None and batch_size > rows:
        raise ValueError(f"train: batch_size={batch_size} must be between 1 and the number of "
                         f"samples ({rows})")
    per_step = batch_size or 1
    steps_per_epoch = rows // per_step
    epochs = epochs if epochs is not None else -(-steps // steps_per_epoch)
    order = _epoch_orders(rows, steps_per_epoch * per_step, epochs, shuffle, seed)
    total = steps if steps is not None else epochs * steps_per_epoch
    mode = "sample" if batch_size is None else "batch"
    return BatchPlan(mode, total, per_step, order[:total * per_step], steps_per_epoch)
