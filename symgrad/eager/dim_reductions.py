"""Reductions and scans along a dim with PyTorch's signatures and result types: ``amax``/
``amin``, ``all``/``any``, ``count_nonzero``, ``nansum``/``nanmean``, ``std_mean``/
``var_mean``, ``median``, ``kthvalue``, ``mode``, ``cummax``/``cummin``, ``logcumsumexp``,
``norm``, and the comparisons ``isclose``/``allclose``/``equal``.

The scans (``cummax``, ``logcumsumexp``) compare every position with every earlier one, a
(n, n) mask along the dim: static shapes, so they trace inside a compiled step too.

>>> import symgrad as torch
>>> x = torch.tensor([[1.0, 3.0, 2.0], [4.0, 0.0, 5.0]])
>>> x.amax(1).tolist(), x.median(1).values.tolist()
([3.0, 5.0], [2.0, 4.0])
>>> torch.cummax(torch.tensor([1.0, 3.0, 2.0]), 0).values.tolist()
[1.0, 3.0, 3.0]
"""
from collections import namedtuple

import numpy as np

import symgrad.core.ops as ops
from symgrad.eager.dims import normalize_dim
from symgrad.eager.fused_arithmetic import p_norm
from symgrad.eager.tensor import Tensor, _check_concrete, _value_of, apply

ValuesIndices = {name: namedtuple(name, ["values", "indices"])
                 for name in ("median", "kthvalue", "mode", "cummax", "cummin", "nanmedian")}


# -- module-level functions the tape replays (their identity is part of the cache key) -------
def reduced(x, reducer, axes, keepdims):
    return reducer(x, axes, keepdims=keepdims)


def earlier_masked(x, axis, fill):
    """``x`` moved to the last axis and spread to ``(..., i, j)``: ``x[..., j]`` where
    ``j <= i``, else ``fill``."""
    last = ops.moveaxis(x, axis, -1)
    n = last.shape[-1]
    spread = ops.broadcast_to(ops.expand_dims(last, -2), last.shape[:-1] + (n, n))
    return ops.where(np.tri(n, n, dtype=bool), spread, fill)


def log_cumulative_sum_exp(x, axis):
    total = ops.logsumexp(earlier_masked(x, axis, -np.inf), -1)
    return ops.moveaxis(total, -1, axis)


def _lowest(dtype, largest):
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return -np.inf if largest else np.inf
    if dtype.kind == "b":
        return not largest
    info = np.iinfo(dtype)
    return info.min if largest else info.max


def cumulative_extremum_index(x, axis, largest):
    """The index of the running max (min) along ``axis``, the last one at ties (PyTorch's)."""
    spread = earlier_masked(x, axis, _lowest(x.dtype, largest))
    n = spread.shape[-1]
    reversed_spread = ops.flip(spread, -1)
    first = (ops.argmax if largest else ops.argmin)(reversed_spread, -1)
    return ops.moveaxis(ops.subtract(n - 1, first), -1, axis)


def picked(x, indices, axis):
    return ops.take_along_axis(x, indices, axis)


def _dims_of(self, dim, function):
    if dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0):
        return None
    if isinstance(dim, (tuple, list)):
        return tuple(normalize_dim(d, self.shape, function) for d in dim)
    return normalize_dim(dim, self.shape, function)


# -- reductions -----------------------------------------------------------------------------
def _extremum(function, name):
    def method(self, dim=(), keepdim=False):
        if self.numel() == 0:
            raise IndexError(f"{name}(): Expected reduction dim to be specified for "
                             f"input.numel() == 0. Specify the reduction dim with the 'dim' "
                             f"argument.")
        return apply(f"{name.capitalize()}Backward0", reduced, self, reducer=function,
                     axes=_dims_of(self, dim, f"{name}()"), keepdims=bool(keepdim))
    method.__name__ = name
    return method


