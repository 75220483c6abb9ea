"""Building arrays from traced values: ``np.array`` of (nested) lists of tracers and numbers,
the stacks and splits, ``repeat``/``tile``/``pad``, and the ``*_like`` constructors.

Every function is a composite of the shape primitives (reshape, transpose, getitem,
concatenate, broadcast_to) and the gather of symgrad.core.ops.indexing, so gradients (of
any order) and compilation come with them.

numpy does not dispatch ``np.array``/``np.asarray``/``np.full`` to tracers (they take no
array-like that ``__array_function__`` sees), so while a trace runs those names of numpy's
namespace call the versions here, which fall back to numpy's when no tracer is given
(symgrad.core.numpy_namespace).
"""
import functools

import numpy as np

from symgrad.core import numpy_namespace
from symgrad.core.errors import TracingValueError
from symgrad.core.ops.common import lift, normalize_axis, result_dtype
from symgrad.core.ops.elementwise import astype
from symgrad.core.ops.registry import faced
from symgrad.core.ops.shape import broadcast_to, concatenate, getitem, reshape, stack
from symgrad.core.tracing import Tracer, copy_of, error_here, find_graph

NUMPY = numpy_namespace.ORIGINALS


def _leaves(obj):
    if isinstance(obj, (list, tuple)):
        return [leaf for item in obj for leaf in _leaves(item)]
    return [obj]


def holds_tracers(obj):
    return isinstance(obj, Tracer) or isinstance(obj, (list, tuple)) and any(
        holds_tracers(item) for item in obj)


def composite(*numpy_functions, method=()):
    """Register ``function`` as ``numpy_functions`` (and the Tracer methods ``method``) on
    traced values; numpy's own runs when no argument is traced."""
    def register(function):
        @functools.wraps(function)
        def traced(*args, **kwargs):
            if not holds_tracers([*args, *kwargs.values()]):
                return numpy_functions[0](*args, **kwargs)
            return function(*args, **kwargs)
        return faced(numpy=numpy_functions, method=method)(traced)
    return register


def _construction_dtype(leaves):
    """The dtype numpy gives an array built of ``leaves``: Python numbers count as int64,
    float64 or bool here (no weak promotion in np.array)."""
    return np.result_type(*(leaf.dtype if isinstance(leaf, Tracer) else np.asarray(leaf).dtype
                            for leaf in leaves))


def _built(graph, obj, dtype):
    if isinstance(obj, (list, tuple)):
        parts = [_built(graph, item, dtype) for item in obj]
        shapes = {p.shape for p in parts}
        if len(shapes) > 1:
            raise error_here("setting an array element with a sequence. The requested array "
                             "has an inhomogeneous shape: its parts have shapes "
                             f"{', '.join(str(p.shape) for p in parts)}", TracingValueError)
        return stack(parts) if parts else lift(graph, np.zeros((0,), dtype), dtype)
    return lift(graph, obj, dtype)


@numpy_namespace.during_tracing("array")
def array(obj, dtype=None, *, copy=True, order="K", subok=False, ndmin=0, like=None):
    """``np.array`` of a traced value or of (nested) lists of tracers and numbers."""
    if not holds_tracers(obj):
        return NUMPY["array"](obj, dtype, copy=copy, order=order, subok=subok, ndmin=ndmin,
                              like=like)
    leaves = _leaves(obj)
    graph = find_graph(leaves)
    result = _built(graph, obj, np.dtype(dtype) if dtype is not None else
                    _construction_dtype(leaves))
    if ndmin > result.ndim:
        result = reshape(result, (1,) * (ndmin - result.ndim) + result.shape)
    if result is obj and copy is not False:
        return copy_of(result, immutable=False)
    return result


@numpy_namespace.during_tracing("asarray")
def asarray(a, dtype=None, order=None, *, device=None, copy=None, like=None):
    """``np.asarray``: a traced array itself (no copy) or one built from lists of tracers."""
    if not holds_tracers(a):
        return NUMPY["asarray"](a, dtype, order, device=device, copy=copy, like=like)
    if isinstance(a, Tracer):
        return a if dtype is None else astype(a, dtype)
    return array(a, dtype)


@numpy_namespace.during_tracing("asanyarray")
def asanyarray(a, dtype=None, order=None, *, device=None, copy=None, like=None):
    if not holds_tracers(a):
        return NUMPY["asanyarray"](a, dtype, order, device=device, copy=copy, like=like)
    return asarray(a, dtype)


@numpy_namespace.during_tracing("full")
def full(shape, fill_value, dtype=None, order="C", *, device=None, like=None):
    """``np.full`` with a traced fill value."""
    if not holds_tracers(fill_value):
        return NUMPY["full"](shape, fill_value, dtype, order, device=device, like=like)
    value = asarray(fill_value, dtype)
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    return copy_of(broadcast_to(value, shape), immutable=False)


def _like(name, value_of):
    def function(a, dtype=None, order="K", subok=True, shape=None, *, device=None):
        dtype = np.dtype(dtype) if dtype is not None else a.dtype
        shape = a.shape if shape is None else (
            (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape))
        graph = a.graph
        return copy_of(broadcast_to(lift(graph, value_of(), dtype), shape), immutable=False)
    function.__name__ = name
    return function


