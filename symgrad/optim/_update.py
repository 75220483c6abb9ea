"""Helpers shared by the optimizers' update code."""
import numpy as np

from symgrad.core.ops.elementwise import astype
from symgrad.core.tracing import Tracer


def in_place(value, grad):
    """Whether the numpy fast path applies: the parameter's storage is a writable array
    (not a tracer, not an immutable numpy scalar) and its gradient is concrete."""
    return (isinstance(value, np.ndarray) and value.flags.writeable
            and isinstance(grad, (np.ndarray, np.generic)))


def like(scalar, array):
    """A hyperparameter in ``array``'s dtype when it is traced (a learning rate a scheduler
    changes inside ``sg.train``), as a Python float takes the array's dtype in numpy."""
    return astype(scalar, array.dtype) if isinstance(scalar, Tracer) else scalar


def is_traced(value):
    return isinstance(value, Tracer)
