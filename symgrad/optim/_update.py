"""Helpers shared by the optimizers' update code."""
import numpy as np


def in_place(value, grad):
    """Whether the numpy fast path applies: the parameter's storage is a writable array
    (not a tracer, not an immutable numpy scalar) and its gradient is concrete."""
    return (isinstance(value, np.ndarray) and value.flags.writeable
            and isinstance(grad, (np.ndarray, np.generic)))
