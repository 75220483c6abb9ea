"""``F.max_pool1d``, ``F.avg_pool1d``, ``F.adaptive_avg_pool1d``, ``F.adaptive_max_pool1d``
and ``F.adaptive_max_pool2d`` (PyTorch's windows, defaults and errors).

A 1-D pooling is the 2-D one over images of height 1; adaptive max pooling takes the
maximum of each of PyTorch's windows (start ``floor(o n / out)``, end ``ceil((o + 1) n /
out)``) one dimension at a time (a maximum over a rectangle is a maximum of maxima).

>>> import symgrad as torch
>>> from symgrad.nn import functional as F
>>> F.max_pool1d(torch.tensor([[[1.0, 3.0, 2.0, 0.0]]]), 2).tolist()
[[[3.0, 2.0]]]
"""
import numpy as np

import symgrad.core.ops as ops
from symgrad.eager.tensor import apply
from symgrad.nn.functional_spatial import _averaging_matrix
from symgrad.nn.input_checks import expect_tensor


# -- module-level functions the tape replays ---------------------------------------------------
def _as_images(x):
    """(N, C, L) or (C, L) -> (N or 1, C, 1, L)."""
    batched = x.ndim == 3
    return ops.reshape(x, ((x.shape[0],) if batched else (1,)) + (x.shape[-2], 1, x.shape[-1]))


def _from_images(out, batched):
    out = ops.reshape(out, out.shape[:2] + out.shape[3:])
    return out if batched else ops.reshape(out, out.shape[1:])


def max_pool1d_of(x, kernel, stride, padding):
    out = ops.max_pool2d(_as_images(x), (1, kernel), (1, stride), (0, padding))
    return _from_images(out, x.ndim == 3)


def avg_pool1d_of(x, kernel, stride, padding, count_include_pad):
    out = ops.avg_pool2d(_as_images(x), (1, kernel), (1, stride), (0, padding),
                         count_include_pad)
    return _from_images(out, x.ndim == 3)


def adaptive_avg_pool1d_of(x, output_size):
    columns = ops.astype(_averaging_matrix(x.shape[-1], output_size).T, x.dtype)
    return ops.matmul(x, columns)


def adaptive_max_of(x, output_size):
    """The maximum over PyTorch's adaptive windows of the last ``len(output_size)`` axes."""
    for axis, out in enumerate(output_size, start=x.ndim - len(output_size)):
        size = x.shape[axis]
        if size == out:
            continue
        windows = []
        for o in range(out):
            start, end = (o * size) // out, -(-((o + 1) * size) // out)
            index = (slice(None),) * axis + (slice(start, end),)
            windows.append(ops.amax(ops.getitem(x, index), axis, keepdims=True))
        x = ops.concatenate(windows, axis) if out > 1 else windows[0]
    return x


# -- checks ------------------------------------------------------------------------------------
def _single(value, name, who):
    value = value[0] if isinstance(value, (tuple, list)) and len(value) == 1 else value
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{who}: {name} must be an int or a 1-tuple, got {value!r}")
    return int(value)


def _check_1d_input(input, who):
    expect_tensor(input, who)
    if input.dim() not in (2, 3):
        raise RuntimeError(f"{who}: Expected 2D or 3D (batch mode) tensor with optional 0 dim "
                           f"batch size for input, but got:{list(input.shape)}")


def _pool1d_params(input, kernel_size, stride, padding, who):
    _check_1d_input(input, who)
    kernel = _single(kernel_size, "kernel_size", who)
    stride = kernel if stride is None or (isinstance(stride, (tuple, list)) and not stride) \
        else _single(stride, "stride", who)
    padding = _single(padding, "padding", who)
    if 2 * padding > kernel:
        raise RuntimeError(f"{who}() padding should be at most half of kernel size, but got "
                           f"padding={padding} and kernel_size={kernel}")
    if (input.shape[-1] + 2 * padding - kernel) // stride + 1 < 1:
        raise RuntimeError(f"{who}() Invalid computed output size: "
                           f"{(input.shape[-1] + 2 * padding - kernel) // stride + 1}")
    return kernel, stride, padding


def _unsupported(who, **options):
    for name, (value, default) in options.items():
        if value != default:
            raise NotImplementedError(f"{who}: {name}={value!r} is not supported by symgrad "
                                      f"(only {name}={default!r})")


# -- the functions -----------------------------------------------------------------------------
def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Maximum over ``kernel_size`` windows of (N, C, L) or (C, L) input."""
    _unsupported("max_pool1d", dilation=(_single(dilation, "dilation", "max_pool1d"), 1),
                 ceil_mode=(ceil_mode, False), return_indices=(return_indices, False))
    kernel, stride, padding = _pool1d_params(input, kernel_size, stride, padding, "max_pool1d")
    return apply("SqueezeBackward1", max_pool1d_of, input, kernel=kernel, stride=stride,
                 padding=padding)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """Mean over ``kernel_size`` windows of (N, C, L) or (C, L) input."""
    _unsupported("avg_pool1d", ceil_mode=(ceil_mode, False))
    kernel, stride, padding = _pool1d_params(input, kernel_size, stride, padding, "avg_pool1d")
    return apply("SqueezeBackward1", avg_pool1d_of, input, kernel=kernel, stride=stride,
                 padding=padding, count_include_pad=bool(count_include_pad))


def adaptive_avg_pool1d(input, output_size):
    """Means over PyTorch's adaptive windows of the last dimension of (N, C, L) or (C, L)."""
    expect_tensor(input, "adaptive_avg_pool1d")
    if input.dim() not in (2, 3):
        raise RuntimeError(f"Expected 2 to 3 dimensions, but got {input.dim()}-dimensional "
                           f"tensor for argument #1 'self' (while checking arguments for "
                           f"adaptive_avg_pool1d)")
    size = _single(output_size, "output_size", "adaptive_avg_pool1d")
    return apply("SqueezeBackward1", adaptive_avg_pool1d_of, input, output_size=size)


def _adaptive_max(input, sizes, who, name):
    if len(sizes) == 1:
        _check_1d_input(input, who)
    elif input.dim() not in (3, 4):
        raise RuntimeError(f"{who}(): Expected 3D or 4D tensor, but got: {list(input.shape)}")
    spatial = input.shape[-len(sizes):]
    size = tuple(d if s is None else int(s) for s, d in zip(sizes, spatial))
    if min(spatial) < 1 or min(size) < 1:
        raise RuntimeError(f"{who}(): output size {size} and input of shape "
                           f"{list(input.shape)} need non-empty inputs and outputs")
    return apply(name, adaptive_max_of, input, output_size=size)


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Maxima over PyTorch's adaptive windows of the last dimension."""
    expect_tensor(input, "adaptive_max_pool1d")
    _unsupported("adaptive_max_pool1d", return_indices=(return_indices, False))
    return _adaptive_max(input, (_single(output_size, "output_size", "adaptive_max_pool1d"),),
                         "adaptive_max_pool1d", "SqueezeBackward1")


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Maxima over PyTorch's adaptive windows of (N, C, H, W) or (C, H, W) input;
    ``output_size`` an int or a pair (None keeps that size)."""
    expect_tensor(input, "adaptive_max_pool2d")
    _unsupported("adaptive_max_pool2d", return_indices=(return_indices, False))
    sizes = tuple(output_size) if isinstance(output_size, (tuple, list)) else (output_size,) * 2
    return _adaptive_max(input, sizes, "adaptive_max_pool2d", "AdaptiveMaxPool2DBackward0")
