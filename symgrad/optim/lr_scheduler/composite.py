"""Schedules with more state: ``SequentialLR`` (one schedule after another),
``ChainedScheduler`` (several at once),
``OneCycleLR`` (warm-up then annealing, with momentum cycled the other way) and
``ReduceLROnPlateau`` (driven by a metric: inside ``sg.train`` it is stepped with the
traced loss, and its rule is traced too).

>>> import symgrad as torch
>>> from symgrad import optim
>>> opt = optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
>>> plateau = optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0, factor=0.5)
>>> for loss in (1.0, 2.0, 2.0):
...     plateau.step(loss)
>>> plateau.get_last_lr()
[0.25]
"""
import bisect
import math

import numpy as np

from symgrad.optim.lr_scheduler.base import (LRScheduler, both, cos, optimizer_items,
                                              read_item, traced, where, write_item)


class SequentialLR(LRScheduler):
    """Run ``schedulers[i]`` from epoch ``milestones[i - 1]`` on (each restarts at 0)."""

    def __init__(self, optimizer, schedulers, milestones, last_epoch=-1):
        if len(schedulers) < 1:
            raise ValueError("SequentialLR expects at least one scheduler, but got no "
                             "scheduler.")
        for index, scheduler in enumerate(schedulers):
            if isinstance(scheduler, ReduceLROnPlateau):
                raise ValueError(f"SequentialLR does not support `ReduceLROnPlateau` scheduler "
                                 f"as it requires additional kwargs to be specified when "
                                 f"calling `step`, but got one at index {index} in the given "
                                 f"schedulers sequence.")
            if getattr(scheduler, "optimizer", None) is not optimizer:
                raise ValueError(f"SequentialLR expects all schedulers to belong to the same "
                                 f"optimizer, but got scheduler {type(scheduler).__name__} at "
                                 f"index {index} with another optimizer.")
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(f"Sequential Schedulers expects number of schedulers provided to "
                             f"be one more than the number of milestone points, but got number "
                             f"of schedulers {len(schedulers)} and the number of milestones to "
                             f"be equal to {len(milestones)}")
        self._schedulers = list(schedulers)
        self._milestones = list(milestones)
        self.last_epoch = last_epoch + 1
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        for scheduler in self._schedulers:          # undo the children's initial steps
            scheduler.last_epoch -= 1
        self._schedulers[0]._initial_step()
        self._last_lr = list(self._schedulers[0].get_last_lr())
        self._step_count = 1

    def step(self):
        self.last_epoch += 1
        if not traced(self.last_epoch):
            index = bisect.bisect_right(self._milestones, self.last_epoch)
            self._step_child(index, index > 0 and self._milestones[index - 1] == self.last_epoch)
        else:
            self._traced_step()
        self._remember_lrs()

    def _step_child(self, index, restart):
        if restart:
            self._schedulers[index]._update_lr(0)
        else:
            self._schedulers[index].step()

    def _traced_step(self):
        """Every child's step runs from the same state; each carried item keeps the value
        of the branch the traced epoch selects."""
        items = self._children_items()
        before = [read_item(container, key) for container, key, *_ in items]
        index = sum(where(self.last_epoch >= m, 1, 0) for m in self._milestones)
        merged = list(before)
        for child in range(len(self._schedulers)):
            for restart in ((False, True) if child else (False,)):
                for (container, key, *_), value in zip(items, before):
                    write_item(container, key, value)
                self._step_child(child, restart)
                chosen = index == child
                if child:
                    at_milestone = self.last_epoch == self._milestones[child - 1]
                    chosen = both(chosen, at_milestone if restart else ~at_milestone)
                merged = [where(chosen, read_item(container, key), old)
                          for (container, key, *_), old in zip(items, merged)]
        for (container, key, *_), value in zip(items, merged):
            write_item(container, key, value)

    def _children_items(self):
        items = [item for child in self._schedulers for item in child.carried_items()]
        unique = {}
        for item in items:
            unique.setdefault((id(item[0]), item[1]), item)
        return list(unique.values())

    def carried_items(self):
        own = [(self.__dict__, "last_epoch", "SequentialLR.last_epoch", np.int64)]
        own += [(self._last_lr, i, f"SequentialLR._last_lr[{i}]", np.float64)
                for i in range(len(self._last_lr))]
        return own + self._children_items()

    _parts = ("_schedulers",)

    def _save_part(self, key):
        return [child.state_dict() for child in self._schedulers]

    def _load_part(self, key, saved):
        for child, state in zip(self._schedulers, saved):
            child.load_state_dict(state)


