"""In-place parameter initializers (PyTorch's ``nn.init`` names), drawn from symgrad's global
random generator (seeded by ``symgrad.manual_seed``).

>>> import symgrad as torch
>>> from symgrad import nn
>>> w = nn.Parameter(torch.zeros(2, 3))
>>> _ = nn.init.uniform_(w, -1.0, 1.0)
>>> bool((w.detach().numpy() != 0).all())
True
"""
import math
import warnings

import numpy as np

import symgrad.eager.sampling as sampling
from symgrad.eager.grad_mode import no_grad


def _random(kind, shape, dtype, generator=None):
    draw = getattr(sampling, kind)
    return np.asarray(draw(*shape, dtype=dtype, generator=generator)._value)


def _fill(tensor, value):
    with no_grad():
        tensor.copy_(value)
    return tensor


_LINEAR = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
           "conv_transpose3d", "sigmoid")


def calculate_gain(nonlinearity, param=None):
    """The recommended gain for an activation (PyTorch's table).

    >>> from symgrad import nn
    >>> nn.init.calculate_gain("tanh")
    1.6666666666666667
    """
    if nonlinearity in _LINEAR:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        if isinstance(slope, bool) or not isinstance(slope, (int, float)):
            raise ValueError(f"negative_slope {slope} not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor):
    shape = tuple(tensor.shape)
    if len(shape) < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 "
                         "dimensions")
    receptive = int(np.prod(shape[2:], dtype=np.int64)) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fill ``tensor`` with values drawn from U(a, b)."""
    if not a <= b:
        raise ValueError(f"uniform_ expects a <= b, got a={a}, b={b}")
    sample = _random("rand", tensor.shape, tensor.dtype, generator)
    return _fill(tensor, (sample * (b - a) + a).astype(tensor.dtype))


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fill ``tensor`` with values drawn from N(mean, std**2)."""
    if std < 0:
        raise ValueError(f"normal_ expects std >= 0, got std={std}")
    sample = _random("randn", tensor.shape, tensor.dtype, generator)
    return _fill(tensor, (sample * std + mean).astype(tensor.dtype))


def constant_(tensor, val):
    """Fill ``tensor`` with ``val``."""
    return _fill(tensor, np.full(tensor.shape, val, dtype=tensor.dtype))


def zeros_(tensor):
    return constant_(tensor, 0)


def ones_(tensor):
    return constant_(tensor, 1)


def _kaiming_std(tensor, a, mode, nonlinearity):
    """gain / sqrt(fan), or None for a tensor without elements (PyTorch warns, leaves it)."""
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    if 0 in tuple(tensor.shape):
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return None
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return calculate_gain(nonlinearity, a) / math.sqrt(fan_in if mode == "fan_in" else fan_out)


def kaiming_uniform_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He initialization: U(-bound, bound), bound = gain * sqrt(3 / fan)."""
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    if std is None:
        return tensor
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He initialization: N(0, std²), std = gain / sqrt(fan)."""
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    return tensor if std is None else normal_(tensor, 0.0, std, generator)


def xavier_uniform_(tensor, gain=1.0, generator=None):
    """Glorot initialization: U(-bound, bound), bound = gain * sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / float(fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    """Glorot initialization: N(0, std²), std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / float(fan_in + fan_out)), generator)


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """Fill ``tensor`` from N(mean, std²) truncated to [a, b] (redrawing the values outside)."""
    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. The "
                      "distribution of values may be incorrect.", stacklevel=2)
    values = _random("randn", tensor.shape, np.float64, generator) * std + mean
    for _ in range(_TRUNCATION_ROUNDS):
        outside = (values < a) | (values > b)
        if not outside.any():
            break
        values[outside] = _random("randn", (int(outside.sum()),), np.float64, generator) * std + mean
    return _fill(tensor, np.clip(values, a, b).astype(tensor.dtype))


# Redraws before the few values still outside [a, b] (far in a tail) are clipped to it.
_TRUNCATION_ROUNDS = 100


def orthogonal_(tensor, gain=1.0, generator=None):
    """Fill ``tensor`` (2 or more dimensions, seen as rows x the rest) with a (semi-)
    orthogonal matrix from the QR decomposition of a normal sample, times ``gain``."""
    if tensor.dim() < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    columns = tensor.numel() // rows
    flat = _random("randn", (rows, columns), np.float64, generator)
    if rows < columns:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q = q * np.sign(np.diag(r))
    if rows < columns:
        q = q.T
    return _fill(tensor, (gain * q).reshape(tuple(tensor.shape)).astype(tensor.dtype))


def eye_(tensor):
    """Fill a 2-D ``tensor`` with the identity matrix."""
    if tensor.dim() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    return _fill(tensor, np.eye(*tensor.shape, dtype=tensor.dtype))
