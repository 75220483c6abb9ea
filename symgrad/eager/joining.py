"""Tensor methods and functions that join, split and rearrange tensors with PyTorch's
signatures: ``torch.cat``/``stack``, ``split``/``chunk``/``unbind``, ``transpose``,
``expand``, ``contiguous`` and ``masked_fill``.

>>> import symgrad as torch
>>> x = torch.arange(6.0).view(2, 3)
>>> [piece.shape for piece in x.split([1, 2], dim=1)]
[torch.Size([2, 1]), torch.Size([2, 2])]
>>> torch.cat([x, x], dim=0).shape
torch.Size([4, 3])
>>> x.masked_fill(x > 3, 0.0).tolist()
[[0.0, 1.0, 2.0], [3.0, 0.0, 0.0]]
"""
import functools

import numpy as np

import symgrad.core.ops as ops
from symgrad.eager.conversion import cast
from symgrad.eager.dims import normalize_dim
from symgrad.eager.promotion import promote_types
from symgrad.eager.tensor import Tensor, apply


# -- module-level functions the tape replays (their identity is part of the cache key) -------
def concatenated(*values, axis):
    return ops.concatenate(values, axis)


def stacked(*values, axis):
    return ops.stack(values, axis)


def narrowed(x, axis, start, stop):
    return ops.getitem(x, (slice(None),) * axis + (slice(start, stop),))


def selected(x, axis, position):
    return ops.getitem(x, (slice(None),) * axis + (position,))


def swapped(x, axis1, axis2):
    return ops.swapaxes(x, axis1, axis2)


def expanded(x, shape):
    return ops.broadcast_to(x, shape)


def filled(x, mask, value):
    return ops.where(mask, value, x)


# -- joining --------------------------------------------------------------------------------
def _joined_operands(tensors, function):
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{function}(): argument 'tensors' must be a tuple or list of Tensors, "
                        f"got {type(tensors).__name__}")
    if not tensors:
        raise RuntimeError(f"{function}(): expected a non-empty list of Tensors")
    tensors = [t if isinstance(t, Tensor) else Tensor(np.asarray(t)) for t in tensors]
    target = functools.reduce(promote_types, (np.dtype(t._value.dtype) for t in tensors))
    return [cast(t, target) for t in tensors]


def cat(tensors, dim=0):
    """``torch.cat``: tensors joined along an existing ``dim`` (PyTorch's dtype promotion)."""
    tensors = _joined_operands(tensors, "torch.cat")
    first = tensors[0].shape
    axis = normalize_dim(dim, first, "torch.cat()")
    for number, tensor in enumerate(tensors):
        if tensor.dim() != len(first):
            raise RuntimeError(f"Tensors must have same number of dimensions: got {len(first)} "
                               f"and {tensor.dim()}")
        for d, (expected, got) in enumerate(zip(first, tensor.shape)):
            if d != axis and expected != got:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {axis}. "
                                   f"Expected size {expected} but got size {got} for tensor "
                                   f"number {number} in the list.")
    return apply("CatBackward0", concatenated, *tensors, axis=axis)


def stack(tensors, dim=0):
    """``torch.stack``: equal-shaped tensors joined along a new ``dim``."""
    tensors = _joined_operands(tensors, "torch.stack")
    first = tuple(tensors[0].shape)
    for number, tensor in enumerate(tensors):
        if tuple(tensor.shape) != first:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(first)}"
                               f" at entry 0 and {list(tensor.shape)} at entry {number}")
    axis = normalize_dim(dim, first + (1,), "torch.stack()")
    return apply("StackBackward0", stacked, *tensors, axis=axis)


# -- splitting ------------------------------------------------------------------------------
def _pieces(self, bounds, axis):
    return tuple(apply("SplitWithSizesBackward0", narrowed, self, axis=axis, start=start,
                       stop=stop) for start, stop in bounds)


def split(self, split_size_or_sections, dim=0):
    """Pieces of ``split_size`` along ``dim`` (the last one smaller), or of the given sizes."""
    axis = normalize_dim(dim, self.shape, "split()")
    extent = self.shape[axis]
    if isinstance(split_size_or_sections, (int, np.integer)):
        size = int(split_size_or_sections)
        if size <= 0 and not (size == 0 and extent == 0):
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got "
                               f"dimension size of {extent}" if size == 0 else
                               f"split expects split_size be non-negative, but got "
                               f"split_size={size}")
        starts = range(0, extent, size) if size else [0]
        return _pieces(self, [(s, min(s + size, extent)) for s in starts], axis)
    sizes = [int(s) for s in split_size_or_sections]
    if sum(sizes) != extent or any(s < 0 for s in sizes):
        raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {extent} "
                           f"(input tensor's size at dimension {axis}), but got "
                           f"split_sizes={sizes}")
    ends = np.cumsum(sizes).tolist()
    return _pieces(self, list(zip([0] + ends[:-1], ends)), axis)


