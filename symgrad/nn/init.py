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

import numpy as np

import symgrad.eager.sampling as sampling
from symgrad.eager.grad_mode import no_grad


def _random(kind, shape, dtype):
    draw = getattr(sampling, kind)
    return draw(*shape, dtype=dtype)


def _fill(tensor, value):
    with no_grad():
        tensor.copy_(value)
    return tensor


def calculate_gain(nonlinearity, param=None):
    """The recommended gain for an activation (PyTorch's table)."""
    if nonlinearity in ("linear", "conv1d", "conv2d", "conv3d", "sigmoid"):
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


def uniform_(tensor, a=0.0, b=1.0):
    """Fill ``tensor`` with values drawn from U(a, b)."""
    if not a <= b:
        raise ValueError(f"uniform_ expects a <= b, got a={a}, b={b}")
    sample = np.asarray(_random("rand", tensor.shape, tensor.dtype)._value)
    return _fill(tensor, (sample * (b - a) + a).astype(tensor.dtype))


def normal_(tensor, mean=0.0, std=1.0):
    """Fill ``tensor`` with values drawn from N(mean, std**2)."""
    if std < 0:
        raise ValueError(f"normal_ expects std >= 0, got std={std}")
    sample = np.asarray(_random("randn", tensor.shape, tensor.dtype)._value)
    return _fill(tensor, (sample * std + mean).astype(tensor.dtype))


def constant_(tensor, val):
    return _fill(tensor, np.full(tensor.shape, val, dtype=tensor.dtype))


def zeros_(tensor):
    return constant_(tensor, 0)


def ones_(tensor):
    return constant_(tensor, 1)


def kaiming_uniform_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu"):
    """He initialization: U(-bound, bound), bound = gain * sqrt(3 / fan)."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    fan = fan_in if mode == "fan_in" else fan_out
    if fan == 0:
        return tensor
    bound = math.sqrt(3.0) * calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return uniform_(tensor, -bound, bound)


def xavier_uniform_(tensor, gain=1.0):
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / float(fan_in + fan_out))
    return uniform_(tensor, -bound, bound)
