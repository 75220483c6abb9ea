"""Reductions built from the primitive ones: variance and standard deviation, weighted
averages, peak-to-peak, logsumexp, the NaN-ignoring reductions, counts and truth tests, and
cumulative sums and products. All are composites, so their gradients (and second
derivatives) follow from those of sum, max, prod and the elementwise ops.

>>> import numpy as np, symgrad as sg
>>> sg.grad(lambda x: np.var(x))(np.array([1.0, 2.0, 3.0]))
array([-0.66666667,  0.        ,  0.66666667])
"""
import numpy as np

from symgrad.core.ops.common import normalize_axes, normalize_axis, result_dtype
from symgrad.core.ops.elementwise import astype, equal, exp, floating, log, not_equal, sqrt, where
from symgrad.core.ops.reduction import amax, amin, mean, prod, reduced_shape, sum
from symgrad.core.ops.registry import faced
from symgrad.core.ops.rounding import isfinite, isnan
from symgrad.core.ops.shape import expand_dims, ravel, reshape, transpose
from symgrad.core.tracing import Tracer, error_here


def _count(x, axes):
    return int(np.prod([x.shape[a] for a in axes], dtype=np.int64))


def _moments_dtype(x, dtype):
    return np.dtype(dtype) if dtype is not None else floating(x)


@faced(numpy=(np.var,), method=("var",), torch=("var",))
def var(x, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, correction=None):
    """``np.var``: the mean squared deviation, divided by ``N - ddof`` (``correction`` is
    numpy 2's other name for ``ddof``)."""
    if not isinstance(x, Tracer):
        extra = {} if correction is None else {"correction": correction}
        return np.var(x, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims, **extra)
    _no_out(out, "var")
    ddof = ddof if correction is None else correction
    x = astype(x, _moments_dtype(x, dtype))
    axes = normalize_axes(axis, x.ndim, "var")
    centered = x - mean(x, axes, keepdims=True)
    return sum(centered * centered, axes, keepdims=keepdims) / max(_count(x, axes) - ddof, 0)


@faced(numpy=(np.std,), method=("std",), torch=("std",))
def std(x, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, correction=None):
    """``np.std``: the square root of :func:`var` (its gradient is NaN where the deviation
    is 0, as in autograd)."""
    if not isinstance(x, Tracer):
        extra = {} if correction is None else {"correction": correction}
        return np.std(x, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims, **extra)
    return sqrt(var(x, axis, dtype, out, ddof, keepdims, correction=correction))


def torch_correction(unbiased=True, correction=None):
    """The ``ddof`` of PyTorch's ``var``/``std``: ``correction``, else 1 if ``unbiased``."""
    return (1 if unbiased else 0) if correction is None else correction


@faced(numpy=(np.average,))
def average(a, axis=None, weights=None, returned=False, keepdims=False):
    """``np.average``: the mean, or ``sum(a * w) / sum(w)`` with ``weights`` (shaped as ``a``,
    or 1-d along a single ``axis``); ``returned`` also gives the sum of the weights."""
    if weights is None:
        average_ = mean(a, axis, keepdims=keepdims)
        if not returned:
            return average_
        count = np.size(a) // max(np.size(average_), 1)
        return average_, astype(np.full(np.shape(average_), count), result_dtype(average_))
    shape, weight_shape = np.shape(a), np.shape(weights)
    if shape != weight_shape:
        if axis is None:
            raise error_here("Axis must be specified when shapes of a and weights differ.",
                             TypeError)
        if len(weight_shape) != 1 or not isinstance(axis, (int, np.integer)):
            raise error_here("1D weights expected when shapes of a and weights differ.",
                             TypeError)
        axis = normalize_axis(axis, len(shape), "average")
        if weight_shape[0] != shape[axis]:
            raise error_here("Length of weights not compatible with specified axis.",
                             ValueError)
        weights = reshape(weights, tuple(-1 if i == axis else 1 for i in range(len(shape))))
        weights = weights * np.ones(shape, result_dtype(weights))
    dtype = np.result_type(floating(a), floating(weights))
    a, weights = astype(a, dtype), astype(weights, dtype)
    total = sum(weights, axis, keepdims=keepdims)
    average_ = sum(a * weights, axis, keepdims=keepdims) / total
    return (average_, total) if returned else average_


@faced(numpy=(np.ptp,))
def ptp(x, axis=None, keepdims=False):
    """``np.ptp``: ``max - min`` (ties split the gradient evenly, as for max and min)."""
    return amax(x, axis, keepdims=keepdims) - amin(x, axis, keepdims=keepdims)


@faced(tensor=("logsumexp",), torch=("logsumexp",), grad_fn="LogsumexpBackward0")
def logsumexp(x, axis=None, keepdims=False):
    """``log(sum(exp(x)))`` over ``axis``, without overflow: the maximum is taken out first
    (an infinite maximum is not, so that all -inf gives -inf and +inf gives +inf).

    >>> import numpy as np, symgrad as sg
    >>> float(sg.jit(sg.logsumexp)(np.array([1000.0, 1000.0])))  # doctest: +ELLIPSIS
    1000.69314...
    """
    x = astype(x, floating(x))
    peak = amax(x, axis, keepdims=True)
    peak = where(isfinite(peak), peak, 0)
    total = log(sum(exp(x - peak), axis, keepdims=True)) + peak
    return total if keepdims else reshape(total, reduced_shape(np.shape(x), _axes(x, axis), False))


