"""Cyclic schedules with PyTorch's rules: ``CyclicLR`` (triangular cycles between
``base_lr`` and ``max_lr``, momentum cycled the other way) and
``CosineAnnealingWarmRestarts`` (SGDR: cosine annealing restarted every ``T_i`` epochs,
``T_i`` growing by ``T_mult``). Both also step inside ``sg.train``'s compiled loop, where
their counters are carried state (see symgrad.optim.lr_scheduler.base).

>>> import symgrad as torch
>>> from symgrad import optim
>>> opt = optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0, momentum=0.9)
>>> cyclic = optim.lr_scheduler.CyclicLR(opt, base_lr=0.1, max_lr=1.0, step_size_up=2)
>>> opt.step(); cyclic.step(); cyclic.get_last_lr()
[0.55]
"""
import math
import types

import numpy as np

from symgrad.core.errors import TracingError
from symgrad.optim.lr_scheduler.base import LRScheduler, cos, traced, where
from symgrad.optim.lr_scheduler.composite import (_per_group, cycled_momentum_items,
                                                   set_momentum, start_cycled_momentum)


def floor(value):
    return np.floor(value) if traced(value) else math.floor(value)


class CyclicLR(LRScheduler):
    """The learning rate cycles between ``base_lr`` and ``max_lr`` (``step_size_up`` steps
    up, ``step_size_down`` down), scaled by ``mode`` (triangular, triangular2, exp_range)
    or ``scale_fn``; stepped once per batch."""

    def __init__(self, optimizer, base_lr, max_lr, step_size_up=2000, step_size_down=None,
                 mode="triangular", gamma=1.0, scale_fn=None, scale_mode="cycle",
                 cycle_momentum=True, base_momentum=0.8, max_momentum=0.9, last_epoch=-1):
        from symgrad.optim.optimizer import Optimizer
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        groups = optimizer.param_groups
        base_lrs = _per_group("base_lr", groups, base_lr)
        if last_epoch == -1:
            for lr, group in zip(base_lrs, groups):
                group["lr"] = lr
        self.max_lrs = _per_group("max_lr", groups, max_lr)
        step_size_up = float(step_size_up)
        step_size_down = float(step_size_down) if step_size_down is not None else step_size_up
        self.total_size = step_size_up + step_size_down
        self.step_ratio = step_size_up / self.total_size
        if mode not in ("triangular", "triangular2", "exp_range") and scale_fn is None:
            raise ValueError("mode is invalid and scale_fn is None")
        self.mode, self.gamma = mode, gamma
        self._scale_fn_custom, self.scale_mode = scale_fn, scale_mode
        self._init_scale_fn()
        bounds = start_cycled_momentum(self, cycle_momentum, max_momentum, base_momentum,
                                       last_epoch)
        if bounds is not None:
            self.max_momentums, self.base_momentums = bounds
        super().__init__(optimizer, last_epoch)
        self.base_lrs = base_lrs

    _unsaved = ("optimizer", "_scale_fn_ref")
    _parts = ("_scale_fn_custom",)

    def _init_scale_fn(self):
        if self._scale_fn_custom is not None:
            return
        self.scale_mode = "iterations" if self.mode == "exp_range" else "cycle"
        self._scale_fn_ref = {"triangular": lambda x: 1.0,
                              "triangular2": lambda x: 1 / (2.0 ** (x - 1)),
                              "exp_range": lambda x: self.gamma ** x}[self.mode]

    def scale_fn(self, x):
        function = self._scale_fn_custom or self._scale_fn_ref
        try:
            return function(x)
        except TracingError as error:
            raise TracingError(f"CyclicLR inside sg.train: scale_fn is called with the traced "
                               f"step count, so it must be written with operations symgrad "
                               f"traces (arithmetic, numpy functions): {error}") from error

    def _save_part(self, key):
        # functions are not saved; callable objects' attributes are (PyTorch's rule)
        function = self._scale_fn_custom
        return None if function is None or isinstance(function, types.FunctionType) else \
            dict(function.__dict__)

    def _load_part(self, key, saved):
        if saved is not None:
            self._scale_fn_custom.__dict__.update(saved)
        self._init_scale_fn()

    def _heights(self):
        """(cycle, scale factor of the current point in the cycle)."""
        cycle = floor(1 + self.last_epoch / self.total_size)
        x = 1.0 + self.last_epoch / self.total_size - cycle
        scale = where(x <= self.step_ratio, x / self.step_ratio,
                      (x - 1) / (self.step_ratio - 1))
        return cycle, scale

    def get_lr(self):
        cycle, scale_factor = self._heights()
        scaled = self.scale_fn(cycle if self.scale_mode == "cycle" else self.last_epoch)
        lrs = [base + (top - base) * scale_factor * scaled
               for base, top in zip(self.base_lrs, self.max_lrs)]
        if self.cycle_momentum:
            for group, low, high in zip(self.optimizer.param_groups, self.base_momentums,
                                        self.max_momentums):
                set_momentum(group, high - (high - low) * scale_factor * scaled, self.use_beta1)
        return lrs

    def carried_items(self):
        return super().carried_items() + cycled_momentum_items(self)


class CosineAnnealingWarmRestarts(LRScheduler):
    """``lr = eta_min + (base - eta_min) (1 + cos(pi T_cur / T_i)) / 2``, restarting when
    ``T_cur`` reaches ``T_i`` (then ``T_i *= T_mult``)."""

    def __init__(self, optimizer, T_0, T_mult=1, eta_min=0.0, last_epoch=-1):
        if T_0 <= 0 or not isinstance(T_0, int):
            raise ValueError(f"Expected positive integer T_0, but got {T_0}")
        if T_mult < 1 or not isinstance(T_mult, int):
            raise ValueError(f"Expected integer T_mult >= 1, but got {T_mult}")
        if not isinstance(eta_min, (float, int)):
            raise ValueError(f"Expected float or int eta_min, but got {eta_min} of type "
                             f"{type(eta_min)}")
        self.T_0, self.T_i, self.T_mult, self.eta_min = T_0, T_0, T_mult, eta_min
        self.T_cur = last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [self.eta_min + (base - self.eta_min) * (1 + cos(math.pi * self.T_cur / self.T_i))
                / 2 for base in self.base_lrs]

    def step(self, epoch=None):
        """Advance one epoch, or (a float, as within an epoch) jump to ``epoch``. As in
        PyTorch, this step does not count ``_step_count``."""
        if epoch is None and not traced(self.last_epoch) and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur = self.T_cur + 1
            wraps = self.T_cur >= self.T_i
            self.T_cur = where(wraps, self.T_cur % self.T_i, self.T_cur)
            self.T_i = where(wraps, self.T_i * self.T_mult, self.T_i)
        else:
            self._jump(epoch)
        self.last_epoch = epoch if traced(epoch) else math.floor(epoch)
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = lr
        self._remember_lrs()

    def _jump(self, epoch):
        if epoch < 0:
            raise ValueError(f"Expected non-negative epoch, but got {epoch}")
        if epoch < self.T_0:
            self.T_i, self.T_cur = self.T_0, epoch
        elif self.T_mult == 1:
            self.T_cur = epoch % self.T_0
        else:
            n = int(math.log((epoch / self.T_0 * (self.T_mult - 1) + 1), self.T_mult))
            self.T_cur = epoch - self.T_0 * (self.T_mult ** n - 1) / (self.T_mult - 1)
            self.T_i = self.T_0 * self.T_mult ** n

    def _carried_attributes(self):
        return ("last_epoch", "T_cur", "T_i")
