"""Numeric gradient checking for users: compare symgrad's gradients with central differences.

>>> import numpy as np, symgrad as sg
>>> report = sg.check_grad(lambda x: np.sum(np.tanh(x) ** 2), np.array([0.3, -1.2]), order=2)
>>> report.max_error < 1e-6
True
"""
from collections.abc import Callable, Sequence
from typing import Any
from dataclasses import dataclass

import numpy as np

import symgrad.core.pytree as pytree
from symgrad.api import grad
from symgrad.core.errors import TracingTypeError
from symgrad.core.tracing import error_here


@dataclass
class GradCheckReport:
    order: int
    max_error: float     # largest |analytic - numeric| / max(1, |numeric|)
    where: str           # argument and flat index of the largest error
    analytic: float
    numeric: float

    def __str__(self):
        return (f"order-{self.order} gradient check: largest error {self.max_error:.3g} at "
                f"{self.where} (symgrad {self.analytic:.6g}, numeric {self.numeric:.6g})")


def _fresh(args):
    """Copies of array arguments, so a function that assigns into its arguments in place
    (``a[:2] = v``) cannot change the point being checked between evaluations."""
    return [arg.copy() if isinstance(arg, np.ndarray) else arg for arg in args]


def _projected(fn, rng, example):
    """A scalar function: fn's outputs dotted with fixed random directions."""
    directions = [rng.standard_normal(np.shape(leaf))
                  for leaf in pytree.flatten(fn(*_fresh(example)))[0]]

    def scalar(*args):
        leaves, _ = pytree.flatten(fn(*_fresh(args)))
        return sum(np.sum(leaf * d) for leaf, d in zip(leaves, directions))
    return scalar


def _numeric_gradient(fn, args, position, eps):
    base = np.array(args[position], dtype=np.float64)
    numeric = np.zeros_like(base)
    for index in np.ndindex(base.shape):
        shifted = []
        for sign in (1, -1):
            moved = base.copy()
            moved[index] += sign * eps
            call_args = list(args)
            call_args[position] = moved
            shifted.append(float(fn(*call_args)))
        numeric[index] = (shifted[0] - shifted[1]) / (2 * eps)
    return numeric


def _compare(analytic_fn, numeric_fn, args, positions, eps, order):
    worst = GradCheckReport(order, 0.0, "nowhere", 0.0, 0.0)
    analytic = analytic_fn(*args)
    for position, gradient in zip(positions, analytic):
        numeric = _numeric_gradient(numeric_fn, args, position, eps)
        error = np.abs(np.asarray(gradient) - numeric) / np.maximum(1.0, np.abs(numeric))
        error = np.where(np.isnan(error), np.inf, error)   # a NaN gradient is the worst error
        if error.size and error.max() > worst.max_error:
            index = tuple(int(i) for i in np.unravel_index(int(np.argmax(error)), error.shape))
            worst = GradCheckReport(order, float(error[index]), f"argument {position} index {index}",
                                    float(np.asarray(gradient)[index]), float(numeric[index]))
    return worst


def _as_float64(position, value):
    """A float64 copy of argument ``position``; complex and non-numeric values are refused
    (a cast would drop the imaginary part)."""
    dtype = np.asarray(value).dtype
    if dtype.kind not in "biuf":
        raise error_here(f"check_grad: argument {position} has dtype {dtype.name}; it checks "
                         "real arguments, at float64", TracingTypeError)
    return np.asarray(value, dtype=np.float64)


def check_grad(fn: Callable, *args: Any, order: int = 2, eps: float = 1e-6,
               tolerance: float = 1e-5, argnums: int | Sequence[int] | None = None,
               backend: str = "numba") -> "GradCheckReport":
    """Check first (and with ``order=2`` second) derivatives of ``fn`` at float64 ``args``.

    Non-scalar outputs are projected on a fixed random direction. Raises AssertionError
    with the report when the largest relative error exceeds ``tolerance``; returns the
    report of the highest order checked otherwise."""
    args = [_as_float64(position, a) for position, a in enumerate(args)]
    positions = (tuple(range(len(args))) if argnums is None else
                 tuple(argnums) if isinstance(argnums, (tuple, list)) else (argnums,))
    rng = np.random.default_rng(0)
    scalar = _projected(fn, rng, args)
    gradient = grad(scalar, argnums=positions, backend=backend)
    report = _compare(gradient, scalar, args, positions, eps, 1)
    if report.max_error > tolerance:
        raise AssertionError(str(report))
    if order >= 2:
        directions = [rng.standard_normal(np.shape(args[p])) for p in positions]

        def directional(*point):
            return sum(np.sum(g * d) for g, d in zip(gradient(*point), directions))

        report = _compare(grad(directional, argnums=positions, backend=backend),
                          lambda *point: float(directional(*point)), args, positions,
                          eps * 100, 2)
        if report.max_error > tolerance * 100:
            raise AssertionError(str(report))
    return report