def _logical(function):
    def method(self, dim=None, keepdim=False):
        value = function(_value_of(self), _dims_of(self, dim, function.__name__ + "()"),
                         keepdims=bool(keepdim))
        return Tensor(value if hasattr(value, "aval") else np.asarray(value))
    return method


def count_nonzero(self, dim=None):
    value = ops.count_nonzero(_value_of(self), _dims_of(self, dim, "count_nonzero()"))
    return Tensor(ops.astype(value, np.int64))


def nansum(self, dim=None, keepdim=False, *, dtype=None):
    return apply("NansumBackward0", reduced, self, reducer=ops.nansum,
                 axes=_dims_of(self, dim, "nansum()"), keepdims=bool(keepdim))


def nanmean(self, dim=None, keepdim=False, *, dtype=None):
    return apply("NanmeanBackward0", reduced, self, reducer=ops.nanmean,
                 axes=_dims_of(self, dim, "nanmean()"), keepdims=bool(keepdim))


def _moment_and_mean(name):
    def function(self, dim=None, unbiased=True, keepdim=False, *, correction=None):
        moment = getattr(self, name)(dim, unbiased, keepdim, correction=correction)
        return moment, self.mean(dim, keepdim) if dim is not None else self.mean()
    function.__name__ = f"{name}_mean"
    return function


# -- order statistics -----------------------------------------------------------------------
def _kth(self, position, dim, keepdim, kind):
    """The ``position``-th smallest along ``dim`` (values, indices), by a stable sort."""
    from symgrad.eager.selection import sort
    source = self.reshape(1) if self.ndim == 0 else self
    axis = normalize_dim(dim, source.shape, f"{kind}()")
    _, order = sort(source, axis)
    key = (slice(None),) * axis + (slice(position, position + 1),)
    indices = order[key]
    values = apply(f"{kind.capitalize()}Backward1", picked, source, indices, axis=axis)
    if not keepdim or self.ndim == 0:
        values, indices = values.squeeze(axis), indices.squeeze(axis)
    return ValuesIndices[kind](values, indices)