def chunk(self, chunks, dim=0):
    """``chunks`` pieces along ``dim`` of ``ceil(size / chunks)`` each (fewer when the size
    runs out, as in PyTorch)."""
    if not isinstance(chunks, (int, np.integer)) or chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    extent = self.shape[normalize_dim(dim, self.shape, "chunk()")]
    return split(self, max(-(-extent // int(chunks)), 1 if extent else 0), dim)


def unbind(self, dim=0):
    """The slices along ``dim``, that dimension removed."""
    axis = normalize_dim(dim, self.shape, "unbind()")
    return tuple(apply("UnbindBackward0", selected, self, axis=axis, position=i)
                 for i in range(self.shape[axis]))


# -- rearranging ----------------------------------------------------------------------------
def transpose(self, dim0, dim1):
    """``dim0`` and ``dim1`` swapped."""
    axes = tuple(normalize_dim(d, self.shape, "transpose()") for d in (dim0, dim1))
    return apply("TransposeBackward0", swapped, self, axis1=axes[0], axis2=axes[1])


def expand(self, *sizes):
    """A broadcast of ``self`` to ``sizes`` (``-1`` keeps a size; new dims lead)."""
    sizes = tuple(sizes[0]) if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)) else sizes
    own = (None,) * (len(sizes) - self.dim()) + tuple(self.shape)
    if len(sizes) < self.dim():
        raise RuntimeError(f"expand({self.shape}, size={list(sizes)}): the number of sizes "
                           f"provided ({len(sizes)}) must be greater or equal to the number of "
                           f"dimensions in the tensor ({self.dim()})")
    shape = []
    for d, (size, current) in enumerate(zip(sizes, own)):
        if size == -1 and current is None:
            raise RuntimeError(f"The expanded size of the tensor (-1) isn't allowed in a "
                               f"leading, non-existing dimension {d}")
        size = current if size == -1 else int(size)
        if current not in (None, 1, size):
            raise RuntimeError(f"The expanded size of the tensor ({size}) must match the "
                               f"existing size ({current}) at non-singleton dimension {d}.  "
                               f"Target sizes: {list(sizes)}.  Tensor sizes: {list(self.shape)}")
        shape.append(size)
    return apply("ExpandBackward0", expanded, self, shape=tuple(shape))


def masked_fill(self, mask, value):
    """``self`` with ``value`` where the boolean ``mask`` (broadcast to ``self``) holds."""
    mask = mask if isinstance(mask, Tensor) else Tensor(np.asarray(mask))
    if np.dtype(mask._value.dtype) != np.bool_:
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype "
                           f"{mask.dtype}")
    if isinstance(value, Tensor) and value.dim() != 0:
        raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, but got "
                           f"tensor with {value.dim()} dimension(s).")
    try:
        fits = np.broadcast_shapes(tuple(mask.shape), tuple(self.shape)) == tuple(self.shape)
    except ValueError:
        fits = False
    if not fits:
        raise RuntimeError(f"masked_fill: the mask of shape {tuple(mask.shape)} cannot be "
                           f"broadcast to the tensor's shape {tuple(self.shape)}")
    if isinstance(value, Tensor):
        return apply("MaskedFillBackward0", filled, self, mask, cast(value, self.dtype))
    return apply("MaskedFillBackward0", filled, self, mask, value=value)


def joining_methods():
    return {"split": split, "chunk": chunk, "unbind": unbind, "transpose": transpose,
            "swapaxes": transpose, "swapdims": transpose, "expand": expand,
            "expand_as": lambda self, other: expand(self, *other.shape),
            "contiguous": lambda self, memory_format=None: self, "masked_fill": masked_fill}


def joining_functions():
    """``torch.<name>`` functions (the methods, and the joins of lists of tensors)."""
    methods = {name: method for name, method in joining_methods().items()
               if name not in ("expand_as", "contiguous", "expand")}
    return {**methods, "cat": cat, "concat": cat, "concatenate": cat, "stack": stack}
