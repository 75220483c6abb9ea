"""``F.conv1d``, ``F.conv_transpose2d``, ``F.adaptive_avg_pool2d`` and ``F.interpolate``
(nearest) on eager Tensors, built from the convolution, pooling and gather ops:
a 1-D convolution is a 2-D one of height 1, a transposed convolution is the convolution's
input gradient, adaptive pooling is a pooling (or, when the sizes do not divide, two
products with averaging matrices), nearest upsampling a gather of rows and columns.

>>> import symgrad as torch
>>> from symgrad.nn import functional as F
>>> F.interpolate(torch.tensor([[[1.0, 2.0]]]), scale_factor=2).tolist()
[[[1.0, 1.0, 2.0, 2.0]]]
"""
import math

import numpy as np

import symgrad.core.ops as ops
from symgrad.core.ops.conv import pair
from symgrad.eager.tensor import apply
from symgrad.nn.input_checks import expect_tensor


def _check_rank(input, ranks, who, what):
    expect_tensor(input, who)
    if input.dim() not in ranks:
        raise RuntimeError(f"{who}: Expected {what} input, but got input of size: "
                           f"{list(input.shape)}")


def _check_channels(input, weight, channels, who):
    if input.shape[-len(weight.shape) + 1] != channels:
        raise RuntimeError(f"{who}: Given groups=1, weight of size {list(weight.shape)}, "
                           f"expected input{list(input.shape)} to have {channels} channels, "
                           f"but got {input.shape[-len(weight.shape) + 1]} channels instead")


# -- module-level functions the tape replays ---------------------------------------------------
def conv1d_of(x, w, b, stride, padding, dilation):
    unbatched = x.ndim == 2
    x = ops.reshape(x, ((1,) if unbatched else x.shape[:1]) + (x.shape[-2], 1, x.shape[-1]))
    w = ops.reshape(w, (w.shape[0], w.shape[1], 1, w.shape[2]))
    out = ops.conv2d(x, w, (1, stride), (0, padding), (1, dilation), bias=b)
    out = ops.reshape(out, out.shape[:2] + out.shape[3:])
    return ops.reshape(out, out.shape[1:]) if unbatched else out


def conv_transpose2d_of(x, w, b, stride, padding, dilation, output_size):
    unbatched = x.ndim == 3
    x = ops.reshape(x, (1,) + tuple(x.shape)) if unbatched else x
    out = ops.conv2d_input_grad(x, w, output_size, stride, padding, dilation)
    if b is not None:
        out = ops.add(out, ops.reshape(b, (1, -1, 1, 1)))
    return ops.reshape(out, out.shape[1:]) if unbatched else out


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, who="conv1d"):
    """1-D cross-correlation of ``input`` (N, C, L) or (C, L) with ``weight`` (O, C, K)."""
    if groups != 1:
        raise NotImplementedError(f"{who}: groups={groups!r} is not supported (only groups=1)")
    _check_rank(input, (2, 3), who, "2D (unbatched) or 3D (batched)")
    _check_channels(input, weight, weight.shape[1], who)
    stride, padding, dilation = (_single(v, name) for v, name in
                                 ((stride, "stride"), (padding, "padding"), (dilation, "dilation")))
    reach = dilation * (weight.shape[2] - 1) + 1
    if input.shape[-1] + 2 * padding < reach:
        raise RuntimeError(f"{who}: Calculated padded input size per channel: "
                           f"({input.shape[-1] + 2 * padding}). Kernel size: ({reach}). Kernel "
                           f"size can't be greater than actual input size")
    return apply("ConvolutionBackward0", conv1d_of, input, weight, bias, stride=stride,
                 padding=padding, dilation=dilation)


def _single(value, name):
    value = value[0] if isinstance(value, (tuple, list)) and len(value) == 1 else value
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"conv1d: {name} must be an int or a 1-tuple, got {value!r}")
    return int(value)


