"""``F.dropout``, ``F.dropout1d``, ``F.dropout2d``: zero elements (or whole channels) with
probability ``p`` in training, scaling the rest by ``1 / (1 - p)``; the identity otherwise.

The masks come from the default generator's counter stream (symgrad/eager/random_stream.py):
``manual_seed`` makes them reproducible, and a compiled training loop (sg.train) draws the
same masks as the same steps run eagerly.

>>> import symgrad as torch
>>> from symgrad.nn import functional as F
>>> y = F.dropout(torch.ones(1000), p=0.25)
>>> sorted(set(y.tolist())) == [0.0, 1 / 0.75]
True
"""
import warnings

import symgrad.core.ops as ops
from symgrad.core.ops.random import random_uniform
from symgrad.eager.sampling import default_generator
from symgrad.eager.tensor import Tensor, apply


def dropout_of(x, key, p, mask_shape):
    """``x`` with the elements where the key's numbers fall at or above ``1 - p`` zeroed,
    the rest scaled by ``1 / (1 - p)``; ``mask_shape`` broadcasts to ``x``'s shape."""
    kept = ops.less(random_uniform(key, mask_shape, x.dtype), 1.0 - p)
    return ops.where(kept, ops.multiply(x, 1.0 / (1.0 - p)), 0.0)


def _check_p(p):
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _dropped(input, p, training, mask_shape, function):
    if not isinstance(input, Tensor):
        raise TypeError(f"{function}(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    _check_p(p)
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    key = Tensor(default_generator.counter_stream.next_key())
    return apply("MulBackward0", dropout_of, input, key, p=float(p), mask_shape=mask_shape)


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability ``p`` (in training)."""
    return _dropped(input, p, training, tuple(input.shape), "dropout")


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, L) or (C, L) input with probability ``p``."""
    if input.dim() not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a "
                           f"{input.dim()}D input. Note that dropout1d exists to provide "
                           f"channel-wise dropout on inputs with 1 spatial dimension, a channel "
                           f"dimension, and an optional batch dimension (i.e. 2D or 3D inputs).")
    return _dropped(input, p, training, tuple(input.shape[:-1]) + (1,), "dropout1d")


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, H, W) or (C, H, W) input with probability ``p``; 3-D
    input is taken as (N, C, L), as PyTorch does (with its warning)."""
    if input.dim() not in (3, 4):
        warnings.warn(f"dropout2d: Received a {input.dim()}-D input to dropout2d, which is "
                      f"deprecated and will result in an error in a future release. To retain "
                      f"the behavior and silence this warning, please use dropout instead. Note "
                      f"that dropout2d exists to provide channel-wise dropout on inputs with 2 "
                      f"spatial dimensions, a channel dimension, and an optional batch dimension "
                      f"(i.e. 3D or 4D inputs).", stacklevel=2)
    if input.dim() == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that "
                      "channel-wise 1D dropout behavior is desired - input is interpreted as "
                      "shape (N, C, L), where C is the channel dim. This behavior will change "
                      "in a future release to interpret the input as one without a batch "
                      "dimension, i.e. shape (C, H, W). To maintain the 1D channel-wise dropout "
                      "behavior, please switch to using dropout1d instead.", stacklevel=2)
    mask_shape = tuple(input.shape[:2]) + (1,) * (input.dim() - 2)
    return _dropped(input, p, training, mask_shape, "dropout2d")
