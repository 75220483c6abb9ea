"""numpy functions given Python lists of traced values, and the index-expression
concatenators ``np.r_`` / ``np.c_``.

numpy dispatches ``np.mean(x)`` to a tracer's ``__array_function__`` but not
``np.mean([x, x + 2])``: a list is no array it dispatches on, so numpy asks each tracer for a
concrete array, which it cannot give. While a trace runs, the functions here stand in for
numpy's under their names: a positional list or tuple that holds tracers becomes one traced
array (``np.array`` of it), and numpy's own function runs on that, dispatching to the tracer.

>>> import numpy as np, symgrad as sg
>>> float(sg.grad(lambda x: np.mean([x, x + 2.0]), backend="reference")(0.0))
1.0
>>> sg.grad(lambda x: np.sum(np.r_[x, 2 * x]), backend="reference")(np.zeros(2))
array([3., 3.])
"""
import functools

import numpy as np

from symgrad.core import numpy_namespace
from symgrad.core.ops.common import lift
from symgrad.core.ops.construction import array, atleast_1d, holds_tracers
from symgrad.core.ops.shape import concatenate, ravel, reshape
from symgrad.core.ops.registry import faced
from symgrad.core.tracing import Tracer, error_here, find_graph

# numpy's functions whose array arguments are often written as lists of scalars (ufuncs stay:
# numpy's own code needs their .reduce and friends)
LIST_TAKING = ("mean", "std", "var", "sum", "prod", "max", "min", "amax", "amin", "average",
               "ptp", "cumsum", "cumprod", "append", "diff", "dot", "outer", "inner", "clip",
               "where", "sort", "flip", "transpose", "reshape", "ravel", "expand_dims",
               "squeeze", "atleast_1d", "atleast_2d", "trace", "diag", "kron", "tensordot")
LINALG_LIST_TAKING = ("norm", "det", "inv", "slogdet", "solve", "cholesky")


def _arrays_of_lists(function):
    @functools.wraps(function)
    def taking_lists(*args, **kwargs):
        args = [array(a) if isinstance(a, (list, tuple)) and holds_tracers(a) else a
                for a in args]
        return function(*args, **kwargs)
    return taking_lists


for _name in LIST_TAKING:
    numpy_namespace.during_tracing(_name)(_arrays_of_lists(getattr(np, _name)))
for _name in LINALG_LIST_TAKING:
    numpy_namespace.during_tracing_in("numpy.linalg", _name)(
        _arrays_of_lists(getattr(np.linalg, _name)))


@faced(numpy=(np.append,))
def append(arr, values, axis=None):
    """``np.append``: ``values`` after ``arr`` along ``axis`` (both flattened if None)."""
    arr, values = (array(a) if isinstance(a, (list, tuple)) else a for a in (arr, values))
    if axis is None:
        return concatenate([ravel(arr), ravel(values)], axis=0)
    return concatenate([arr, values], axis=axis)


class _Concatenator:
    """``np.r_[...]`` (along the first axis, items made 1-d) or ``np.c_[...]`` (along the
    last, items made 2-d with 1-d items as columns). Slices are numpy's ranges; string
    directives are not supported on traced values."""

    def __init__(self, numpy_concatenator, columns):
        self.numpy_concatenator, self.columns = numpy_concatenator, columns

    def __getitem__(self, key):
        items = key if isinstance(key, tuple) else (key,)
        if not holds_tracers(list(items)):
            return self.numpy_concatenator[key]
        if any(isinstance(item, str) for item in items):
            raise error_here(f"{'np.c_' if self.columns else 'np.r_'}: string directives "
                             f"({[i for i in items if isinstance(i, str)]}) are not supported "
                             "with traced values; use np.concatenate / np.stack")
        graph = find_graph(list(items))
        parts = [self.numpy_concatenator[item] if isinstance(item, slice) else item
                 for item in items]
        # numpy's dtype of the result: Python scalars are weak (np.r_[float32, 1.0] is float32)
        dtype = np.result_type(*(np.empty(0, p.dtype) if isinstance(p, Tracer) else p
                                 for p in parts))
        parts = [p if isinstance(p, Tracer) else lift(graph, p, dtype) for p in parts]
        if not self.columns:
            return concatenate([atleast_1d(p) for p in parts], axis=0)
        return concatenate([reshape(p, (p.size, 1)) if p.ndim < 2 else p for p in parts],
                           axis=-1)


numpy_namespace.during_tracing("r_")(_Concatenator(np.r_, columns=False))
numpy_namespace.during_tracing("c_")(_Concatenator(np.c_, columns=True))
