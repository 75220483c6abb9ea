"""``F.affine_grid`` and ``F.grid_sample``, the two halves of a spatial transformer, on eager
Tensors and built from symgrad ops (so they trace inside ``sg.train``), with PyTorch's
formulas: the grid's normalised coordinates (-1 is the left/top edge: of the first pixel's
centre with ``align_corners=True``, of the first pixel's border without) map to pixel
positions; ``bilinear`` weighs the four neighbouring pixels, ``nearest`` takes the closest
(half to even); ``padding_mode`` says what lies outside (``zeros``, the ``border`` pixels,
or the image ``reflection``-ed). Gradients reach the input and, through the bilinear
weights, the grid.

>>> import symgrad as torch
>>> from symgrad.nn import functional as F
>>> theta = torch.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])
>>> image = torch.arange(4.0).view(1, 1, 2, 2)
>>> grid = F.affine_grid(theta, image.size(), align_corners=False)
>>> F.grid_sample(image, grid, align_corners=False).tolist()
[[[[0.0, 1.0], [2.0, 3.0]]]]
"""
import numpy as np

import symgrad.core.ops as ops
from symgrad.eager.tensor import Tensor, apply

MODES, PADDING_MODES = ("bilinear", "nearest"), ("zeros", "border", "reflection")


def _base_coordinates(size, align_corners):
    """PyTorch's normalised positions of ``size`` pixel centres in [-1, 1]."""
    if size <= 1:
        return np.zeros(max(size, 0))
    line = np.linspace(-1.0, 1.0, size)
    return line if align_corners else line * (size - 1) / size


def affine_grid_of(theta, height, width, align_corners):
    xs, ys = _base_coordinates(width, align_corners), _base_coordinates(height, align_corners)
    base = np.stack([np.broadcast_to(xs, (height, width)),
                     np.broadcast_to(ys[:, None], (height, width)),
                     np.ones((height, width))], -1).reshape(1, height * width, 3)
    base = ops.astype(base, theta.dtype)
    grid = ops.matmul(base, ops.transpose(theta, (0, 2, 1)))
    return ops.reshape(grid, (theta.shape[0], height, width, 2))


def affine_grid(theta, size, align_corners=None):
    """(N, H, W, 2) sampling positions, ``theta`` (N, 2, 3) applied to the normalised
    coordinates of an (N, C, H, W) ``size`` (x first, as ``grid_sample`` reads them)."""
    align_corners = bool(align_corners)
    if not isinstance(theta, Tensor) or np.dtype(theta.dtype).kind != "f":
        raise ValueError(f"Expected theta to have floating point type, but got "
                         f"{getattr(theta, 'dtype', type(theta).__name__)}")
    size = [int(s) for s in size]
    if len(size) != 4:
        raise NotImplementedError(f"affine_grid only supports 4D sizes, for 2D affine "
                                  f"transformations (symgrad); got size {size}")
    if theta.dim() != 3 or tuple(theta.shape[1:]) != (2, 3) or theta.shape[0] != size[0]:
        raise ValueError(f"Expected a batch of 2D affine matrices of shape Nx2x3 for size "
                         f"{size}. Got {list(theta.shape)}.")
    if min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    return apply("AffineGridGeneratorBackward0", affine_grid_of, theta, height=size[2],
                 width=size[3], align_corners=align_corners)


def _reflected(position, size, align_corners):
    """A pixel position folded back into the image as PyTorch's reflect_coordinates does."""
    low, high = (0.0, 2.0 * (size - 1)) if align_corners else (-1.0, 2.0 * size - 1)
    if low == high:
        return ops.multiply(position, 0.0)
    start, span = low / 2, (high - low) / 2
    distance = ops.absolute(ops.subtract(position, start))
    extra = ops.fmod(distance, span)
    flips = ops.floor(ops.true_divide(distance, span))
    even = ops.equal(ops.fmod(flips, 2.0), 0.0)
    return ops.where(even, ops.add(extra, start), ops.add(ops.subtract(span, extra), start))


def _pixel_positions(coordinate, size, padding_mode, align_corners):
    """Normalised coordinates as pixel positions, with ``border``/``reflection`` folding."""
    if align_corners:
        position = ops.multiply(ops.add(coordinate, 1.0), (size - 1) / 2)
    else:
        position = ops.true_divide(ops.subtract(ops.multiply(ops.add(coordinate, 1.0), size),
                                                1.0), 2.0)
    if padding_mode == "reflection":
        position = _reflected(position, size, align_corners)
    if padding_mode != "zeros":
        position = ops.clip(position, 0.0, size - 1.0)
    return position


