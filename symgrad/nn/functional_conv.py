"""``nn.functional.conv2d``, ``max_pool2d``, ``avg_pool2d`` on eager Tensors (re-exported by
:mod:`symgrad.nn.functional`). Each is one recorded node with PyTorch's ``grad_fn`` name
(``ConvolutionBackward0``, ``MaxPool2DWithIndicesBackward0``, ``AvgPool2DBackward0``); the
bias is an operand of the convolution op, as in PyTorch.

>>> import symgrad as torch
>>> from symgrad.nn import functional as F
>>> x = torch.ones(1, 1, 4, 4, requires_grad=True)
>>> y = F.max_pool2d(F.conv2d(x, torch.ones(2, 1, 3, 3), torch.zeros(2)), 2)
>>> tuple(y.shape), y.grad_fn.name(), y.grad_fn.next_functions[0][0].name()
((1, 2, 1, 1), 'MaxPool2DWithIndicesBackward0', 'ConvolutionBackward0')
"""
import numpy as np

import symgrad.core.ops as ops
from symgrad.core.ops.conv import output_size, pair
from symgrad.eager.tensor import apply
from symgrad.nn.input_checks import expect_tensor


# -- module-level functions the tape replays (their identity is part of the cache key) -------
def convolution(x, w, stride, padding, dilation, unbatched):
    x = ops.reshape(x, (1,) + tuple(x.shape)) if unbatched else x
    out = ops.conv2d(x, w, stride, padding, dilation)
    return ops.reshape(out, out.shape[1:]) if unbatched else out


def convolution_bias(x, w, b, stride, padding, dilation, unbatched):
    x = ops.reshape(x, (1,) + tuple(x.shape)) if unbatched else x
    out = ops.conv2d(x, w, stride, padding, dilation, bias=b)
    return ops.reshape(out, out.shape[1:]) if unbatched else out


def max_pooling(x, kernel, stride, padding):
    return _unbatched(ops.max_pool2d, x, kernel=kernel, stride=stride, padding=padding)


def avg_pooling(x, kernel, stride, padding, count_include_pad):
    return _unbatched(ops.avg_pool2d, x, kernel=kernel, stride=stride, padding=padding,
                      count_include_pad=count_include_pad)


def _unbatched(function, x, **params):
    if x.ndim == 4:
        return function(x, **params)
    out = function(ops.reshape(x, (1,) + tuple(x.shape)), **params)
    return ops.reshape(out, out.shape[1:])


# -- checks ------------------------------------------------------------------------------------
def _check_input(input, who):
    expect_tensor(input, who)
    if input.dim() not in (3, 4):
        raise ValueError(f"{who}: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, got "
                         f"shape {tuple(input.shape)}")
    if np.dtype(input.dtype).kind != "f":
        raise TypeError(f"{who}: expected a floating-point input, got {np.dtype(input.dtype).name}")


def check_window(input, kernel, stride, padding, dilation, who):
    """A ValueError naming ``who`` when the (padded) input is smaller than the kernel's reach."""
    size = tuple(input.shape[-2:])
    if min(output_size(size, kernel, stride, padding, dilation)) < 1:
        reach = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
        need = tuple(max(1, r - 2 * p) for r, p in zip(reach, padding))
        raise ValueError(f"{who}: input of shape {tuple(input.shape)} is too small: the kernel "
                         f"reaches {reach} (kernel {kernel}, dilation {dilation}) and padding is "
                         f"{padding}, so height and width must be at least {need}, got {size}")


def check_conv_input(input, weight, stride, padding, dilation, who):
    _check_input(input, who)
    channels = weight.shape[1]
    if input.shape[-3] != channels:
        expected = ("N, " if input.dim() == 4 else "") + f"{channels}, H, W"
        raise ValueError(f"{who}: expected input with {channels} channel"
                         f"{'s' if channels != 1 else ''}, shape ({expected}), got shape "
                         f"{tuple(input.shape)} ({input.shape[-3]} channels); the weight has "
                         f"shape {tuple(weight.shape)}")
    if input.dtype != weight.dtype:
        raise TypeError(f"{who}: input dtype {np.dtype(input.dtype).name} does not match the "
                        f"weight's {np.dtype(weight.dtype).name} (convert the input, or the "
                        f"model with .float() / .double())")
    check_window(input, tuple(weight.shape[2:]), stride, padding, dilation, who)


