"""``train(..., epoch_end=fn)``: ``fn()`` runs after the last step of every epoch, as the
line after the inner loop of a PyTorch script (``scheduler.step()`` per epoch).

Inside the compiled loop the step graph carries a step counter; ``fn`` is traced after the
step, and every carried value takes ``fn``'s result on the steps that end an epoch and the
step's result on the others (a select, so the loop itself stays one straight body).
"""
import numpy as np

from symgrad.training.state import ItemSlot


class EpochClock:
    """The counter of finished steps, carried as one more slot of the loop."""

    def __init__(self, steps_per_epoch, first_steps):
        self.steps_per_epoch = steps_per_epoch
        self.counter = {"steps": first_steps}
        self.slot = ItemSlot(self.counter, "steps", "train.steps", np.int64)

    def ends_epoch(self, finished):
        return finished % self.steps_per_epoch == 0


def run_eagerly(epoch_end, clock):
    """After an eager step: count it, and call ``epoch_end`` if it ended an epoch."""
    clock.counter["steps"] += 1
    if epoch_end is not None and clock.ends_epoch(clock.counter["steps"]):
        epoch_end()


def traced_epoch_end(epoch_end, clock, outputs):
    """The carried values after the traced step and, on the steps that end an epoch, after
    ``epoch_end``; ``outputs()`` lists the slots' current values (the clock's among them)."""
    finished = clock.counter["steps"] + 1
    clock.counter["steps"] = finished
    after_step = outputs()
    epoch_end()
    ends = clock.ends_epoch(finished)
    return [np.where(ends, late, early) for late, early in zip(outputs(), after_step)]
