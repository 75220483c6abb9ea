"""Differences and ranges of traced values, and numpy's remaining real-valued elementwise
helpers: ``np.diff``, ``np.gradient``, ``np.linspace`` with traced endpoints, ``np.fmax`` /
``np.fmin``. All composites of slicing, concatenation and
elementwise ops, so their gradients (any order) and compilation come with them.

>>> import numpy as np, symgrad as sg
>>> sg.grad(lambda x: np.sum(np.diff(x) ** 2), backend="reference")(np.array([0., 1., 3.]))
array([-2., -2.,  4.])
"""
import numpy as np

from symgrad.core.ops.common import lift, normalize_axes, normalize_axis
from symgrad.core.ops.construction import asarray, composite
from symgrad.core.ops.elementwise import astype, floating, maximum, minimum, where
from symgrad.core.ops.rounding import isnan
from symgrad.core.ops.registry import faced
from symgrad.core.ops.shape import concatenate, expand_dims, getitem
from symgrad.core.tracing import Tracer, constant, error_here, find_graph


def _along(x, axis, index):
    return getitem(x, (slice(None),) * axis + (index,))


@composite(np.diff)
def diff(a, n=1, axis=-1, prepend=np._NoValue, append=np._NoValue):
    """``np.diff``: the ``n``-th forward difference along ``axis`` (with optional
    ``prepend``/``append`` values broadcast along it)."""
    if n < 0:
        raise error_here(f"order must be non-negative but got {n!r}", ValueError)
    a = asarray(a)
    axis = normalize_axis(axis, a.ndim, "diff")
    pieces = [a]
    for position, extra in ((0, prepend), (2, append)):
        if extra is not np._NoValue:
            shape = list(a.shape)
            shape[axis] = 1 if np.ndim(extra) == 0 else np.shape(extra)[axis]
            pieces.insert(position if position == 0 else len(pieces),
                          np.broadcast_to(extra, shape) if not isinstance(extra, Tracer)
                          else extra)
    x = concatenate(pieces, axis) if len(pieces) > 1 else a
    for _ in range(n):
        x = _along(x, axis, slice(1, None)) - _along(x, axis, slice(None, -1))
    return x


def _gradient_along(f, axis, spacing, edge_order):
    length = f.shape[axis]
    if length < edge_order + 1:
        raise error_here("Shape of array too small to calculate a numerical gradient, at "
                         "least (edge_order + 1) elements are required.", ValueError)
    interior = (_along(f, axis, slice(2, None)) - _along(f, axis, slice(None, -2))) / (2 * spacing)
    if edge_order == 1:
        first = (_along(f, axis, slice(1, 2)) - _along(f, axis, slice(0, 1))) / spacing
        last = (_along(f, axis, slice(-1, None)) - _along(f, axis, slice(-2, -1))) / spacing
    else:
        first = (-1.5 * _along(f, axis, slice(0, 1)) + 2 * _along(f, axis, slice(1, 2))
                 - 0.5 * _along(f, axis, slice(2, 3))) / spacing
        last = (0.5 * _along(f, axis, slice(-3, -2)) - 2 * _along(f, axis, slice(-2, -1))
                + 1.5 * _along(f, axis, slice(-1, None))) / spacing
    return concatenate([first, interior, last], axis)


@composite(np.gradient)
def gradient(f, *varargs, axis=None, edge_order=1):
    """``np.gradient`` with uniform (scalar) spacings: central differences inside, one-sided
    ones of ``edge_order`` 1 or 2 at the ends; a tuple over several axes."""
    f = astype(asarray(f), floating(f))
    axes = normalize_axes(axis, f.ndim, "gradient")
    if len(varargs) > 1 and len(varargs) != len(axes) or any(np.ndim(v) for v in varargs):
        raise error_here("np.gradient on traced values takes one scalar spacing per axis "
                         f"(got {len(varargs)} spacings for {len(axes)} axes)", TypeError)
    spacings = list(varargs) * len(axes) if len(varargs) == 1 else list(varargs) or [1.0] * len(axes)
    if edge_order not in (1, 2):
        raise error_here("'edge_order' greater than 2 not supported", ValueError)
    grads = [_gradient_along(f, a, h, edge_order) for a, h in zip(axes, spacings)]
    return grads[0] if len(grads) == 1 else tuple(grads)


@composite(np.linspace)
def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0, *,
             device=None):
    """``np.linspace`` with traced ``start``/``stop`` (the number of points is static)."""
    if num < 0:
        raise error_here(f"Number of samples, {num}, must be non-negative.", ValueError)
    graph = find_graph([start, stop])
    dtype_ = np.dtype(dtype) if dtype is not None else np.result_type(
        float, *(s.dtype if isinstance(s, Tracer) else np.asarray(s).dtype for s in (start, stop)))
    start, stop = (lift(graph, s, np.result_type(float, dtype_)) for s in (start, stop))
    divisions = (num - 1 if endpoint else num) or 1
    fractions = np.arange(num, dtype=float) / divisions
    shape = (num,) + (1,) * len(np.broadcast_shapes(start.shape, stop.shape))
    fractions = constant(graph, fractions.reshape(shape).astype(start.dtype))
    values = start + fractions * (stop - start)
    if endpoint and num > 1:
        values = concatenate([getitem(values, slice(0, num - 1)),
                              expand_dims(stop + 0 * start, 0)], 0)
    if axis != 0:
        values = np.moveaxis(values, 0, normalize_axis(axis, values.ndim, "linspace"))
    values = astype(values, dtype_)
    return (values, (stop - start) / divisions) if retstep else values


@faced(numpy=(np.fmax,))
def fmax(x, y):
    """``np.fmax``: the maximum, ignoring a NaN in either operand."""
    return where(isnan(y), x, where(isnan(x), y, maximum(x, y)))


@faced(numpy=(np.fmin,))
def fmin(x, y):
    """``np.fmin``: the minimum, ignoring a NaN in either operand."""
    return where(isnan(y), x, where(isnan(x), y, minimum(x, y)))
