"""Layers: ``Linear``, ``Identity``, ``Flatten``, ``Unflatten`` and the activation modules.

>>> import symgrad as torch
>>> from symgrad import nn
>>> _ = torch.manual_seed(0)
>>> layer = nn.Linear(3, 2)
>>> layer
Linear(in_features=3, out_features=2, bias=True)
>>> layer(torch.ones(4, 3)).grad_fn.name()
'AddmmBackward0'
"""
import math

import numpy as np

from symgrad.nn.input_checks import expect_tensor
import symgrad.nn.functional as F
import symgrad.nn.init as init
from symgrad.nn.module import Module
from symgrad.nn.parameter import Parameter
from symgrad.eager.dtypes import default_float, to_numpy


def _check_size(value, name, owner):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{owner}: {name} must be a non-negative integer, got {value!r}")
    return int(value)


def add_weight_and_bias(layer, weight_shape, bias, dtype, outputs=None):
    """Register ``layer.weight`` (``weight_shape``) and ``layer.bias`` (one per output:
    ``outputs``, by default ``weight_shape[0]``; or None), then give them PyTorch's default
    initialization."""
    dtype = to_numpy(dtype) or default_float()     # torch.get_default_dtype() unless given
    layer.weight = Parameter(np.empty(weight_shape, dtype))
    if bias:
        layer.bias = Parameter(np.empty(weight_shape[0] if outputs is None else outputs, dtype))
    else:
        layer.register_parameter("bias", None)
    layer.reset_parameters()


def reset_weight_and_bias(layer, fan_in):
    """PyTorch's default: weight kaiming-uniform (a = sqrt(5)), bias U(-1/sqrt(fan_in), +)."""
    init.kaiming_uniform_(layer.weight, a=math.sqrt(5))
    if layer.bias is not None:
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        init.uniform_(layer.bias, -bound, bound)


class Identity(Module):
    """Returns its input unchanged (any arguments are accepted and ignored)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Linear(Module):
    """``y = x @ weight.T + bias`` with ``weight`` (out_features, in_features).

    Initialized as in PyTorch: weight and bias drawn from U(-1/sqrt(in_features),
    1/sqrt(in_features)) (kaiming_uniform with a=sqrt(5)), from symgrad's global generator.
    """

    def __init__(self, in_features, out_features, bias=True, dtype=None):
        super().__init__()
        self.in_features = _check_size(in_features, "in_features", "Linear")
        self.out_features = _check_size(out_features, "out_features", "Linear")
        add_weight_and_bias(self, (self.out_features, self.in_features), bias, dtype)

    def reset_parameters(self):
        reset_weight_and_bias(self, fan_in=self.in_features)

    def forward(self, input):
        expect_tensor(input, repr(self))
        shape = tuple(input.shape)
        if not shape or shape[-1] != self.in_features:
            raise RuntimeError(f"{F.linear_mismatch(shape, self.weight.shape)}: {self!r} "
                               f"expects input with last dimension {self.in_features}, got "
                               f"shape {shape}")
        if input.dtype != self.weight.dtype:
            raise TypeError(f"{self!r}: input dtype {np.dtype(input.dtype).name} does not match "
                            f"the weight's {np.dtype(self.weight.dtype).name} (convert the "
                            f"input, or the model with .float() / .double())")
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Flatten(Module):
    """Flattens dimensions ``start_dim`` .. ``end_dim`` into one (default: all but the batch)."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input):
        shape = tuple(input.shape)
        start, end = (F.normalize_dim(d, shape, repr(self)) for d in (self.start_dim, self.end_dim))
        if start > end:
            raise ValueError(f"{self!r}: start_dim cannot come after end_dim for input of "
                             f"shape {shape}")
        if not shape:
            return input.reshape(1)
        merged = int(np.prod(shape[start:end + 1], dtype=np.int64))
        return input.reshape(*shape[:start], merged, *shape[end + 1:])

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Expands dimension ``dim`` into ``unflattened_size``."""

    def __init__(self, dim, unflattened_size):
        super().__init__()
        self.dim = dim
        self.unflattened_size = tuple(unflattened_size)

    def forward(self, input):
        shape = tuple(input.shape)
        dim = F.normalize_dim(self.dim, shape, repr(self))
        return input.reshape(*shape[:dim], *self.unflattened_size, *shape[dim + 1:])

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class ReLU(Module):
    """``max(x, 0)`` elementwise."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.relu(input)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class Sigmoid(Module):
    def forward(self, input):
        return F.sigmoid(input)


class Tanh(Module):
    def forward(self, input):
        return F.tanh(input)


class Softmax(Module):
    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.softmax(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    def forward(self, input):
        return F.log_softmax(input, self.dim)
