"""Softmax and log-softmax along a dim: ``x.softmax(1)``, ``torch.log_softmax(x, dim=1)``,
``F.softmax`` (the max taken out first, so large logits do not overflow).

>>> import symgrad as torch
>>> torch.tensor([[0.0, 0.0]]).softmax(1).tolist()
[[0.5, 0.5]]
"""
import warnings

import numpy as np

import symgrad.core.ops as ops
from symgrad.core.tracing import Tracer
from symgrad.eager.dims import normalize_dim
from symgrad.eager.tensor import apply


# -- module-level functions the tape replays (their identity is part of the cache key) -------
def row_max(x, axis):
    # ops.amax passes dtype= to np.max on concrete arrays, which np.max does not accept
    if isinstance(x, Tracer):
        return ops.amax(x, axis, keepdims=True)
    return np.max(x, axis=axis, keepdims=True)


def log_softmax_of(x, axis):
    shifted = ops.subtract(x, row_max(x, axis))
    return ops.subtract(shifted, ops.log(ops.sum(ops.exp(shifted), axis, keepdims=True)))


def softmax_of(x, axis):
    e = ops.exp(ops.subtract(x, row_max(x, axis)))
    return ops.true_divide(e, ops.sum(e, axis, keepdims=True))


def softmax_dim(input, dim, function):
    """``dim`` as PyTorch resolves it, with its warning when it is left implicit."""
    if dim is None:
        dim = 0 if input.dim() in (0, 1, 3) else 1      # PyTorch's legacy implicit choice
        warnings.warn(f"Implicit dimension choice for {function} has been deprecated. "
                      f"Change the call to include dim=X as an argument.", stacklevel=4)
    dim = normalize_dim(dim, input.shape, f"{function}()")
    return dim if input.dim() else None         # a 0-d tensor is its one element


def log_softmax(input, dim=None):
    return apply("LogSoftmaxBackward0", log_softmax_of, input,
                 axis=softmax_dim(input, dim, "log_softmax"))


def softmax(input, dim=None):
    return apply("SoftmaxBackward0", softmax_of, input, axis=softmax_dim(input, dim, "softmax"))
