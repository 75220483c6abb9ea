"""Piecewise functions: rounding (zero gradient almost everywhere), integer division and
remainders (``//`` and ``%`` on tracers), NaN/infinity tests and replacement, and the
selections ``np.heaviside`` and ``np.select``.

>>> import numpy as np, symgrad as sg
>>> sg.grad(lambda x: np.sum(x % 1.5 + np.floor(x)))(np.array([1.0, 2.0]))
array([1., 1.])
"""
import numpy as np

from symgrad.core.ops.common import apply, no_gradient, result_dtype
from symgrad.core.ops.elementwise import (
    astype, broadcast_rule, greater, less, predicate_rule, torch_faces, true_divide, where)
from symgrad.core.ops.registry import Faces, declare, faced, front
from symgrad.core.tracing import Tracer, copy_of, error_here


# -- rounding -----------------------------------------------------------------------------
def _rounding(name, reference, faces):
    """``np.<name>``: zero gradient; integers stay as they are when numpy keeps their dtype
    (numpy 2 rounds them to themselves) and become floats where it does not (``np.rint``)."""
    declare(name, broadcast_rule, reference, [no_gradient], f"np.{name}({{0}})",
            family="elementwise")

    def function(x):
        dtype = reference(np.zeros(1, result_dtype(x))).dtype
        if dtype.kind in "biu":
            return copy_of(x) if isinstance(x, Tracer) else reference(x)
        return apply(name, [x], dtype)
    return front(function, faces)


floor = _rounding("floor", np.floor, torch_faces(np.floor, "floor"))
ceil = _rounding("ceil", np.ceil, torch_faces(np.ceil, "ceil"))
trunc = _rounding("trunc", np.trunc, Faces(numpy=(np.trunc, np.fix), tensor=("trunc", "fix"),
                                           torch=("trunc", "fix"), grad_fn="TruncBackward0"))
rint = _rounding("rint", np.rint, Faces(numpy=(np.rint,)))


@faced(numpy=(np.round, np.around), method=("round",), tensor=("round",),
       torch=("round",), grad_fn="RoundBackward0")
def around(x, decimals=0, out=None):
    """``np.round``: half to even, ``decimals`` digits (negative: tens, hundreds...), computed
    as numpy does (``rint(x * 10**decimals) / 10**decimals``)."""
    if out is not None:
        raise error_here("np.round(..., out=...) is not supported by symgrad; write "
                         "y = np.round(x) instead")
    decimals = 0 if decimals is None else decimals
    if decimals == 0 or result_dtype(x).kind in "biu" and decimals > 0:
        return rint(x) if result_dtype(x).kind in "fc" else copy_of(x)
    if result_dtype(x).kind in "biu":
        scale = 10 ** -decimals
        return astype(rint(true_divide(x, scale)) * scale, result_dtype(x))
    if decimals > 0:
        return rint(x * 10.0 ** decimals) / 10.0 ** decimals
    return rint(x / 10.0 ** -decimals) * 10.0 ** -decimals


@faced(tensor=("frac",), torch=("frac",), grad_fn="FracBackward0")
def frac(x):
    """PyTorch's ``frac``: ``x - trunc(x)`` (gradient 1)."""
    return x - trunc(x)


# -- integer division and remainders --------------------------------------------------------
declare("floor_divide", broadcast_rule, np.floor_divide, [no_gradient, no_gradient],
        "{0} // {1}", family="elementwise")
# x - y * floor(x / y) and x - y * trunc(x / y): d/dx 1, d/dy minus the quotient
declare("remainder", broadcast_rule, np.remainder,
        [lambda g, out, x, y: g, lambda g, out, x, y: -g * floor_divide(x, y)],
        "{0} % {1}", family="elementwise")
declare("fmod", broadcast_rule, np.fmod,
        [lambda g, out, x, y: g, lambda g, out, x, y: -g * trunc(true_divide(x, y))],
        "np.fmod({0}, {1})", family="elementwise")


@faced(torch_faces(np.floor_divide, "floor_divide", operator="floordiv"))
def floor_divide(x, y):
    """``x // y`` rounded down, as numpy and Python (no gradient: piecewise constant)."""
    return apply("floor_divide", [x, y])


@faced(torch_faces(np.remainder, "remainder", operator="mod"))
def remainder(x, y):
    """``x % y`` (``np.mod``), with the divisor's sign as in numpy and Python."""
    return apply("remainder", [x, y])


@faced(torch_faces(np.fmod, "fmod"))
def fmod(x, y):
    """``np.fmod``: the remainder with the dividend's sign (C's fmod)."""
    return apply("fmod", [x, y])


@faced(numpy=(np.divmod,))
def divmod_(x, y):
    """``np.divmod``: ``(x // y, x % y)``."""
    return floor_divide(x, y), remainder(x, y)


# -- NaN and infinities -------------------------------------------------------------------
def _test(name, reference):
    declare(name, predicate_rule, reference, [no_gradient], f"np.{name}({{0}})",
            family="elementwise")
    return front(lambda x: apply(name, [x]), Faces(numpy=(reference,)))


isnan = _test("isnan", np.isnan)
isinf = _test("isinf", np.isinf)
isfinite = _test("isfinite", np.isfinite)


@faced(numpy=(np.nan_to_num,))
def nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    """``np.nan_to_num``: NaN to ``nan``, infinities to ``posinf``/``neginf`` (the dtype's
    largest finite values by default); the gradient flows through the finite entries."""
    dtype = result_dtype(x)
    if dtype.kind in "biu":
        return copy_of(x) if isinstance(x, Tracer) else np.array(x, copy=True)
    largest = np.finfo(dtype).max
    x = where(isnan(x), nan, x)
    x = where(x == np.inf, largest if posinf is None else posinf, x)
    return where(x == -np.inf, -largest if neginf is None else neginf, x)


@faced(torch=("nan_to_num",), tensor=("nan_to_num",), grad_fn="NanToNumBackward0")
def torch_nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    """``torch.nan_to_num(input, nan, posinf, neginf)``."""
    return nan_to_num(x, True, nan, posinf, neginf)


# -- selections ---------------------------------------------------------------------------
@faced(numpy=(np.heaviside,))
def heaviside(x, h0):
    """``np.heaviside``: 0 below zero, 1 above, ``h0`` at zero (where ``h0`` gets the gradient)."""
    dtype = result_dtype(x, h0)
    dtype = dtype if dtype.kind in "fc" else np.dtype(np.float64)
    return astype(where(less(x, 0), 0, where(greater(x, 0), 1, h0)), dtype)


@faced(numpy=(np.select,))
def select(condlist, choicelist, default=0):
    """``np.select``: the first choice whose condition holds, else ``default``."""
    if len(condlist) != len(choicelist):
        raise error_here("list of cases must be same length as list of conditions",
                         ValueError)
    for position, condition in enumerate(condlist):
        if np.result_type(condition.dtype if isinstance(condition, Tracer) else
                          np.asarray(condition).dtype) != np.bool_:
            raise error_here(f"invalid entry {position} in condlist: should be boolean ndarray",
                             TypeError)
    dtype = result_dtype(*choicelist, default)
    result = astype(default, dtype)
    for condition, choice in zip(reversed(condlist), reversed(choicelist)):
        result = where(condition, choice, result)
    return astype(result, dtype)