class ChainedScheduler(LRScheduler):
    """Step every scheduler of ``schedulers`` at each step (their rules compose)."""

    def __init__(self, schedulers, optimizer=None):
        if len(schedulers) < 1:
            raise ValueError(f"{type(self).__name__} expects at least one scheduler to be "
                             f"chained, but got no scheduler.")
        optimizer = optimizer or schedulers[0].optimizer
        for index, scheduler in enumerate(schedulers):
            if not hasattr(scheduler, "optimizer"):
                raise TypeError(f"{type(self).__name__} at index {index} should have "
                                f"`optimizer` as its attribute.")
            if isinstance(scheduler, ReduceLROnPlateau):
                raise ValueError(f"{type(self).__name__} does not support `ReduceLROnPlateau` "
                                 f"scheduler as it requires additional kwargs to be specified "
                                 f"when calling `step`, but got one at index {index} in the "
                                 f"given schedulers sequence.")
            if scheduler.optimizer is not optimizer:
                raise ValueError(f"{type(self).__name__} expects all schedulers to belong to "
                                 f"the same optimizer, but got scheduler "
                                 f"{type(scheduler).__name__} at index {index} has "
                                 f"{scheduler.optimizer}, which is different from "
                                 f"{type(optimizer).__name__}.")
        self._schedulers = list(schedulers)
        self.optimizer = optimizer
        self._last_lr = [group["lr"] for group in optimizer.param_groups]

    @property
    def last_epoch(self):
        """The first chained scheduler's count (sg.train counts the steps by it)."""
        return self._schedulers[0].last_epoch

    def step(self):
        for scheduler in self._schedulers:
            scheduler.step()
        self._remember_lrs()

    _children_items = SequentialLR._children_items
    _parts = SequentialLR._parts
    _save_part = SequentialLR._save_part
    _load_part = SequentialLR._load_part

    def carried_items(self):
        own = [(self._last_lr, i, f"ChainedScheduler._last_lr[{i}]", np.float64)
               for i in range(len(self._last_lr))]
        return own + self._children_items()

    def prepare_future_steps(self, count):
        for scheduler in self._schedulers:
            scheduler.prepare_future_steps(count)