def transposed_size(size, kernel, stride, padding, output_padding, dilation):
    """The output size of a transposed convolution (PyTorch's formula)."""
    return tuple((s - 1) * st - 2 * p + d * (k - 1) + op + 1 for s, k, st, p, op, d in
                 zip(size, kernel, stride, padding, output_padding, dilation))


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1, who="conv_transpose2d"):
    """The transposed 2-D convolution of ``input`` (N, C, H, W) or (C, H, W) with ``weight``
    (C, O, KH, KW): the gradient of conv2d with respect to its input."""
    if groups != 1:
        raise NotImplementedError(f"{who}: groups={groups!r} is not supported (only groups=1)")
    _check_rank(input, (3, 4), who, "3D (unbatched) or 4D (batched)")
    _check_channels(input, weight, weight.shape[0], who)
    stride, padding, dilation = pair(stride, "stride"), pair(padding, "padding"), \
        pair(dilation, "dilation")
    output_padding = pair(output_padding, "output_padding")
    if any(op >= max(s, d) for op, s, d in zip(output_padding, stride, dilation)):
        raise ValueError(f"{who}: output padding must be smaller than either stride or "
                         f"dilation, got output_padding={output_padding}, stride={stride}, "
                         f"dilation={dilation}")
    kernel = tuple(weight.shape[2:])
    size = transposed_size(input.shape[-2:], kernel, stride, padding, output_padding, dilation)
    if min(size) < 1:
        raise RuntimeError(f"{who}: the output size {size} is too small for input of shape "
                           f"{list(input.shape)}")
    return apply("ConvolutionBackward0", conv_transpose2d_of, input, weight, bias,
                 stride=stride, padding=padding, dilation=dilation, output_size=size)


def _averaging_matrix(size, out):
    """(out, size): row ``o`` averages PyTorch's adaptive window floor(o size / out) ..
    ceil((o + 1) size / out)."""
    matrix = np.zeros((out, size))
    for o in range(out):
        start, end = (o * size) // out, -(-((o + 1) * size) // out)
        matrix[o, start:end] = 1.0 / (end - start)
    return matrix


def adaptive_avg_pool2d_of(x, output_size):
    (h, w), (oh, ow) = x.shape[-2:], output_size
    if h % oh == 0 and w % ow == 0:
        kernel = (h // oh, w // ow)
        flat = ops.reshape(x, (-1, 1, h, w))
        return ops.reshape(ops.avg_pool2d(flat, kernel, kernel), x.shape[:-2] + (oh, ow))
    rows = ops.astype(_averaging_matrix(h, oh), x.dtype)
    columns = ops.astype(_averaging_matrix(w, ow).T, x.dtype)
    return ops.matmul(ops.matmul(rows, x), columns)


def adaptive_avg_pool2d(input, output_size, who="adaptive_avg_pool2d"):
    """Means over PyTorch's adaptive windows, ``output_size`` (an int, a pair, None entries
    keeping the input's size) per image of (N, C, H, W) or (C, H, W) input."""
    _check_rank(input, (3, 4), who, "3D or 4D (batch mode) tensor as")
    sizes = output_size if isinstance(output_size, (tuple, list)) else (output_size,) * 2
    size = tuple(int(s) if s is not None else d for s, d in zip(sizes, input.shape[-2:]))
    if min(input.shape[-2:]) < 1 or min(size) < 1:
        raise RuntimeError(f"{who}: output size {size} and input of shape "
                           f"{list(input.shape)} need non-empty images")
    return apply("AdaptiveAvgPool2DBackward0", adaptive_avg_pool2d_of, input, output_size=size)


def nearest_of(x, sources):
    for axis, indices in enumerate(sources, start=x.ndim - len(sources)):
        x = ops.take(x, np.asarray(indices, np.int64), axis)
    return x


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize the spatial dimensions of (N, C, L) or (N, C, H, W) input; ``mode='nearest'``
    (PyTorch's index rule: source = floor(output index * input size / output size), or
    with ``scale_factor``, floor(output index / scale_factor))."""
    if mode != "nearest":
        raise NotImplementedError(f"interpolate: mode={mode!r} is not supported by symgrad "
                                  f"(only mode='nearest')")
    _check_rank(input, (3, 4), "interpolate", "3D or 4D")
    spatial = tuple(input.shape[2:])
    if (size is None) == (scale_factor is None):
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        out = tuple(size) if isinstance(size, (tuple, list)) else (size,) * len(spatial)
        scales = [s / o for s, o in zip(spatial, out)]
    else:
        factors = scale_factor if isinstance(scale_factor, (tuple, list)) else \
            (scale_factor,) * len(spatial)
        out = tuple(int(math.floor(s * f)) for s, f in zip(spatial, factors))
        scales = [s / o for s, o in zip(spatial, out)] if recompute_scale_factor else \
            [1.0 / f for f in factors]
    sources = tuple(tuple(min(int(math.floor(o * scale)), s - 1) for o in range(n))
                    for n, scale, s in zip(out, scales, spatial))
    name = f"UpsampleNearest{len(spatial)}DBackward0"
    return apply(name, nearest_of, input, sources=sources)