zeros_like = composite(np.zeros_like)(_like("zeros_like", lambda: 0))
ones_like = composite(np.ones_like)(_like("ones_like", lambda: 1))
# an empty array's contents are unspecified: zeros are a valid choice and deterministic
empty_like = composite(np.empty_like)(_like("empty_like", lambda: 0))


@composite(np.full_like)
def full_like(a, fill_value, dtype=None, order="K", subok=True, shape=None, *, device=None):
    """``np.full_like``; a traced ``fill_value`` is broadcast (and differentiated)."""
    graph = find_graph([a, fill_value])
    dtype = np.dtype(dtype) if dtype is not None else np.asarray(a).dtype \
        if not isinstance(a, Tracer) else a.dtype
    shape = np.shape(a) if shape is None else (
        (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape))
    return copy_of(broadcast_to(lift(graph, fill_value, dtype), shape), immutable=False)


# -- at least n dimensions ---------------------------------------------------------------------
def _atleast(name, shaped):
    def function(*arrays):
        graph = find_graph(arrays)
        results = [shaped(lift(graph, a, np.asarray(a).dtype) if not isinstance(a, Tracer)
                          else a) for a in arrays]
        return results[0] if len(results) == 1 else tuple(results)
    function.__name__ = name
    return function


atleast_1d = composite(np.atleast_1d)(_atleast(
    "atleast_1d", lambda a: reshape(a, (1,)) if a.ndim == 0 else a))
atleast_2d = composite(np.atleast_2d)(_atleast(
    "atleast_2d", lambda a: reshape(a, (1,) * (2 - a.ndim) + a.shape) if a.ndim < 2 else a))
atleast_3d = composite(np.atleast_3d)(_atleast(
    "atleast_3d", lambda a: a if a.ndim >= 3 else reshape(
        a, (1, 1, 1) if a.ndim == 0 else (1,) + a.shape + (1,) if a.ndim == 1 else a.shape + (1,))))


def _arrays(arrays):
    """``arrays`` (a sequence of array-likes, one of them traced) as tracers."""
    if isinstance(arrays, Tracer):
        arrays = list(arrays)
    graph = find_graph(arrays)
    dtype = result_dtype(*arrays)
    return [lift(graph, a, dtype) for a in arrays]


@composite(np.hstack)
def hstack(tup, *, dtype=None, casting="same_kind"):
    arrays = [atleast_1d(a) for a in _arrays(tup)]
    return concatenate(arrays, axis=0 if arrays[0].ndim == 1 else 1)


@composite(np.vstack, np.row_stack)
def vstack(tup, *, dtype=None, casting="same_kind"):
    return concatenate([atleast_2d(a) for a in _arrays(tup)], axis=0)


@composite(np.dstack)
def dstack(tup):
    return concatenate([atleast_3d(a) for a in _arrays(tup)], axis=2)


@composite(np.column_stack)
def column_stack(tup):
    return concatenate([reshape(a, (a.size, 1)) if a.ndim < 2 else a for a in _arrays(tup)],
                       axis=1)


# -- splits ----------------------------------------------------------------------------------
def _split_points(extent, sections, even, what):
    if isinstance(sections, (int, np.integer)):
        if sections <= 0:
            raise error_here("number sections must be larger than 0.", TracingValueError)
        if even and extent % sections:
            raise error_here("array split does not result in an equal division", TracingValueError)
        size, extra = divmod(extent, int(sections))
        sizes = [size + 1] * extra + [size] * (int(sections) - extra)
        return list(np.cumsum([0] + sizes))
    return [0] + [min(max(int(p) + extent if p < 0 else int(p), 0), extent)
                  for p in sections] + [extent]


def _split(ary, sections, axis, even, what):
    axis = normalize_axis(axis, ary.ndim, what)
    points = _split_points(ary.shape[axis], sections, even, what)
    index = (slice(None),) * axis
    return [getitem(ary, index + (slice(start, max(start, stop)),))
            for start, stop in zip(points[:-1], points[1:])]


@composite(np.split)
def split(ary, indices_or_sections, axis=0):
    """``np.split``: equal sections (an int) or the pieces between indices (a list)."""
    return _split(ary, indices_or_sections, axis, True, "split")


@composite(np.array_split)
def array_split(ary, indices_or_sections, axis=0):
    return _split(ary, indices_or_sections, axis, False, "array_split")


@composite(np.hsplit)
def hsplit(ary, indices_or_sections):
    if ary.ndim == 0:
        raise error_here("hsplit only works on arrays of 1 or more dimensions", TracingValueError)
    return split(ary, indices_or_sections, 1 if ary.ndim > 1 else 0)


@composite(np.vsplit)
def vsplit(ary, indices_or_sections):
    if ary.ndim < 2:
        raise error_here("vsplit only works on arrays of 2 or more dimensions", TracingValueError)
    return split(ary, indices_or_sections, 0)


@composite(np.dsplit)
def dsplit(ary, indices_or_sections):
    if ary.ndim < 3:
        raise error_here("dsplit only works on arrays of 3 or more dimensions", TracingValueError)
    return split(ary, indices_or_sections, 2)