def _axes(x, axis):
    return normalize_axes(axis, np.ndim(x), "logsumexp")


def _all_axes(x, axis):
    return normalize_axes(axis, np.ndim(x), "nanmean")


def _no_out(out, name):
    if out is not None:
        raise error_here(f"np.{name}(..., out=...) is not supported by symgrad; write "
                         f"y = np.{name}(x) instead")


# -- counting and truth tests ---------------------------------------------------------------
@faced(numpy=(np.count_nonzero,))
def count_nonzero(a, axis=None, *, keepdims=False):
    """``np.count_nonzero``: how many elements are not 0, as int64."""
    return sum(astype(not_equal(a, 0), np.int64), axis, keepdims=keepdims)


@faced(numpy=(np.all,), method=("all",))
def all(a, axis=None, out=None, keepdims=False):  # noqa: A001 - numpy's name
    """``np.all``: whether no element is 0 (a bool, never differentiated)."""
    _no_out(out, "all")
    return count_nonzero(equal(a, 0), axis, keepdims=keepdims) == 0


@faced(numpy=(np.any,), method=("any",))
def any(a, axis=None, out=None, keepdims=False):  # noqa: A001 - numpy's name
    """``np.any``: whether some element is not 0."""
    _no_out(out, "any")
    return count_nonzero(a, axis, keepdims=keepdims) > 0


# -- ignoring NaN ---------------------------------------------------------------------------
def _without_nan(x, fill):
    return where(isnan(x), fill, x)


@faced(numpy=(np.nansum,), torch=("nansum",), grad_fn="NansumBackward0")
def nansum(x, axis=None, dtype=None, out=None, keepdims=False):
    """``np.nansum``: the sum with NaN counted as 0."""
    _no_out(out, "nansum")
    return sum(_without_nan(x, 0), axis, dtype, keepdims=keepdims)


@faced(numpy=(np.nanmean,), torch=("nanmean",), grad_fn="NanmeanBackward0")
def nanmean(x, axis=None, dtype=None, out=None, keepdims=False):
    """``np.nanmean``: the mean of the entries that are not NaN (NaN where all are)."""
    _no_out(out, "nanmean")
    x = astype(x, _moments_dtype(x, dtype))
    count = sum(astype(isnan(x), x.dtype), axis, keepdims=keepdims)
    return sum(_without_nan(x, 0), axis, keepdims=keepdims) / (_count(x, _all_axes(x, axis)) - count)


def _nan_extremum(reduce, x, axis, keepdims, fill):
    result = reduce(_without_nan(x, fill), axis, keepdims=keepdims)
    return where(all(isnan(x), axis, keepdims=keepdims), np.nan, result)


@faced(numpy=(np.nanmax,))
def nanmax(x, axis=None, out=None, keepdims=False):
    """``np.nanmax``: the maximum of the entries that are not NaN (NaN where all are)."""
    _no_out(out, "nanmax")
    return _nan_extremum(amax, x, axis, keepdims, -np.inf)


@faced(numpy=(np.nanmin,))
def nanmin(x, axis=None, out=None, keepdims=False):
    """``np.nanmin``: the minimum of the entries that are not NaN (NaN where all are)."""
    _no_out(out, "nanmin")
    return _nan_extremum(amin, x, axis, keepdims, np.inf)


# -- cumulative ---------------------------------------------------------------------------
def _cumulative(name, reduce, fill, x, axis, dtype):
    """``np.cumsum``/``np.cumprod`` along ``axis`` (None: of the flattened array): element
    ``j`` reduces the elements ``i <= j``, each other one replaced by the reduction's
    identity: ``n * n`` work for ``n`` elements along the axis, through ops whose gradient
    is exact (the product's at zeros too)."""
    if not isinstance(x, Tracer):
        return getattr(np, name)(x, axis=axis, dtype=dtype)
    x = astype(x, dtype or getattr(np, name)(np.zeros(1, x.dtype)).dtype)
    if axis is None:
        x, axis = ravel(x), 0
    axis = normalize_axis(axis, x.ndim, name)
    order = [*range(axis), *range(axis + 1, x.ndim), axis]
    moved = transpose(x, order)
    length = x.shape[axis]
    earlier = np.tril(np.ones((length, length), bool))      # [j, i]: i <= j
    spread = where(earlier, expand_dims(moved, -2), fill)
    return transpose(reduce(spread, -1), list(np.argsort(order)))


@faced(numpy=(np.cumsum,), method=("cumsum",), tensor=("cumsum",), torch=("cumsum",),
       grad_fn="CumsumBackward0")
def cumsum(x, axis=None, dtype=None, out=None):
    """``np.cumsum``; integers and booleans sum in int64 as in numpy."""
    _no_out(out, "cumsum")
    return _cumulative("cumsum", sum, 0, x, axis, dtype)


@faced(numpy=(np.cumprod,), method=("cumprod",), tensor=("cumprod",), torch=("cumprod",),
       grad_fn="CumprodBackward0")
def cumprod(x, axis=None, dtype=None, out=None):
    """``np.cumprod``, with a gradient that is exact where ``x`` has zeros."""
    _no_out(out, "cumprod")
    return _cumulative("cumprod", prod, 1, x, axis, dtype)
