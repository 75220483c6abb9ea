"""Helpers shared by the op families: dtype promotion, lifting constants, eager fallback."""
import numpy as np

from symgrad.core.tracing import Tracer, bind, constant, find_graph


def _promotion_arg(value):
    """What np.result_type should see: Python scalars and weak tracers stay 'weak'."""
    if isinstance(value, Tracer):
        return value.dtype.type(0).item() if value.aval.weak else value.dtype
    if isinstance(value, (bool, int, float)) and not isinstance(value, np.generic):
        return value
    return np.asarray(value).dtype


def result_dtype(*values):
    """numpy's promotion (NEP 50: Python scalars are weak) over tracers, arrays and scalars."""
    return np.result_type(*(_promotion_arg(v) for v in values))


def lift(graph, value, dtype):
    """``value`` as a tracer of ``dtype`` in ``graph``: constants are made, tracers cast."""
    if isinstance(value, Tracer):
        return value if value.dtype == dtype else bind("cast", value, dtype=np.dtype(dtype).name)
    return constant(graph, np.asarray(value, dtype=dtype))


def apply(name, values, dtype=None, **params):
    """Bind ``name`` on ``values`` promoted to one dtype; plain numpy when nothing is traced."""
    from symgrad.core.ops.registry import OPS
    graph = find_graph(values)
    dtype = result_dtype(*values) if dtype is None else np.dtype(dtype)
    if graph is None:
        arrays = [np.asarray(v, dtype=dtype) for v in values]
        return OPS[name].reference(*arrays, **params)
    return bind(name, *(lift(graph, v, dtype) for v in values), **params)


def as_tracer(value):
    """Tracers pass; anything else is evaluated eagerly by the caller (returns None)."""
    return value if isinstance(value, Tracer) else None


def no_gradient(*_args, **_params):
    """VJP rule of ops whose derivative is zero almost everywhere (sign, comparisons)."""
    return None


def normalize_axes(axis, ndim):
    """``axis`` (None, int or tuple, negatives allowed) as a sorted tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    normalized = []
    for a in axes:
        if not -ndim <= a < ndim:
            raise ValueError(f"axis {a} is out of bounds for an array of dimension {ndim}")
        normalized.append(int(a) % ndim if ndim else 0)
    if len(set(normalized)) != len(normalized):
        raise ValueError(f"repeated axis in {axis}")
    return tuple(sorted(normalized))
