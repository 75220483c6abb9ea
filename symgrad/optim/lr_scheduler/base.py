"""``LRScheduler``: PyTorch's scheduler protocol (``step``, ``get_last_lr``, ``state_dict``),
written so that one ``step`` runs eagerly on Python numbers and traced inside ``sg.train``.

A scheduler's counters (``last_epoch``, ``_step_count``, ...) and the learning rates it
writes into its optimizer's groups are *carried items*: ``sg.train`` makes each a scalar
input of the compiled step and writes its new value back after every step
(symgrad.training.state), so a scheduler stepped inside the step function changes the
learning rate inside the compiled loop. The rules are therefore written with ``where``
instead of ``if`` (``where`` is Python's conditional on Python numbers) and with ``cos``
that accepts traced values; eagerly they compute torch's numbers with torch's recursive
(chainable) formulas.
"""
import math
import warnings

import numpy as np

from symgrad.core.tracing import Tracer


def traced(*values):
    return any(isinstance(value, Tracer) for value in values)


def where(condition, if_true, if_false):
    """``if_true if condition else if_false``, for a traced condition too."""
    if isinstance(condition, Tracer):
        return np.where(condition, if_true, if_false)
    return if_true if condition else if_false


def choose(condition, if_true, if_false):
    """``where`` of two thunks: eagerly only the chosen one runs (the other may divide by
    zero); traced, both do and the select keeps the chosen lanes."""
    if isinstance(condition, Tracer):
        return np.where(condition, if_true(), if_false())
    return if_true() if condition else if_false()


def both(a, b):
    return np.logical_and(a, b) if traced(a, b) else (a and b)


def cos(x):
    return np.cos(x) if traced(x) else math.cos(x)


class LRScheduler:
    """Base class: sets each group's ``initial_lr``, keeps ``base_lrs`` and ``last_epoch``,
    and makes the initial step (``last_epoch`` -1 -> 0) at construction, as PyTorch does.
    Subclasses write ``get_lr`` (the new learning rate of each group)."""

    _is_initial = False

    def __init__(self, optimizer, last_epoch=-1):
        from symgrad.optim.optimizer import Optimizer
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for index, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(f"param 'initial_lr' is not specified in "
                                   f"param_groups[{index}] when resuming scheduler with "
                                   f"last_epoch >= 0.")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._last_lr = []
        self._initial_step()

    def _initial_step(self):
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self):
        raise NotImplementedError(f"{type(self).__name__} does not implement get_lr()")

    def get_last_lr(self):
        """The learning rate of each group after the last ``step``."""
        return self._last_lr

    def step(self, epoch=None):
        """Advance the schedule by one (or, deprecated, to ``epoch`` with the closed form)
        and write the new learning rates into the optimizer's groups."""
        self._step_count += 1
        if epoch is not None:
            warnings.warn("The epoch parameter in `scheduler.step()` was not necessary and is "
                          "being deprecated where possible. Please use `scheduler.step()` to "
                          "step the scheduler.", UserWarning, stacklevel=2)
        self._update_lr(epoch)

    def _update_lr(self, epoch=None):
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            self.last_epoch = epoch
            values = (self._get_closed_form_lr() if hasattr(self, "_get_closed_form_lr")
                      else self.get_lr())
        for group, lr in zip(self.optimizer.param_groups, values):
            group["lr"] = lr
        self._remember_lrs()

    def _remember_lrs(self):
        # updated in place: sg.train carries the list's entries (symgrad.training.state)
        self._last_lr[:] = [group["lr"] for group in self.optimizer.param_groups]

    def _group_lrs(self):
        return [group["lr"] for group in self.optimizer.param_groups]

    # -- state ------------------------------------------------------------------------------------
    #: attributes saved by ``_save_part`` and restored by ``_load_part`` (not as they are)
    _parts = ()
    #: attributes not saved at all
    _unsaved = ("optimizer",)

    def state_dict(self):
        """Every attribute but the optimizer (PyTorch's layout)."""
        state = {key: value for key, value in self.__dict__.items()
                 if key not in self._unsaved and key not in self._parts}
        state.update({key: self._save_part(key) for key in self._parts})
        return state

    def load_state_dict(self, state_dict):
        state = dict(state_dict)
        parts = {key: state.pop(key) for key in self._parts if key in state}
        last_lr = state.pop("_last_lr", None)
        self.__dict__.update(state)
        if last_lr is not None:
            self._last_lr[:] = list(last_lr)
        for key, saved in parts.items():
            self._load_part(key, saved)

    def _save_part(self, key):
        raise NotImplementedError

    def _load_part(self, key, saved):
        raise NotImplementedError

    def carried_items(self):
        """``(container, key, name, dtype)`` of every number ``step`` changes: sg.train
        carries them through its compiled loop."""
        name = type(self).__name__
        items = [(self.__dict__, key, f"{name}.{key}",
                  np.int64 if isinstance(getattr(self, key), int) else np.float64)
                 for key in self._carried_attributes()]
        items += [(self._last_lr, index, f"{name}._last_lr[{index}]", np.float64)
                  for index in range(len(self._last_lr))]
        return items + optimizer_items(self.optimizer, ("lr",))

    def _carried_attributes(self):
        return ("last_epoch", "_step_count")

    def prepare_future_steps(self, count):
        """Get ready for ``count`` more steps inside a compiled loop (sg.train calls it before
        tracing; the loop cannot raise midway): raise if they are not allowed."""

    def __repr__(self):
        return f"<{type(self).__module__}.{type(self).__name__} object>"


def read_item(container, key):
    """``container[key]``; a key ``(name, k)`` reads entry k of the pair ``container[name]``."""
    if isinstance(key, tuple):
        return container[key[0]][key[1]]
    return container[key]


def write_item(container, key, value):
    if isinstance(key, tuple):
        name, k = key
        entries = list(container[name])
        entries[k] = value
        container[name] = tuple(entries)
    else:
        container[key] = value


def optimizer_items(optimizer, keys):
    """The carried items of ``optimizer``'s groups: ``group[key]`` (a pair's entries)."""
    items = []
    for index, group in enumerate(optimizer.param_groups):
        for key in keys:
            if isinstance(group[key], tuple):
                items += [(group, (key, k), f"param_groups[{index}][{key!r}][{k}]", np.float64)
                          for k in range(len(group[key]))]
            else:
                items.append((group, key, f"param_groups[{index}][{key!r}]", np.float64))
    return items