def _unsupported(who, **options):
    for name, (value, default) in options.items():
        if value != default:
            raise NotImplementedError(f"{who}: {name}={value!r} is not supported (only "
                                      f"{name}={default!r})")


def conv_padding(padding, kernel, dilation, stride, who):
    """PyTorch's ``padding``: ints, pairs, ``'valid'`` or ``'same'`` (stride 1, even total)."""
    if padding == "valid":
        return (0, 0)
    if padding == "same":
        if stride != (1, 1):
            raise ValueError(f"{who}: padding='same' is not supported for strided convolutions")
        total = tuple(d * (k - 1) for k, d in zip(kernel, dilation))
        if any(t % 2 for t in total):
            raise NotImplementedError(f"{who}: padding='same' needs an even total padding "
                                      f"(odd kernel reach), got kernel {kernel}")
        return tuple(t // 2 for t in total)
    return pair(padding, "padding")


# -- the functions -----------------------------------------------------------------------------
def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D cross-correlation of ``input`` (N, C, H, W) or (C, H, W) with ``weight``
    (O, C, KH, KW), plus ``bias`` (O,); ``groups=1``."""
    _unsupported("conv2d", groups=(groups, 1))
    stride, dilation = pair(stride, "stride"), pair(dilation, "dilation")
    padding = conv_padding(padding, tuple(weight.shape[2:]), dilation, stride, "conv2d")
    check_conv_input(input, weight, stride, padding, dilation, "conv2d")
    static = dict(stride=stride, padding=padding, dilation=dilation,
                  unbatched=input.dim() == 3)
    if bias is None:
        return apply("ConvolutionBackward0", convolution, input, weight, **static)
    if tuple(bias.shape) != (weight.shape[0],):
        raise ValueError(f"conv2d: bias of shape {tuple(bias.shape)} should have shape "
                         f"({weight.shape[0]},) (one per output channel)")
    return apply("ConvolutionBackward0", convolution_bias, input, weight, bias, **static)


def _pool_params(kernel_size, stride, padding, who):
    kernel = pair(kernel_size, "kernel_size")
    stride = kernel if stride is None or (isinstance(stride, (tuple, list)) and not stride) \
        else pair(stride, "stride")
    padding = pair(padding, "padding")
    if any(2 * p > k for p, k in zip(padding, kernel)):
        raise ValueError(f"{who}: padding should be at most half of the kernel size, got "
                         f"padding={padding} and kernel_size={kernel}")
    return kernel, stride, padding


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False, who="max_pool2d"):
    """Maximum over ``kernel_size`` windows (``stride`` defaults to the kernel size)."""
    _unsupported(who, dilation=(pair(dilation, "dilation"), (1, 1)),
                 ceil_mode=(ceil_mode, False), return_indices=(return_indices, False))
    kernel, stride, padding = _pool_params(kernel_size, stride, padding, who)
    _check_input(input, who)
    check_window(input, kernel, stride, padding, (1, 1), who)
    return apply("MaxPool2DWithIndicesBackward0", max_pooling, input, kernel=kernel,
                 stride=stride, padding=padding)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None, who="avg_pool2d"):
    """Mean over ``kernel_size`` windows; zero padding counts unless ``count_include_pad=False``."""
    _unsupported(who, ceil_mode=(ceil_mode, False), divisor_override=(divisor_override, None))
    kernel, stride, padding = _pool_params(kernel_size, stride, padding, who)
    _check_input(input, who)
    check_window(input, kernel, stride, padding, (1, 1), who)
    return apply("AvgPool2DBackward0", avg_pooling, input, kernel=kernel, stride=stride,
                 padding=padding, count_include_pad=bool(count_include_pad))
