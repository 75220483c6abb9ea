"""Rearranging blocks of images (PyTorch's formulas, shapes and errors): ``F.pixel_shuffle``,
``F.pixel_unshuffle``, ``F.unfold`` (im2col) and ``F.fold`` (col2im, its adjoint).

``unfold`` is one gather of the padded image's pixels at each block's positions; ``fold``
places each kernel offset's values at its strided positions and adds them up.

>>> import symgrad as torch
>>> from symgrad.nn import functional as F
>>> F.unfold(torch.arange(9.0).reshape(1, 1, 3, 3), 2).tolist()
[[[0.0, 1.0, 3.0, 4.0], [1.0, 2.0, 4.0, 5.0], [3.0, 4.0, 6.0, 7.0], [4.0, 5.0, 7.0, 8.0]]]
"""
import numpy as np

import symgrad.core.ops as ops
from symgrad.core.ops.conv import pair
from symgrad.eager.tensor import apply
from symgrad.nn.functional_padding import pad_of
from symgrad.nn.input_checks import expect_tensor


# -- module-level functions the tape replays ---------------------------------------------------
def pixel_shuffle_of(x, factor):
    *lead, c, h, w = x.shape
    out = ops.reshape(x, tuple(lead) + (c // factor ** 2, factor, factor, h, w))
    n = len(lead)
    out = ops.transpose(out, tuple(range(n)) + (n, n + 3, n + 1, n + 4, n + 2))
    return ops.reshape(out, tuple(lead) + (c // factor ** 2, h * factor, w * factor))


def pixel_unshuffle_of(x, factor):
    *lead, c, h, w = x.shape
    out = ops.reshape(x, tuple(lead) + (c, h // factor, factor, w // factor, factor))
    n = len(lead)
    out = ops.transpose(out, tuple(range(n)) + (n, n + 2, n + 4, n + 1, n + 3))
    return ops.reshape(out, tuple(lead) + (c * factor ** 2, h // factor, w // factor))


def _block_positions(size, kernel, dilation, padding, stride):
    """(kernel offsets, blocks) flat positions into the padded image, and the block grid."""
    padded = tuple(s + 2 * p for s, p in zip(size, padding))
    blocks = _block_counts(size, kernel, dilation, padding, stride)
    rows = (np.arange(kernel[0])[:, None] * dilation[0])[:, None, :, None] + \
        (np.arange(blocks[0]) * stride[0])[None, None, :, None]
    columns = (np.arange(kernel[1]) * dilation[1])[None, :, None, None] + \
        (np.arange(blocks[1]) * stride[1])[None, None, None, :]
    return (rows * padded[1] + columns).reshape(kernel[0] * kernel[1], -1), padded


def _block_counts(size, kernel, dilation, padding, stride):
    return tuple((s + 2 * p - d * (k - 1) - 1) // st + 1
                 for s, k, d, p, st in zip(size, kernel, dilation, padding, stride))


def unfold_of(x, kernel, dilation, padding, stride):
    batched = x.ndim == 4
    x = x if batched else ops.reshape(x, (1,) + tuple(x.shape))
    n, c = x.shape[:2]
    positions, padded = _block_positions(x.shape[2:], kernel, dilation, padding, stride)
    flat = ops.reshape(pad_of(x, ((0, 0), (0, 0)) + tuple((p, p) for p in padding), "constant",
                              0.0), (n, c, padded[0] * padded[1]))
    out = ops.take(flat, positions.reshape(-1), 2)
    out = ops.reshape(out, (n, c * positions.shape[0], positions.shape[1]))
    return out if batched else ops.reshape(out, out.shape[1:])


def fold_of(x, output_size, kernel, dilation, padding, stride):
    batched = x.ndim == 3
    x = x if batched else ops.reshape(x, (1,) + tuple(x.shape))
    n, k = x.shape[0], kernel[0] * kernel[1]
    c = x.shape[1] // k
    blocks = _block_counts(output_size, kernel, dilation, padding, stride)
    padded = tuple(s + 2 * p for s, p in zip(output_size, padding))
    x = ops.reshape(x, (n, c, kernel[0], kernel[1]) + blocks)
    total = None
    for i in range(kernel[0]):
        for j in range(kernel[1]):
            placed = _placed(ops.getitem(x, (slice(None), slice(None), i, j)),
                             (i * dilation[0], j * dilation[1]), stride, padded)
            total = placed if total is None else ops.add(total, placed)
    crop = tuple(slice(p, p + s) for p, s in zip(padding, output_size))
    out = ops.getitem(total, (slice(None), slice(None)) + crop)
    return out if batched else ops.reshape(out, out.shape[1:])


def _placed(block, offset, stride, padded):
    """(N, C, bh, bw) values spread to rows ``offset[0] + stride[0] * r`` and columns
    ``offset[1] + stride[1] * c`` of a zero (N, C, *padded) image."""
    n, c, bh, bw = block.shape
    spread = ops.reshape(block, (n, c, bh, 1, bw, 1))
    spread = pad_of(spread, ((0, 0),) * 3 + ((0, stride[0] - 1), (0, 0), (0, stride[1] - 1)),
                    "constant", 0.0)
    spread = ops.reshape(spread, (n, c, bh * stride[0], bw * stride[1]))
    widths = tuple((o, full - o - b * s) for o, full, b, s in
                   zip(offset, padded, (bh, bw), stride))
    return pad_of(spread, ((0, 0), (0, 0)) + widths, "constant", 0.0)


# -- the functions -----------------------------------------------------------------------------
def _check_factor(input, factor, who):
    expect_tensor(input, who)
    if input.dim() < 3:
        raise RuntimeError(f"{who} expects input to have at least 3 dimensions, but got input "
                           f"with {input.dim()} dimension(s)")
    if isinstance(factor, bool) or not isinstance(factor, (int, np.integer)) or factor <= 0:
        kind = "upscale" if who == "pixel_shuffle" else "downscale"
        raise RuntimeError(f"{who} expects a positive {kind}_factor, but got {factor}")


def pixel_shuffle(input, upscale_factor):
    """(*, C r², H, W) -> (*, C, H r, W r)."""
    _check_factor(input, upscale_factor, "pixel_shuffle")
    if input.shape[-3] % upscale_factor ** 2:
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be "
                           f"divisible by the square of upscale_factor, but input.size(-3)="
                           f"{input.shape[-3]} is not divisible by {upscale_factor ** 2}")
    return apply("PixelShuffleBackward0", pixel_shuffle_of, input, factor=int(upscale_factor))


def pixel_unshuffle(input, downscale_factor):
    """(*, C, H r, W r) -> (*, C r², H, W)."""
    _check_factor(input, downscale_factor, "pixel_unshuffle")
    for axis, what in ((-2, "height"), (-1, "width")):
        if input.shape[axis] % downscale_factor:
            raise RuntimeError(f"pixel_unshuffle expects {what} to be divisible by "
                               f"downscale_factor, but input.size({axis})={input.shape[axis]} "
                               f"is not divisible by {downscale_factor}")
    return apply("PixelUnshuffleBackward0", pixel_unshuffle_of, input,
                 factor=int(downscale_factor))


def _block_params(kernel_size, dilation, padding, stride):
    return (pair(kernel_size, "kernel_size"), pair(dilation, "dilation"),
            pair(padding, "padding"), pair(stride, "stride"))


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """The sliding blocks of (N, C, H, W) or (C, H, W) input as columns:
    (N, C kh kw, L), L the number of blocks."""
    expect_tensor(input, "unfold")
    if input.dim() not in (3, 4):
        raise RuntimeError(f"Input Error: Only 3D or 4D input Tensors are supported (got "
                           f"{input.dim()}D)")
    kernel, dilation, padding, stride = _block_params(kernel_size, dilation, padding, stride)
    blocks = _block_counts(input.shape[-2:], kernel, dilation, padding, stride)
    if min(blocks) < 1:
        raise RuntimeError(f"Given input with spatial size {tuple(input.shape[-2:])}, "
                           f"kernel_size={kernel}, dilation={dilation}, padding={padding}, "
                           f"calculated shape of the array of sliding blocks as {blocks}, but "
                           f"its components must be at least one.")
    return apply("Im2ColBackward0", unfold_of, input, kernel=kernel, dilation=dilation,
                 padding=padding, stride=stride)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Columns of sliding blocks (N, C kh kw, L) or (C kh kw, L) summed back into images
    (N, C, *output_size): the adjoint of ``unfold``."""
    expect_tensor(input, "fold")
    if input.dim() not in (2, 3):
        raise RuntimeError(f"Input Error: Only unbatched (2D) or batched (3D) input Tensors are "
                           f"supported (got {input.dim()}D)")
    output_size = pair(output_size, "output_size")
    kernel, dilation, padding, stride = _block_params(kernel_size, dilation, padding, stride)
    channels, count = input.shape[-2:]
    if channels % (kernel[0] * kernel[1]):
        raise RuntimeError(f"Expected size of input's dimension {input.dim() - 2} to be "
                           f"divisible by the product of kernel_size, but got input.size("
                           f"{input.dim() - 2})={channels} and kernel_size={kernel}.")
    blocks = _block_counts(output_size, kernel, dilation, padding, stride)
    if blocks[0] * blocks[1] != count:
        raise RuntimeError(f"Given output_size={output_size}, kernel_size={kernel}, dilation="
                           f"{dilation}, padding={padding}, stride={stride}, expected size of "
                           f"input's dimension {input.dim() - 1} to match the calculated number "
                           f"of sliding blocks {blocks[0]} * {blocks[1]} = "
                           f"{blocks[0] * blocks[1]}, but got input.size({input.dim() - 1})="
                           f"{count}.")
    return apply("Col2ImBackward0", fold_of, input, output_size=output_size, kernel=kernel,
                 dilation=dilation, padding=padding, stride=stride)
