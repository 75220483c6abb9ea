"""``F.pad``: PyTorch's padding (``pad`` lists (before, after) pairs from the last dimension
backwards) in modes ``constant``, ``reflect``, ``replicate`` and ``circular``; negative
widths crop, before the positive ones pad (PyTorch's order).

One recorded node whose value is symgrad's ``pad`` (and a slice for the crops), so its
gradient of any order is derived, eagerly and in sg.train.

>>> import symgrad as torch
>>> from symgrad.nn import functional as F
>>> F.pad(torch.tensor([[[1.0, 2.0, 3.0]]]), (2, 1), mode="reflect").tolist()
[[[3.0, 2.0, 1.0, 2.0, 3.0, 2.0]]]
"""
import numpy as np

import symgrad.core.ops as ops
from symgrad.nn.input_checks import expect_tensor
from symgrad.eager.tensor import apply

NUMPY_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge",
               "circular": "wrap"}
_COMBINATIONS = ("Supported combinations for non-constant padding:\n"
                 "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
                 "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
                 "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")


def pad_of(x, widths, mode, value):
    """``x`` cropped where ``widths`` (one (before, after) pair per axis) are negative, then
    padded where they are positive."""
    crop = tuple(slice(max(-b, 0), x.shape[axis] - max(-a, 0))
                 for axis, (b, a) in enumerate(widths))
    if any(b < 0 or a < 0 for b, a in widths):
        x = ops.getitem(x, crop)
    grow = tuple((max(b, 0), max(a, 0)) for b, a in widths)
    if not any(b or a for b, a in grow):
        return x
    if mode == "constant":
        return ops.pad(x, grow, mode="constant", constant_values=value)
    return ops.pad(x, grow, mode=NUMPY_MODES[mode])


def _pad_widths(pad, ndim):
    if not isinstance(pad, (tuple, list)):
        raise TypeError(f"pad(): argument 'pad' (position 2) must be tuple of ints, not "
                        f"{type(pad).__name__}")
    for position, width in enumerate(pad):
        if isinstance(width, bool) or not isinstance(width, (int, np.integer)):
            raise TypeError(f"pad(): argument 'pad' (position 2) must be tuple of ints, but "
                            f"found element of type {type(width).__name__} at pos {position}")
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) > 2 * ndim:
        raise RuntimeError(f"Padding length should be less than or equal to two times the input "
                           f"dimension but got padding length {len(pad)} and input of dimension "
                           f"{ndim}")
    pairs = [(int(pad[i]), int(pad[i + 1])) for i in range(0, len(pad), 2)]
    return [(0, 0)] * (ndim - len(pairs)) + pairs[::-1]


def _check_non_constant(input, widths, count, mode):
    ndim = input.dim()
    if ndim not in (count + 1, count + 2):
        raise NotImplementedError(f"Padding size {2 * count} is not supported for {ndim}D input "
                                  f"tensor.\n{_COMBINATIONS}")
    if any(size == 0 for size in input.shape[1:]) or (ndim == count + 1 and input.shape[0] == 0):
        raise RuntimeError(f"Expected {count + 1}D or {count + 2}D (batch mode) tensor with "
                           f"possibly 0 batch size and other non-zero dimensions for input, but "
                           f"got: {list(input.shape)}")
    for axis in range(ndim - count, ndim):
        before, after = widths[axis]
        size = input.shape[axis] - max(-before, 0) - max(-after, 0)
        if mode == "reflect" and max(before, after) >= size:
            raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding "
                               f"input dimension, but got: padding ({before}, {after}) at "
                               f"dimension {axis} of input {list(input.shape)}")
        if mode == "circular" and max(before, after) > size:
            raise RuntimeError("Padding value causes wrapping around more than once.")


def pad(input, pad, mode="constant", value=None):
    """Pad (or, with negative widths, crop) the last ``len(pad) // 2`` dimensions.

    ``mode='constant'`` fills with ``value`` (0 by default) on any number of dimensions;
    ``'reflect'``, ``'replicate'`` and ``'circular'`` pad the last 1, 2 or 3 dimensions of
    batched or unbatched input, as PyTorch's ``F.pad``."""
    expect_tensor(input, "pad")
    if mode not in NUMPY_MODES:
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    widths = _pad_widths(pad, input.dim())
    count = len(pad) // 2
    if mode != "constant":
        if value is not None and value != 0:
            raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
        _check_non_constant(input, widths, count, mode)
    for axis, (before, after) in enumerate(widths):
        if input.shape[axis] + before + after < 0:
            raise RuntimeError("narrow(): length must be non-negative.")
    name = {"constant": "ConstantPadNdBackward0", "circular": "CopySlices",
            "reflect": f"ReflectionPad{count}DBackward0",
            "replicate": f"ReplicationPad{count}DBackward0"}[mode]
    return apply(name, pad_of, input, widths=tuple(widths), mode=mode,
                 value=0.0 if value is None else float(value))
