"""Sorting and arg-extrema: ``argsort``, ``argmax`` and ``argmin`` primitives (integer results,
no gradient) and ``sort``, differentiable through its permutation (a gather:
``take_along_axis(x, argsort(x))``), as HIPS autograd's.

``argsort`` is stable (numpy's ``kind="stable"``): equal elements keep their order, so the
compiled code and the reference agree on ties; numpy's default quicksort may order ties
differently.
"""
import numpy as np

from symgrad.core.errors import TracingValueError
import symgrad.core.ops.batch_rules as batch_rules
from symgrad.core.ops.common import dynamic_shape_error, normalize_axis
from symgrad.core.ops.indexing import INDEX_DTYPE, take_along_axis
from symgrad.core.ops.registry import declare, faced
from symgrad.core.ops.shape import ravel, reshape
from symgrad.core.tracing import Tracer, bind, error_here, find_graph


def _argsort_rule(x, axis):
    return x.shape, INDEX_DTYPE


def _arg_extremum_rule(x, axis, keepdims):
    if x.shape[axis] == 0:
        raise ValueError("attempt to get argmax of an empty sequence")
    shape = tuple(1 if a == axis else d for a, d in enumerate(x.shape) if keepdims or a != axis)
    return shape, INDEX_DTYPE


declare("argsort", _argsort_rule,
        lambda x, axis: np.argsort(x, axis=axis, kind="stable").astype(INDEX_DTYPE),
        family="sorting", params=("axis",), batch=batch_rules.along_axis)
declare("argmax", _arg_extremum_rule,
        lambda x, axis, keepdims: np.argmax(x, axis=axis, keepdims=keepdims).astype(INDEX_DTYPE),
        family="sorting", params=("axis", "keepdims"), batch=batch_rules.along_axis)
declare("argmin", _arg_extremum_rule,
        lambda x, axis, keepdims: np.argmin(x, axis=axis, keepdims=keepdims).astype(INDEX_DTYPE),
        family="sorting", params=("axis", "keepdims"), batch=batch_rules.along_axis)


def _along(x, axis, what):
    """``x`` (raveled when ``axis`` is None) and the normalized axis."""
    if axis is None:
        return ravel(x), 0
    if x.ndim == 0:
        x = reshape(x, (1,))
    return x, normalize_axis(axis, x.ndim, what)


@faced(numpy=(np.argsort,), method=("argsort",))
def argsort(a, axis=-1, kind=None, order=None, *, stable=None):
    """``np.argsort`` (stable: ties keep their order)."""
    if not isinstance(a, Tracer):
        return np.argsort(a, axis=axis, kind=kind, order=order)
    if order is not None:
        raise error_here("argsort: order= (fields of a structured array) is not supported")
    a, axis = _along(a, axis, "argsort")
    return bind("argsort", a, axis=axis)


@faced(numpy=(np.sort,))
def sort(a, axis=-1, kind=None, order=None, *, stable=None):
    """``np.sort``; its gradient goes back through the permutation."""
    if not isinstance(a, Tracer):
        return np.sort(a, axis=axis, kind=kind, order=order)
    a, axis = _along(a, axis, "sort")
    return take_along_axis(a, argsort(a, axis), axis)


def _arg_extremum(name):
    def function(a, axis=None, out=None, *, keepdims=False):
        if not isinstance(a, Tracer):
            return getattr(np, name)(a, axis=axis, out=out, keepdims=keepdims)
        if out is not None:
            raise error_here(f"{name}(out=...) is not supported on traced arrays")
        flat = axis is None
        x, axis = _along(a, axis, name)
        index = bind(name, x, axis=axis, keepdims=bool(keepdims) and not flat)
        return reshape(index, (1,) * a.ndim) if flat and keepdims else index
    function.__name__ = name
    function.__doc__ = f"``np.{name}``: an int64 index (no gradient)."
    return function


argmax = faced(numpy=(np.argmax,), method=("argmax",))(_arg_extremum("argmax"))
argmin = faced(numpy=(np.argmin,), method=("argmin",))(_arg_extremum("argmin"))


def _dynamic(name):
    def function(a, *args, **kwargs):
        graph = find_graph([a, *args])
        if graph is None:
            return getattr(np, name)(a, *args, **kwargs)
        raise dynamic_shape_error(f"np.{name} of a traced value {a!r}")
    function.__name__ = name
    return function


for _name in ("nonzero", "argwhere", "flatnonzero", "extract", "compress", "unique"):
    faced(numpy=(getattr(np, _name),), method=(_name,) if _name in ("nonzero", "compress") else ())(
        _dynamic(_name))


@faced(method=("sort",))
def sort_in_place(x, axis=-1, kind=None, order=None, *, stable=None):
    """``x.sort()``: ``x`` (and the base it views) holds its sorted values."""
    x.write(sort(x, axis))


@faced(numpy=(np.argpartition,), method=("argpartition",))
def argpartition(a, kth, axis=-1, kind="introselect", order=None):
    """``np.argpartition`` as a full stable argsort: a valid partition for every ``kth``
    (numpy leaves the order within each side unspecified, and its own differs)."""
    if not isinstance(a, Tracer):
        return np.argpartition(a, kth, axis=axis, kind=kind, order=order)
    a, axis = _along(a, axis, "argpartition")
    _check_kth(kth, a.shape[axis])
    return argsort(a, axis)


@faced(numpy=(np.partition,))
def partition(a, kth, axis=-1, kind="introselect", order=None):
    """``np.partition`` as a full sort (see :func:`argpartition`), differentiable through
    the permutation."""
    if not isinstance(a, Tracer):
        return np.partition(a, kth, axis=axis, kind=kind, order=order)
    a, axis = _along(a, axis, "partition")
    _check_kth(kth, a.shape[axis])
    return sort(a, axis)


def _check_kth(kth, extent):
    for k in np.atleast_1d(kth):
        if not -extent <= int(k) < extent:
            raise error_here(f"kth(={int(k)}) out of bounds ({extent})", TracingValueError)
