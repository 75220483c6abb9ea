"""Schedules that depend only on the step count: ``LambdaLR``, ``MultiplicativeLR``,
``StepLR``, ``MultiStepLR``, ``ConstantLR``, ``LinearLR``, ``ExponentialLR``,
``PolynomialLR``, ``CosineAnnealingLR`` (PyTorch's chainable rules and closed forms).

>>> import symgrad as torch
>>> from symgrad import optim
>>> opt = optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
>>> schedule = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
>>> for _ in range(4):
...     opt.step(); schedule.step()
>>> schedule.get_last_lr()
[0.25]
"""
import math
import types
from collections import Counter

import numpy as np

from symgrad.core.errors import TracingError
from symgrad.optim.lr_scheduler.base import LRScheduler, both, choose, cos, traced, where


def _per_group(name, optimizer, value):
    if isinstance(value, (list, tuple)):
        if len(value) != len(optimizer.param_groups):
            raise ValueError(f"Expected {len(optimizer.param_groups)} {name}, but got "
                             f"{len(value)}")
        return list(value)
    return [value] * len(optimizer.param_groups)


class _LambdaScheduler(LRScheduler):
    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        self.optimizer = optimizer
        self.lr_lambdas = _per_group("lr_lambdas", optimizer, lr_lambda)
        for function in self.lr_lambdas:
            if not callable(function):
                raise TypeError(f"lr_lambda should be a function, but got "
                                f"{type(function).__name__}")
        super().__init__(optimizer, last_epoch)

    _unsaved = ("optimizer", "_planned")

    def prepare_future_steps(self, count):
        """Inside sg.train the lambdas are not traced: their values for the next ``count``
        epochs are tabled now (any Python works in them) and the traced step picks its
        epoch's entry."""
        first = self.last_epoch + 1
        self._planned = (first, tuple(tuple(float(f(epoch)) for epoch in range(first, first + count))
                                      for f in self.lr_lambdas))

    def _factors(self):
        epoch = self.last_epoch
        planned = getattr(self, "_planned", None)
        if not traced(epoch) or planned is None or not planned[1][0]:
            return [self._factor(f) for f in self.lr_lambdas]
        first, tables = planned
        slots = np.arange(first, first + len(tables[0]))
        return [np.sum(np.where(slots == epoch, np.array(table), 0.0)) for table in tables]

    def _factor(self, function):
        try:
            return function(self.last_epoch)
        except TracingError as error:
            raise TracingError(f"{type(self).__name__} inside sg.train: its lr_lambda is "
                               f"called with the traced step count, so it must be written "
                               f"with operations symgrad traces (arithmetic, numpy functions, "
                               f"np.where instead of if): {error}") from error

    _parts = ("lr_lambdas",)

    def _save_part(self, key):
        # functions are not saved; callable objects' attributes are (PyTorch's rule)
        return [None if isinstance(f, types.FunctionType) else dict(f.__dict__)
                for f in self.lr_lambdas]

    def _load_part(self, key, saved):
        for function, attributes in zip(self.lr_lambdas, saved):
            if attributes is not None:
                function.__dict__.update(attributes)


class LambdaLR(_LambdaScheduler):
    """``lr = initial_lr * lr_lambda(epoch)`` (one function, or one per group)."""

    def get_lr(self):
        return [base * factor for factor, base in zip(self._factors(), self.base_lrs)]


class MultiplicativeLR(_LambdaScheduler):
    """``lr = lr * lr_lambda(epoch)`` at every step after the first."""

    def get_lr(self):
        if self._is_initial:
            return self._group_lrs()
        return [lr * factor for factor, lr in zip(self._factors(), self._group_lrs())]


class StepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every ``step_size`` epochs."""

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        decays = both(self.last_epoch != 0, self.last_epoch % self.step_size == 0)
        return [where(decays, lr * self.gamma, lr) for lr in self._group_lrs()]

    def _get_closed_form_lr(self):
        return [base * self.gamma ** (self.last_epoch // self.step_size)
                for base in self.base_lrs]


class MultiStepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` at each milestone epoch."""

    def __init__(self, optimizer, milestones, gamma=0.1, last_epoch=-1):
        self.milestones = Counter(milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if not traced(self.last_epoch):
            if self.last_epoch not in self.milestones:
                return self._group_lrs()
            return [lr * self.gamma ** self.milestones[self.last_epoch]
                    for lr in self._group_lrs()]
        hits = sum(where(self.last_epoch == m, count, 0) for m, count in self.milestones.items())
        return [lr * self.gamma ** hits for lr in self._group_lrs()]

    def _get_closed_form_lr(self):
        passed = sum(count for m, count in self.milestones.items() if m <= self.last_epoch)
        return [base * self.gamma ** passed for base in self.base_lrs]


class ConstantLR(LRScheduler):
    """Scale the learning rate by ``factor`` until epoch ``total_iters``."""

    def __init__(self, optimizer, factor=1.0 / 3, total_iters=5, last_epoch=-1):
        if factor > 1.0 or factor < 0:
            raise ValueError("Constant multiplicative factor expected to be between 0 and 1.")
        self.factor = factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [where(self.last_epoch == 0, lr * self.factor,
                      where(self.last_epoch != self.total_iters, lr, lr * (1.0 / self.factor)))
                for lr in self._group_lrs()]

    def _get_closed_form_lr(self):
        return [base * (self.factor + (self.last_epoch >= self.total_iters) * (1 - self.factor))
                for base in self.base_lrs]


class LinearLR(LRScheduler):
    """Scale the learning rate linearly from ``start_factor`` to ``end_factor`` over
    ``total_iters`` epochs (a warm-up)."""

    def __init__(self, optimizer, start_factor=1.0 / 3, end_factor=1.0, total_iters=5,
                 last_epoch=-1):
        if start_factor > 1.0 or start_factor <= 0:
            raise ValueError("Starting multiplicative factor expected to be greater than 0 "
                             "and less or equal to 1.")
        if end_factor > 1.0 or end_factor < 0:
            raise ValueError("Ending multiplicative factor expected to be between 0 and 1.")
        self.start_factor = start_factor
        self.end_factor = end_factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        epoch, span = self.last_epoch, self.end_factor - self.start_factor
        keep = self._is_initial or epoch > self.total_iters

        def grown(lr):
            return lr * (1.0 + span / (self.total_iters * self.start_factor + (epoch - 1) * span))
        return [choose(epoch == 0, lambda: lr * self.start_factor,
                       lambda: choose(keep, lambda: lr, lambda: grown(lr)))
                for lr in self._group_lrs()]

    def _get_closed_form_lr(self):
        fraction = min(self.total_iters, self.last_epoch) / self.total_iters
        return [base * (self.start_factor + (self.end_factor - self.start_factor) * fraction)
                for base in self.base_lrs]


class ExponentialLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every epoch."""

    def __init__(self, optimizer, gamma, last_epoch=-1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self._is_initial:
            return self._group_lrs()
        return [lr * self.gamma for lr in self._group_lrs()]

    def _get_closed_form_lr(self):
        return [base * self.gamma ** self.last_epoch for base in self.base_lrs]


class PolynomialLR(LRScheduler):
    """Decay the learning rate by ``(1 - epoch / total_iters) ** power`` until
    ``total_iters``."""

    def __init__(self, optimizer, total_iters=5, power=1.0, last_epoch=-1):
        self.total_iters = total_iters
        self.power = power
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        epoch, total = self.last_epoch, self.total_iters
        keep = self._is_initial or epoch > total

        def decayed(lr):
            return lr * ((1.0 - epoch / total) / (1.0 - (epoch - 1) / total)) ** self.power
        return [choose(keep, lambda: lr, lambda: decayed(lr)) for lr in self._group_lrs()]

    def _get_closed_form_lr(self):
        fraction = min(self.total_iters, self.last_epoch) / self.total_iters
        return [base * (1.0 - fraction) ** self.power for base in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """Anneal the learning rate from its initial value to ``eta_min`` along a half cosine
    over ``T_max`` epochs (and back up after, as PyTorch's recursive rule does)."""

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self._is_initial:
            return self._group_lrs()
        epoch, t_max, low = self.last_epoch, self.T_max, self.eta_min
        resumed = both(self._step_count == 1, epoch > 0)
        restart = (epoch - 1 - t_max) % (2 * t_max) == 0
        lrs = []
        for base, lr in zip(self.base_lrs, self._group_lrs()):
            def closed(base=base):
                return low + (base - low) * (1 + cos(epoch * math.pi / t_max)) / 2

            def rising(base=base, lr=lr):
                return lr + (base - low) * (1 - math.cos(math.pi / t_max)) / 2

            def annealed(lr=lr):
                return ((1 + cos(math.pi * epoch / t_max)) /
                        (1 + cos(math.pi * (epoch - 1) / t_max)) * (lr - low) + low)
            lrs.append(choose(resumed, closed, lambda: choose(restart, rising, annealed)))
        return lrs

    def _get_closed_form_lr(self):
        return [self.eta_min + (base - self.eta_min) *
                (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
                for base in self.base_lrs]
