"""Convolution and pooling layers: ``Conv2d``, ``MaxPool2d``, ``AvgPool2d`` (PyTorch's names,
arguments, reprs and initialization).

>>> import symgrad as torch
>>> from symgrad import nn
>>> _ = torch.manual_seed(0)
>>> conv = nn.Conv2d(1, 6, 3)
>>> conv
Conv2d(1, 6, kernel_size=(3, 3), stride=(1, 1))
>>> conv(torch.randn(2, 1, 8, 8)).shape
torch.Size([2, 6, 6, 6])
>>> nn.MaxPool2d(2)
MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
"""
import symgrad.nn.functional_conv as F
from symgrad.nn.layers import _check_size, add_weight_and_bias, reset_weight_and_bias
from symgrad.nn.module import Module
from symgrad.core.ops.conv import pair


class Conv2d(Module):
    """2-D convolution over (N, C, H, W) input with ``weight`` (out_channels, in_channels,
    KH, KW) and ``bias`` (out_channels,).

    Initialized as PyTorch does: weight and bias drawn from U(-1/sqrt(fan_in),
    1/sqrt(fan_in)) with fan_in = in_channels * KH * KW (kaiming_uniform with a=sqrt(5)).
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", dtype=None):
        super().__init__()
        F._unsupported("Conv2d", groups=(groups, 1), padding_mode=(padding_mode, "zeros"))
        self.in_channels = _check_size(in_channels, "in_channels", "Conv2d")
        self.out_channels = _check_size(out_channels, "out_channels", "Conv2d")
        self.kernel_size = pair(kernel_size, "kernel_size")
        self.stride = pair(stride, "stride")
        self.dilation = pair(dilation, "dilation")
        self.padding = padding if isinstance(padding, str) else pair(padding, "padding")
        if isinstance(padding, str) and padding not in ("valid", "same"):
            raise ValueError(f"Conv2d: invalid padding string {padding!r}, should be one of "
                             f"'valid', 'same'")
        self._padding = F.conv_padding(self.padding, self.kernel_size, self.dilation,
                                       self.stride, "Conv2d")
        if min(self.kernel_size) < 1 or min(self.stride) < 1 or min(self.dilation) < 1:
            raise ValueError(f"Conv2d: kernel_size, stride and dilation must be positive, got "
                             f"{self.kernel_size}, {self.stride}, {self.dilation}")
        self.groups, self.padding_mode = groups, padding_mode
        add_weight_and_bias(self, (self.out_channels, self.in_channels) + self.kernel_size,
                            bias, dtype)

    def reset_parameters(self):
        reset_weight_and_bias(self, self.in_channels * self.kernel_size[0] * self.kernel_size[1])

    def forward(self, input):
        F.check_conv_input(input, self.weight, self.stride, self._padding, self.dilation,
                           repr(self))
        return F.conv2d(input, self.weight, self.bias, self.stride, self._padding, self.dilation)

    def extra_repr(self):
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        if self.padding != (0, 0):
            text += f", padding={self.padding}"
        if self.dilation != (1, 1):
            text += f", dilation={self.dilation}"
        if self.bias is None:
            text += ", bias=False"
        return text


class _Pool2d(Module):
    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding


class MaxPool2d(_Pool2d):
    """Maximum over each window of ``kernel_size`` (``stride`` defaults to ``kernel_size``)."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False):
        super().__init__(kernel_size, stride, padding)
        self.dilation, self.return_indices, self.ceil_mode = dilation, return_indices, ceil_mode
        F._unsupported("MaxPool2d", dilation=(pair(dilation, "dilation"), (1, 1)),
                       ceil_mode=(ceil_mode, False), return_indices=(return_indices, False))

    def forward(self, input):
        return F.max_pool2d(input, self.kernel_size, self.stride, self.padding, who=repr(self))

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool2d(_Pool2d):
    """Mean over each window of ``kernel_size`` (zero padding counts unless
    ``count_include_pad=False``)."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True, divisor_override=None):
        super().__init__(kernel_size, stride, padding)
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad
        self.divisor_override = divisor_override
        F._unsupported("AvgPool2d", ceil_mode=(ceil_mode, False),
                       divisor_override=(divisor_override, None))

    def forward(self, input):
        return F.avg_pool2d(input, self.kernel_size, self.stride, self.padding,
                            count_include_pad=self.count_include_pad, who=repr(self))

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
