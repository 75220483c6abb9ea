"""numpy's array constructors while a trace runs.

numpy never hands ``np.array([traced, 1.0])``, ``np.asarray(traced)`` or
``np.full(shape, traced)`` to a tracer's ``__array_function__`` (they take no array argument
that it dispatches on): it asks each tracer for a concrete array (``__array__``), which it
cannot give. So while a function is traced, these names of the ``numpy`` module are
symgrad's versions (symgrad.core.ops.construction registers them), which build the array
from the tracers and call numpy's own function whenever no tracer is given; numpy's are put
back when the outermost trace ends. Code that imported the function itself
(``from numpy import array``) keeps numpy's.
"""
import contextlib

import numpy as np

# name -> numpy's function, and name -> the version used while tracing
ORIGINALS = {}
WHILE_TRACING = {}


def during_tracing(name):
    """Decorator: ``np.<name>`` is the decorated function while a trace runs."""
    def register(function):
        ORIGINALS.setdefault(name, getattr(np, name))
        WHILE_TRACING[name] = function
        return function
    return register


@contextlib.contextmanager
def traced_constructors(outermost):
    """numpy's namespace with the tracing versions inside the block (for the outermost
    trace; nested traces find them in place already)."""
    if not outermost:
        yield
        return
    for name, function in WHILE_TRACING.items():
        setattr(np, name, function)
    try:
        yield
    finally:
        for name, function in ORIGINALS.items():
            setattr(np, name, function)
