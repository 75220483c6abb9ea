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


def as_float64(scalar):
    """A 0-d state tensor's value as torch reads it (``.item()``): a Python float, or the
    traced value in float64."""
    return astype(scalar, np.float64) if isinstance(scalar, Tracer) else float(scalar)


def select(condition, if_true, if_false):
    """``if_true if condition else if_false`` for a condition that may be traced (then both
    are computed and np.where keeps one)."""
    if isinstance(condition, Tracer):
        return np.where(condition, if_true, if_false)
    return if_true if condition else if_false


def implementation_options(differentiable=False, **switches):
    """PyTorch's implementation switches, kept in the groups as PyTorch keeps them (each
    optimizer passes its own: foreach, fused, capturable): they choose how torch runs the
    same update (symgrad has one way, with the same numbers); a differentiable step (history
    through the update) is not provided."""
    if differentiable:
        raise NotImplementedError("differentiable=True (gradients through the optimizer step) "
                                  "is not supported by symgrad's optimizers")
    return {**switches, "differentiable": differentiable}