class OneCycleLR(LRScheduler):
    """The 1cycle policy: the learning rate rises from ``max_lr / div_factor`` to
    ``max_lr`` over ``pct_start`` of ``total_steps``, then anneals to ``initial_lr /
    final_div_factor``; momentum (or Adam's beta1) cycles the opposite way."""

    def __init__(self, optimizer, max_lr, total_steps=None, epochs=None, steps_per_epoch=None,
                 pct_start=0.3, anneal_strategy="cos", cycle_momentum=True, base_momentum=0.85,
                 max_momentum=0.95, div_factor=25.0, final_div_factor=1e4, three_phase=False,
                 last_epoch=-1):
        self.optimizer = optimizer
        self.total_steps = _total_steps(total_steps, epochs, steps_per_epoch)
        self._schedule_phases = _phases(self.total_steps, pct_start, three_phase)
        if pct_start < 0 or pct_start > 1 or not isinstance(pct_start, float):
            raise ValueError(f"Expected float between 0 and 1 pct_start, but got {pct_start}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', instead got "
                             f"{anneal_strategy}")
        self._anneal_func_type = anneal_strategy
        groups = optimizer.param_groups
        max_lrs = _per_group("max_lr", groups, max_lr)
        if last_epoch == -1:
            for group, top in zip(groups, max_lrs):
                group["initial_lr"] = top / div_factor
                group["max_lr"] = top
                group["min_lr"] = group["initial_lr"] / final_div_factor
        start_cycled_momentum(self, cycle_momentum, max_momentum, base_momentum, last_epoch)
        super().__init__(optimizer, last_epoch)

    def _set_momentum(self, group, value):
        set_momentum(group, value, self.use_beta1)

    def _anneal(self, start, end, pct):
        if self._anneal_func_type == "cos":
            return end + (start - end) / 2.0 * (cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def _phase_value(self, group, start_key, end_key):
        """The annealed value of the phase ``last_epoch`` falls in (the last phase after)."""
        step, start_step, values = self.last_epoch, 0.0, []
        for phase in self._schedule_phases:
            pct = (step - start_step) / (phase["end_step"] - start_step)
            values.append((phase["end_step"],
                           self._anneal(group[phase[start_key]], group[phase[end_key]], pct)))
            start_step = phase["end_step"]
            if not traced(step) and step <= phase["end_step"]:
                return values[-1][1]
        value = values[-1][1]
        for end_step, candidate in reversed(values[:-1]):
            value = where(step <= end_step, candidate, value)
        return value

    def get_lr(self):
        if not traced(self.last_epoch) and self.last_epoch > self.total_steps:
            raise ValueError(f"Tried to step {self.last_epoch} times. The specified number of "
                             f"total steps is {self.total_steps}")
        lrs = []
        for group in self.optimizer.param_groups:
            lrs.append(self._phase_value(group, "start_lr", "end_lr"))
            if self.cycle_momentum:
                self._set_momentum(group, self._phase_value(group, "start_momentum",
                                                            "end_momentum"))
        return lrs

    def prepare_future_steps(self, count):
        if self.last_epoch + count > self.total_steps:
            raise ValueError(f"Tried to step {self.last_epoch + count} times. The specified "
                             f"number of total steps is {self.total_steps}")

    def carried_items(self):
        return super().carried_items() + cycled_momentum_items(self)


def start_cycled_momentum(scheduler, cycle_momentum, max_momentum, base_momentum, last_epoch):
    """OneCycleLR's and CyclicLR's momentum (SGD's ``momentum`` or Adam's beta1) set up as
    PyTorch does: each group starts at ``max_momentum`` and records both bounds."""
    scheduler.cycle_momentum = cycle_momentum
    if not cycle_momentum:
        return
    optimizer = scheduler.optimizer
    if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
        raise ValueError("optimizer must support momentum or beta1 with `cycle_momentum` "
                         "option enabled")
    scheduler.use_beta1 = "betas" in optimizer.defaults
    groups = optimizer.param_groups
    highs = _per_group("max_momentum", groups, max_momentum)
    lows = _per_group("base_momentum", groups, base_momentum)
    if last_epoch == -1:
        for group, high, low in zip(groups, highs, lows):
            set_momentum(group, high, scheduler.use_beta1)
            group["max_momentum"], group["base_momentum"] = high, low
    return highs, lows


def set_momentum(group, value, use_beta1):
    if use_beta1:
        group["betas"] = (value, *group["betas"][1:])
    else:
        group["momentum"] = value


def cycled_momentum_items(scheduler):
    """The carried items of the momentum a cycling scheduler writes (none if it does not)."""
    if not scheduler.cycle_momentum:
        return []
    key = "betas" if scheduler.use_beta1 else "momentum"
    return [item for item in optimizer_items(scheduler.optimizer, (key,))
            if not isinstance(item[1], tuple) or item[1][1] == 0]


def _per_group(name, groups, value):
    if isinstance(value, (list, tuple)):
        if len(value) != len(groups):
            raise ValueError(f"{name} must have the same length as optimizer.param_groups. "
                             f"{name} has {len(value)} values, param_groups has {len(groups)}.")
        return list(value)
    return [value] * len(groups)


def _total_steps(total_steps, epochs, steps_per_epoch):
    if total_steps is not None:
        if not isinstance(total_steps, int) or total_steps <= 0:
            raise ValueError(f"Expected positive integer total_steps, but got {total_steps}")
        return total_steps
    if epochs is not None and steps_per_epoch is not None:
        if not isinstance(epochs, int) or epochs <= 0:
            raise ValueError(f"Expected positive integer epochs, but got {epochs}")
        if not isinstance(steps_per_epoch, int) or steps_per_epoch <= 0:
            raise ValueError(f"Expected positive integer steps_per_epoch, but got "
                             f"{steps_per_epoch}")
        return epochs * steps_per_epoch
    raise ValueError("You must define either total_steps OR (epochs AND steps_per_epoch)")


def _phases(total, pct_start, three_phase):
    def phase(end_step, start_lr, end_lr, start_momentum, end_momentum):
        return dict(end_step=end_step, start_lr=start_lr, end_lr=end_lr,
                    start_momentum=start_momentum, end_momentum=end_momentum)
    rise = phase(float(pct_start * total) - 1, "initial_lr", "max_lr", "max_momentum",
                 "base_momentum")
    if three_phase:
        return [rise, phase(float(2 * pct_start * total) - 2, "max_lr", "initial_lr",
                            "base_momentum", "max_momentum"),
                phase(total - 1, "initial_lr", "min_lr", "max_momentum", "max_momentum")]
    return [rise, phase(total - 1, "max_lr", "min_lr", "base_momentum", "max_momentum")]


class ReduceLROnPlateau(LRScheduler):
    """Multiply the learning rate by ``factor`` once ``metrics`` (passed to ``step``) has
    not improved for ``patience`` epochs."""

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4,
                 threshold_mode="rel", cooldown=0, min_lr=0, eps=1e-8):
        from symgrad.optim.optimizer import Optimizer
        if factor >= 1.0:
            raise ValueError("Factor should be < 1.0.")
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        if mode not in ("min", "max"):
            raise ValueError(f"mode {mode} is unknown!")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"threshold mode {threshold_mode} is unknown!")
        self.factor, self.optimizer = factor, optimizer
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != len(optimizer.param_groups):
                raise ValueError(f"expected {len(optimizer.param_groups)} min_lrs, got "
                                 f"{len(min_lr)}")
            self.default_min_lr, self.min_lrs = None, list(min_lr)
        else:
            self.default_min_lr, self.min_lrs = min_lr, [min_lr] * len(optimizer.param_groups)
        self.patience, self.cooldown, self.eps = patience, cooldown, eps
        self.last_epoch = 0
        self._last_lr = self._group_lrs()
        self.mode, self.threshold, self.threshold_mode = mode, threshold, threshold_mode
        self.mode_worse = math.inf if mode == "min" else -math.inf
        self._reset()

    def _reset(self):
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    @property
    def in_cooldown(self):
        return self.cooldown_counter > 0

    def _is_better(self, a, best):
        if self.mode == "min":
            return a < (best * (1.0 - self.threshold) if self.threshold_mode == "rel"
                        else best - self.threshold)
        return a > (best * (self.threshold + 1.0) if self.threshold_mode == "rel"
                    else best + self.threshold)

    def step(self, metrics, epoch=None):
        """One epoch's ``metrics`` (a number or a one-element tensor; inside ``sg.train``
        the traced loss)."""
        current = getattr(metrics, "_value", metrics)
        current = current.reshape(()) if traced(current) else float(np.asarray(current))
        self.last_epoch = self.last_epoch + 1 if epoch is None else epoch
        better = self._is_better(current, self.best)
        self.best = where(better, current, self.best)
        bad = where(better, 0, self.num_bad_epochs + 1)
        cooling = self.cooldown_counter > 0
        self.cooldown_counter = where(cooling, self.cooldown_counter - 1, self.cooldown_counter)
        bad = where(cooling, 0, bad)
        reduce = bad > self.patience
        for group, low in zip(self.optimizer.param_groups, self.min_lrs):
            old = group["lr"]
            new = np.maximum(old * self.factor, low) if traced(old, reduce) else \
                max(float(old) * self.factor, low)
            group["lr"] = where(both(reduce, old - new > self.eps), new, old)
        self.cooldown_counter = where(reduce, self.cooldown, self.cooldown_counter)
        self.num_bad_epochs = where(reduce, 0, bad)
        self._remember_lrs()

    def _carried_attributes(self):
        return ("last_epoch", "best", "num_bad_epochs", "cooldown_counter")
