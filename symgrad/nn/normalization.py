"""Normalization layers: ``LayerNorm``, ``GroupNorm``, ``BatchNorm1d``, ``BatchNorm2d``
(PyTorch's arguments, initialization, buffers and reprs).

Batch norm keeps ``running_mean``, ``running_var`` and ``num_batches_tracked`` as buffers (in
``state_dict``); in training mode each forward updates them in place, also inside sg.train,
where they are state carried from one compiled step to the next.

>>> import symgrad as torch
>>> from symgrad import nn
>>> bn = nn.BatchNorm1d(3)
>>> bn
BatchNorm1d(3, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)
>>> _ = bn(torch.randn(8, 3))
>>> int(bn.num_batches_tracked)
1
>>> nn.LayerNorm(8)
LayerNorm((8,), eps=1e-05, elementwise_affine=True, bias=True)
"""
import numpy as np

from symgrad.nn.input_checks import expect_tensor
import symgrad.nn.functional_norm as F
from symgrad.eager.dtypes import default_float, to_numpy
from symgrad.eager.tensor import Tensor
from symgrad.nn.layers import _check_size
from symgrad.nn.module import Module
from symgrad.nn.parameter import Parameter


def _affine_parameters(layer, shape, affine, bias, dtype):
    """``layer.weight`` (ones) and ``layer.bias`` (zeros) of ``shape``, or None."""
    dtype = to_numpy(dtype) or default_float()
    layer.register_parameter("weight", Parameter(np.ones(shape, dtype)) if affine else None)
    layer.register_parameter("bias", Parameter(np.zeros(shape, dtype)) if affine and bias
                             else None)


class LayerNorm(Module):
    """Normalizes over the last dimensions (``normalized_shape``) of each sample, then applies
    a per-element ``weight`` (ones) and ``bias`` (zeros)."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True,
                 device=None, dtype=None):
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else normalized_shape
        self.normalized_shape = tuple(_check_size(d, "normalized_shape", "LayerNorm")
                                      for d in shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        _affine_parameters(self, self.normalized_shape, elementwise_affine, bias, dtype)

    def forward(self, input):
        expect_tensor(input, repr(self))
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")


class GroupNorm(Module):
    """Normalizes the channels of each sample in ``num_groups`` groups, then applies a
    per-channel ``weight`` (ones) and ``bias`` (zeros)."""

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None,
                 dtype=None, *, bias=True):
        super().__init__()
        self.num_groups = _check_size(num_groups, "num_groups", "GroupNorm")
        self.num_channels = _check_size(num_channels, "num_channels", "GroupNorm")
        if not self.num_groups or self.num_channels % self.num_groups:
            raise ValueError("num_channels must be divisible by num_groups")
        self.eps, self.affine = eps, affine
        _affine_parameters(self, (self.num_channels,), affine, bias, dtype)

    def forward(self, input):
        expect_tensor(input, repr(self))
        if input.dim() >= 2 and input.shape[1] != self.num_channels:
            raise RuntimeError(f"{self!r}: expected input with {self.num_channels} channels "
                               f"(dimension 1), got input of shape {list(input.shape)}")
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")


class _BatchNorm(Module):
    """Batch normalization over dimension 1 (channels); subclasses say which input ranks."""

    ranks = ()

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, device=None, dtype=None, *, bias=True):
        super().__init__()
        self.num_features = _check_size(num_features, "num_features", type(self).__name__)
        self.eps, self.momentum = eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        _affine_parameters(self, (self.num_features,), affine, bias, dtype)
        if track_running_stats:
            float_dtype = to_numpy(dtype) or default_float()
            self.register_buffer("running_mean", Tensor(np.zeros(self.num_features, float_dtype)))
            self.register_buffer("running_var", Tensor(np.ones(self.num_features, float_dtype)))
            self.register_buffer("num_batches_tracked", Tensor(np.zeros((), np.int64)))
        else:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)

    def reset_running_stats(self):
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1)
            self.num_batches_tracked.zero_()

    def reset_parameters(self):
        self.reset_running_stats()
        if self.affine:
            self.weight.data.fill_(1)
            if self.bias is not None:
                self.bias.data.zero_()

    def _check_input(self, input):
        expect_tensor(input, repr(self))
        if input.dim() not in self.ranks:
            wanted = " or ".join(f"{r}D" for r in self.ranks)
            raise ValueError(f"{self!r}: expected {wanted} input (got {input.dim()}D input)")
        if input.shape[1] != self.num_features:
            raise RuntimeError(f"{self!r}: expected input with {self.num_features} channels "
                               f"(dimension 1), got input of shape {list(input.shape)}")

    def forward(self, input):
        self._check_input(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:          # a cumulative moving average
                factor = 1.0 / self.num_batches_tracked._value
        batch_statistics = self.training or self.running_mean is None
        tracking = not self.training or self.track_running_stats
        return F.batch_norm(input, self.running_mean if tracking else None,
                            self.running_var if tracking else None, self.weight, self.bias,
                            batch_statistics, factor, self.eps)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalization of (N, C) or (N, C, L) input."""
    ranks = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalization of (N, C, H, W) input."""
    ranks = (4,)
