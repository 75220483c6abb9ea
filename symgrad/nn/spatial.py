"""``Conv1d``, ``ConvTranspose2d``, ``AdaptiveAvgPool2d`` and ``Upsample`` (nearest), with
PyTorch's arguments, initialization and reprs (symgrad/nn/functional_spatial.py).

>>> import symgrad as torch
>>> from symgrad import nn
>>> nn.Conv1d(3, 8, 5, padding=2), nn.ConvTranspose2d(8, 4, 2, stride=2)
(Conv1d(3, 8, kernel_size=(5,), stride=(1,), padding=(2,)), ConvTranspose2d(8, 4, kernel_size=(2, 2), stride=(2, 2)))
>>> nn.Upsample(scale_factor=2)(torch.ones(1, 1, 2, 2)).shape
torch.Size([1, 1, 4, 4])
"""
import math

import symgrad.nn.functional_spatial as F
from symgrad.nn.layers import _check_size, add_weight_and_bias, reset_weight_and_bias
from symgrad.nn.module import Module


def _tuple(value, length, name):
    values = tuple(value) if isinstance(value, (tuple, list)) else (value,) * length
    if len(values) != length or any(not isinstance(v, int) or v < 0 for v in values):
        raise ValueError(f"{name} must be a non-negative int or a {length}-tuple, got {value!r}")
    return values


class _ConvNd(Module):
    """What Conv1d and ConvTranspose2d share: sizes, options, repr; ``weight_shape`` and
    ``fan_in`` differ."""

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation,
                 output_padding, groups, bias, padding_mode, dtype, dims):
        super().__init__()
        name = type(self).__name__
        if groups != 1 or padding_mode != "zeros":
            raise NotImplementedError(f"{name}: only groups=1 and padding_mode='zeros' are "
                                      f"supported, got groups={groups!r}, "
                                      f"padding_mode={padding_mode!r}")
        self.in_channels = _check_size(in_channels, "in_channels", name)
        self.out_channels = _check_size(out_channels, "out_channels", name)
        self.kernel_size = _tuple(kernel_size, dims, "kernel_size")
        self.stride = _tuple(stride, dims, "stride")
        self.padding = _tuple(padding, dims, "padding")
        self.dilation = _tuple(dilation, dims, "dilation")
        self.output_padding = _tuple(output_padding, dims, "output_padding")
        if min(self.kernel_size + self.stride + self.dilation) < 1:
            raise ValueError(f"{name}: kernel_size, stride and dilation must be positive")
        self.groups, self.padding_mode = groups, padding_mode
        add_weight_and_bias(self, self.weight_shape(), bias, dtype, self.out_channels)

    def reset_parameters(self):
        reset_weight_and_bias(self, self.weight.shape[1] * math.prod(self.kernel_size))

    def extra_repr(self):
        dims = len(self.kernel_size)
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        for name, default in (("padding", 0), ("dilation", 1), ("output_padding", 0)):
            if getattr(self, name) != (default,) * dims:
                text += f", {name}={getattr(self, name)}"
        return text + (", bias=False" if self.bias is None else "")


class Conv1d(_ConvNd):
    """1-D convolution over (N, C, L) or (C, L) input; ``weight`` (out, in, K), initialized
    as PyTorch does (U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = in_channels * K)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 dilation=1, groups=1, bias=True, padding_mode="zeros", device=None,
                 dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, 0,
                         groups, bias, padding_mode, dtype, 1)

    def weight_shape(self):
        return (self.out_channels, self.in_channels) + self.kernel_size

    def forward(self, input):
        return F.conv1d(input, self.weight, self.bias, self.stride, self.padding,
                        self.dilation, who=repr(self))


class ConvTranspose2d(_ConvNd):
    """Transposed 2-D convolution (the gradient of Conv2d with respect to its input);
    ``weight`` (in, out, KH, KW), fan_in = out_channels * KH * KW as in PyTorch."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         output_padding, groups, bias, padding_mode, dtype, 2)

    def weight_shape(self):
        return (self.in_channels, self.out_channels) + self.kernel_size

    def forward(self, input, output_size=None):
        output_padding = self.output_padding
        if output_size is not None:
            wanted = tuple(output_size)[-2:]
            natural = F.transposed_size(input.shape[-2:], self.kernel_size, self.stride,
                                        self.padding, (0, 0), self.dilation)
            output_padding = tuple(w - n for w, n in zip(wanted, natural))
        return F.conv_transpose2d(input, self.weight, self.bias, self.stride, self.padding,
                                  output_padding, 1, self.dilation, who=repr(self))


class AdaptiveAvgPool2d(Module):
    """Means over windows that split each image into ``output_size`` (an int or a pair;
    None keeps that dimension)."""

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input):
        return F.adaptive_avg_pool2d(input, self.output_size, who=repr(self))

    def extra_repr(self):
        return f"output_size={self.output_size}"


class Upsample(Module):
    """Resize to ``size`` or by ``scale_factor`` (``mode='nearest'``)."""

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None,
                 recompute_scale_factor=None):
        super().__init__()
        if mode != "nearest":
            raise NotImplementedError(f"Upsample: mode={mode!r} is not supported by symgrad "
                                      f"(only mode='nearest')")
        self.size, self.mode, self.align_corners = size, mode, align_corners
        self.scale_factor = float(scale_factor) if isinstance(scale_factor, (int, float)) \
            else scale_factor
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input):
        return F.interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                             self.recompute_scale_factor)

    def extra_repr(self):
        text = f"scale_factor={self.scale_factor!r}" if self.scale_factor is not None else \
            f"size={self.size!r}"
        return text + f", mode={self.mode!r}"