def _pixels(flat, x, y, height, width):
    """Input values at integer positions ``x``, ``y`` (N, P) of ``flat`` (N, C, H*W); zero
    where the position lies outside the image."""
    inside = ops.logical_and(ops.logical_and(ops.greater_equal(x, 0), ops.less(x, width)),
                             ops.logical_and(ops.greater_equal(y, 0), ops.less(y, height)))
    index = ops.add(ops.multiply(ops.clip(y, 0, height - 1), width), ops.clip(x, 0, width - 1))
    batch, channels, pixels = flat.shape
    offsets = (np.arange(batch * channels, dtype=np.int64) * pixels).reshape(batch, channels, 1)
    linear = ops.add(ops.expand_dims(index, 1), offsets)
    values = ops.take(ops.reshape(flat, (-1,)), linear, 0)
    return ops.where(ops.expand_dims(inside, 1), values, 0.0)


def grid_sample_of(input, grid, mode, padding_mode, align_corners):
    batch, channels, height, width = input.shape
    out_h, out_w = grid.shape[1:3]
    points = ops.reshape(grid, (batch, out_h * out_w, 2))
    x = _pixel_positions(points[:, :, 0], width, padding_mode, align_corners)
    y = _pixel_positions(points[:, :, 1], height, padding_mode, align_corners)
    flat = ops.reshape(input, (batch, channels, height * width))
    if mode == "nearest":
        out = _pixels(flat, ops.astype(ops.rint(x), np.int64), ops.astype(ops.rint(y), np.int64),
                      height, width)
    else:
        left, top = ops.floor(x), ops.floor(y)
        right_share, bottom_share = ops.subtract(x, left), ops.subtract(y, top)
        left, top = ops.astype(left, np.int64), ops.astype(top, np.int64)
        out = 0.0
        for dx, x_share in ((0, ops.subtract(1.0, right_share)), (1, right_share)):
            for dy, y_share in ((0, ops.subtract(1.0, bottom_share)), (1, bottom_share)):
                corner = _pixels(flat, ops.add(left, dx), ops.add(top, dy), height, width)
                out = ops.add(out, ops.multiply(corner, ops.expand_dims(
                    ops.multiply(x_share, y_share), 1)))
    return ops.reshape(out, (batch, channels, out_h, out_w))


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """(N, C, H_out, W_out): ``input`` (N, C, H, W) read at ``grid`` (N, H_out, W_out, 2),
    whose last axis holds normalised (x, y) in [-1, 1]."""
    if mode not in MODES:
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', "
                         f"'nearest' or 'bicubic', but got: '{mode}'"
                         + (" (symgrad has no 'bicubic')" if mode == "bicubic" else ""))
    if padding_mode not in PADDING_MODES:
        raise ValueError(f"nn.functional.grid_sample(): expected padding_mode to be 'zeros', "
                         f"'border', or 'reflection', but got: '{padding_mode}'")
    for name, tensor in (("input", input), ("grid", grid)):
        if not isinstance(tensor, Tensor):
            raise TypeError(f"grid_sample(): argument '{name}' must be Tensor, not "
                            f"{type(tensor).__name__}")
    if input.dim() != 4 or grid.dim() != 4:
        raise RuntimeError(f"grid_sampler(): expected 4D input and grid with same number of "
                           f"dimensions, but got input with sizes {list(input.shape)} and grid "
                           f"with sizes {list(grid.shape)} (symgrad samples 2-D images)")
    if input.shape[0] != grid.shape[0]:
        raise RuntimeError(f"grid_sampler(): expected grid and input to have same batch size, "
                           f"but got input with sizes {list(input.shape)} and grid with sizes "
                           f"{list(grid.shape)}")
    if grid.shape[-1] != 2:
        raise RuntimeError(f"grid_sampler(): expected grid to have size 2 in last dimension, "
                           f"but got grid with sizes {list(grid.shape)}")
    if input.dtype != grid.dtype:
        raise RuntimeError(f"grid_sampler(): expected input and grid to have same dtype, but "
                           f"input has {input.dtype} and grid has {grid.dtype}")
    return apply("GridSampler2DBackward0", grid_sample_of, input, grid, mode=mode,
                 padding_mode=padding_mode, align_corners=bool(align_corners))
