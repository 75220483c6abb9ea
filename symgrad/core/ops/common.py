"""Helpers shared by the op families: dtype promotion, lifting constants, eager fallback."""
import numpy as np

from symgrad.core.errors import TracingError
from symgrad.core.source_info import describe_location, user_location
from symgrad.core.tracing import Tracer, bind, constant, error_here, find_graph


def _promotion_arg(value):
    """What np.result_type should see: Python scalars and weak tracers stay 'weak'."""
    if isinstance(value, Tracer):
        return value.dtype.type(0).item() if value.aval.weak else value.dtype
    if isinstance(value, (bool, int, float, complex)) and not isinstance(value, np.generic):
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


class AxisError(np.exceptions.AxisError, TracingError):
    """numpy's ``AxisError`` (a ValueError and an IndexError) that is also a TracingError:
    an axis out of range for a traced array, with the user's file:line.

    >>> import numpy as np, symgrad as sg
    >>> try:
    ...     sg.jit(lambda a: a.sum(axis=2))(np.ones((2, 3)))
    ... except np.exceptions.AxisError as error:
    ...     print(str(error).splitlines()[0])
    sum: axis 2 is out of bounds for array of dimension 2
    """

    def __init__(self, axis, ndim, what):
        super().__init__(axis, ndim, what)
        self.location = describe_location(user_location())

    def __str__(self):
        return super().__str__() + self.location


def dynamic_shape_error(what):
    """The error for a value whose shape depends on the data (a traced mask's selection)."""
    return error_here(
        f"{what} has a data-dependent shape (as many elements as the mask has True values), "
        "and symgrad traces graphs of static shapes. Keep the shape instead: "
        "np.where(mask, x, 0) (zeros where the mask is False), np.sum(np.where(mask, x, 0)) "
        "for a masked sum; a concrete numpy mask (not computed from traced values) works")


def check_integer(value, what, role):
    """A TracingError at the user's line unless ``value`` is a Python or numpy integer."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise error_here(f"{what}: {role} must be an integer, got {value!r} "
                         f"({type(value).__name__})")


def normalize_axis(axis, ndim, what):
    """``axis`` (an integer, negatives from the end) as a non-negative axis of an array with
    ``ndim`` dimensions; ``what`` (the function's name) starts the error message."""
    check_integer(axis, what, "an axis")
    if not -ndim <= axis < ndim:
        raise AxisError(int(axis), ndim, what)
    return int(axis) % ndim


def normalize_axes(axis, ndim, what):
    """``axis`` (None, an integer or a tuple of them) as a sorted tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    axes = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
    normalized = [normalize_axis(a, ndim, what) for a in axes]
    if len(set(normalized)) != len(normalized):
        raise error_here(f"{what}: repeated axis in {axis}")
    return tuple(sorted(normalized))