def median(self, dim=None, keepdim=False):
    """The lower median (of all elements when ``dim`` is None: a value only)."""
    if dim is None:
        flat = self.reshape(-1)
        if flat.shape[0] == 0:
            return Tensor(np.asarray(np.nan, self._value.dtype))
        return _kth(flat, (flat.shape[0] - 1) // 2, 0, False, "median").values
    extent = self.shape[normalize_dim(dim, self.shape, "median()")] if self.ndim else 1
    return _kth(self, (extent - 1) // 2, dim, keepdim, "median")


def kthvalue(self, k, dim=-1, keepdim=False):
    """The ``k``-th smallest element along ``dim`` (from 1) and its index."""
    extent = self.shape[normalize_dim(dim, self.shape, "kthvalue()")] if self.ndim else 1
    if not 1 <= k <= extent:
        raise IndexError(f"kthvalue(): selected number k out of range for dimension {dim}")
    return _kth(self, int(k) - 1, dim, keepdim, "kthvalue")


def mode(self, dim=-1, keepdim=False):
    """The most frequent value along ``dim`` (the smallest of those tied) and the index of
    its last occurrence."""
    from symgrad.eager.selection import sort
    source = self.reshape(1) if self.ndim == 0 else self
    axis = normalize_dim(dim, source.shape, "mode()")
    values = sort(source, axis).values.detach()
    spread = ops.expand_dims(ops.moveaxis(_value_of(values), axis, -1), -1)
    counts = ops.sum(ops.equal(spread, ops.swapaxes(spread, -1, -2)), -1)
    chosen = ops.expand_dims(ops.argmax(counts, -1), -1)
    value = ops.take_along_axis(ops.moveaxis(_value_of(values), axis, -1), chosen, -1)
    last = ops.moveaxis(_value_of(source), axis, -1)
    matches = ops.equal(last, value)
    n = last.shape[-1]
    position = ops.subtract(n - 1, ops.argmax(ops.flip(matches, -1), -1))
    indices = Tensor(ops.moveaxis(ops.expand_dims(position, -1), -1, axis))
    result = apply("ModeBackward0", picked, source, indices, axis=axis)
    if not keepdim or self.ndim == 0:
        result, indices = result.squeeze(axis), indices.squeeze(axis)
    return ValuesIndices["mode"](result, indices)


def _cumulative_extremum(largest):
    kind = "cummax" if largest else "cummin"

    def method(self, dim):
        source = self.reshape(1) if self.ndim == 0 else self
        axis = normalize_dim(dim, source.shape, f"{kind}()")
        indices = Tensor(ops.astype(cumulative_extremum_index(_value_of(source), axis, largest),
                                    np.int64))
        values = apply(f"{kind.capitalize()}Backward0", picked, source, indices, axis=axis)
        if self.ndim == 0:
            values, indices = values.reshape(()), indices.reshape(())
        return ValuesIndices[kind](values, indices)
    method.__name__ = kind
    return method


def logcumsumexp(self, dim):
    source = self.reshape(1) if self.ndim == 0 else self
    axis = normalize_dim(dim, source.shape, "logcumsumexp()")
    out = apply("LogcumsumexpBackward0", log_cumulative_sum_exp, source, axis=axis)
    return out.reshape(()) if self.ndim == 0 else out


# -- norms and comparisons ------------------------------------------------------------------
def norm(self, p="fro", dim=None, keepdim=False, dtype=None):
    """``torch.norm``: the 2-norm ('fro') or ``p``-norm of the elements over ``dim`` (all when
    None); 'nuc' is the nuclear norm of matrices over two dims."""
    if p == "nuc":
        from symgrad.linalg import matrix_norm
        return matrix_norm(self, "nuc", (-2, -1) if dim is None else dim, keepdim)
    order = 2.0 if p in ("fro", None) else float(p)
    source = self if dtype is None else self.to(dtype)
    return apply("NormBackward1", p_norm, source, p=order, axes=_dims_of(self, dim, "norm()"),
                 keepdims=bool(keepdim))


def _close(self, other, rtol, atol, equal_nan):
    a, b = _value_of(self), _value_of(other)
    close = ops.logical_or(ops.equal(a, b), ops.less_equal(
        ops.absolute(ops.subtract(a, b)), ops.add(atol, ops.multiply(rtol, ops.absolute(b)))))
    if equal_nan:
        close = ops.logical_or(close, ops.logical_and(ops.isnan(a), ops.isnan(b)))
    return close


def isclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    other = other if isinstance(other, Tensor) else Tensor(np.asarray(other))
    if self.dtype != other.dtype:
        raise RuntimeError(f"{self.dtype} did not match {other.dtype}")
    value = _close(self, other, rtol, atol, equal_nan)
    return Tensor(value if hasattr(value, "aval") else np.asarray(value))


def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Whether every element of ``self`` is close to ``other``'s (a Python bool)."""
    _check_concrete(self, "allclose()")
    return bool(isclose(self, other, rtol, atol, equal_nan)._value.all())


def equal(self, other):
    """Whether both have the same shape and elements (a Python bool)."""
    _check_concrete(self, "equal()")
    return tuple(self.shape) == tuple(other.shape) and bool(
        np.array_equal(_value_of(self), _value_of(other)))


def reduction_methods():
    return {"amax": _extremum(ops.amax, "amax"), "amin": _extremum(ops.amin, "amin"),
            "all": _logical(ops.all), "any": _logical(ops.any), "count_nonzero": count_nonzero,
            "nansum": nansum, "nanmean": nanmean, "median": median, "kthvalue": kthvalue,
            "mode": mode, "cummax": _cumulative_extremum(True),
            "cummin": _cumulative_extremum(False), "logcumsumexp": logcumsumexp, "norm": norm,
            "isclose": isclose, "allclose": allclose, "equal": equal}


def reduction_functions():
    return {**reduction_methods(), "std_mean": _moment_and_mean("std"),
            "var_mean": _moment_and_mean("var")}
