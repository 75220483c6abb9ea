"""Tensor methods and ``torch.<name>`` functions that reorder, repeat or reshape a tensor with
PyTorch's signatures: ``flip``, ``fliplr``/``flipud``, ``roll``, ``rot90``, ``movedim``,
``narrow``, ``argsort``, ``repeat``, ``tile``, ``repeat_interleave``, ``unflatten``,
``view_as``/``reshape_as``, ``ravel``, ``tensor_split``, ``diff``, ``meshgrid``,
``broadcast_to``/``broadcast_tensors``, ``take``, ``take_along_dim`` and ``unfold``.

Each is a composite of numpy-level ops, so it records its gradient eagerly and traces inside a
compiled training step.

>>> import symgrad as torch
>>> x = torch.arange(6.0).view(2, 3)
>>> x.flip(1).tolist()
[[2.0, 1.0, 0.0], [5.0, 4.0, 3.0]]
>>> torch.roll(x, 1, 1).tolist()
[[2.0, 0.0, 1.0], [5.0, 3.0, 4.0]]
"""
import numpy as np

import symgrad.core.ops as ops
from symgrad.eager.dims import normalize_dim
from symgrad.eager.tensor import Tensor, _value_of, apply


# -- module-level functions the tape replays (their identity is part of the cache key) -------
def flipped(x, axes):
    return ops.flip(x, axes)


def rolled(x, shifts, axes):
    return ops.roll(x, shifts, axes)


def rotated(x, k, axes):
    return ops.rot90(x, k, axes)


def moved(x, source, destination):
    return ops.moveaxis(x, source, destination)


def tiled(x, reps):
    return ops.tile(x, reps)


def repeated(x, repeats, axis):
    return ops.repeat(x, repeats, axis)


def reshaped(x, shape):
    return ops.reshape(x, shape)


def sliced(x, key):
    return ops.getitem(x, key)


def differenced(x, axis):
    """``x[1:] - x[:-1]`` along ``axis``."""
    ahead = (slice(None),) * axis + (slice(1, None),)
    behind = (slice(None),) * axis + (slice(None, -1),)
    return ops.subtract(ops.getitem(x, ahead), ops.getitem(x, behind))


def broadcast(x, shape):
    return ops.broadcast_to(x, shape)


def taken(x, indices):
    return ops.take(x, indices)


def taken_along(x, indices, axis):
    return ops.take_along_axis(x, indices, axis)


def windows(x, axis, size, step):
    """``x.unfold(axis, size, step)``: the windows along ``axis`` stacked on it, each window
    a new last dim (one gather of every window's positions)."""
    count = (x.shape[axis] - size) // step + 1
    positions = (np.arange(count)[:, None] * step + np.arange(size)[None, :]).ravel()
    gathered = ops.take(x, positions, axis)
    shape = x.shape[:axis] + (count, size) + x.shape[axis + 1:]
    return ops.moveaxis(ops.reshape(gathered, shape), axis + 1, -1)


# -- methods --------------------------------------------------------------------------------
def _sizes(args):
    """``f(2, 3)`` or ``f((2, 3))``."""
    return tuple(args[0]) if len(args) == 1 and isinstance(args[0], (tuple, list, np.ndarray)) \
        else tuple(args)


def _dims(self, dims, function):
    dims = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
    axes = tuple(normalize_dim(d, self.shape, function) for d in dims)
    if len(set(axes)) != len(axes):
        raise RuntimeError(f"{function}: dims has duplicates, original flip dims size="
                           f"{len(axes)}, but unique flip dims size={len(set(axes))}")
    return axes


def flip(self, *dims):
    """``torch.flip(x, dims)``: reversed along each of ``dims``."""
    axes = _dims(self, _sizes(dims), "flip()")
    return apply("FlipBackward0", flipped, self, axes=axes) if axes else self.clone()


def fliplr(self):
    if self.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(self, 1)


def flipud(self):
    if self.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(self, 0)


def roll(self, shifts, dims=None):
    """``torch.roll``: shifted cyclically along ``dims`` (the flattened tensor when None)."""
    if dims is None:
        shift = shifts if isinstance(shifts, (int, np.integer)) else tuple(shifts)
        if not isinstance(shift, (int, np.integer)) and len(shift) != 1:
            raise RuntimeError(f"`shifts` required to be of length 1 when dims is None, "
                               f"got {len(shift)}")
        shift = int(shift if isinstance(shift, (int, np.integer)) else shift[0])
        return apply("RollBackward0", rolled, self, shifts=shift, axes=None)
    shifts = (shifts,) if isinstance(shifts, (int, np.integer)) else tuple(shifts)
    dims = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
    if len(shifts) != len(dims):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, "
                           f"dims:{len(dims)}")
    axes = tuple(normalize_dim(d, self.shape, "roll()") for d in dims)
    return apply("RollBackward0", rolled, self, shifts=tuple(int(s) for s in shifts), axes=axes)


def rot90(self, k=1, dims=(0, 1)):
    """``torch.rot90``: rotated by 90 degrees ``k`` times, from ``dims[0]`` towards ``dims[1]``."""
    dims = tuple(dims)
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if self.ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {self.ndim}")
    axes = tuple(normalize_dim(d, self.shape, "rot90()") for d in dims)
    if axes[0] == axes[1]:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {dims[0]} "
                           f"and dim1 = {dims[1]}")
    return apply("RotBackward0", rotated, self, k=int(k) % 4, axes=axes)


def movedim(self, source, destination):
    """``torch.movedim``: ``source`` dims moved to ``destination`` (ints or sequences)."""
    single = isinstance(source, (int, np.integer))
    source = (source,) if single else tuple(source)
    destination = (destination,) if isinstance(destination, (int, np.integer)) else tuple(destination)
    if len(source) != len(destination):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source "
                           f"({list(source)} dims) should contain the same number of dims as "
                           f"destination ({list(destination)} dims)")
    source = tuple(normalize_dim(d, self.shape, "movedim()") for d in source)
    destination = tuple(normalize_dim(d, self.shape, "movedim()") for d in destination)
    return apply("MovedimBackward0", moved, self, source=source, destination=destination)


def narrow(self, dim, start, length):
    """``torch.narrow``: ``length`` elements of ``dim`` from ``start`` (a view in PyTorch)."""
    axis = normalize_dim(dim, self.shape, "narrow()")
    extent = self.shape[axis]
    start = int(_value_of(start))
    if not -extent <= start <= extent:
        raise IndexError(f"start out of range (expected to be in range of [{-extent}, {extent}],"
                         f" but got {start})")
    start = start + extent if start < 0 else start
    if start + length > extent or length < 0:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size "
                           f"({extent}).")
    key = (slice(None),) * axis + (slice(start, start + int(length)),)
    return apply("NarrowBackward0", sliced, self, key=key)


def argsort(self, dim=-1, descending=False, stable=False):
    """``torch.argsort``: the indices of ``sort`` (stable)."""
    from symgrad.eager.selection import sort
    return sort(self, dim, descending)[1]


def repeat(self, *sizes):
    """``x.repeat(*sizes)``: tiled ``sizes`` times (``sizes`` may add leading dims)."""
    sizes = _sizes(sizes)
    if len(sizes) < self.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number "
                           "of dimensions of tensor")
    return apply("RepeatBackward0", tiled, self, reps=tuple(int(s) for s in sizes))


def tile(self, *dims):
    """``torch.tile``: as ``repeat``, ones prepended to ``dims`` when it is short."""
    dims = _sizes(dims)
    return repeat(self, (1,) * (self.ndim - len(dims)) + tuple(dims))


def repeat_interleave(self, repeats=None, dim=None, *, output_size=None):
    """``torch.repeat_interleave``: each element (or slice along ``dim``) repeated."""
    repeats = _value_of(repeats)
    if hasattr(repeats, "aval"):
        raise RuntimeError("repeat_interleave with traced repeats has a data-dependent shape")
    if np.ndim(repeats) == 1 and dim is None and self.ndim > 1:
        raise RuntimeError("repeat_interleave: repeats must be 0-dim or 1-dim tensor when dim "
                           "is None and the input is flattened")
    repeats = int(repeats) if np.ndim(repeats) == 0 else tuple(int(r) for r in repeats)
    if dim is None:
        return apply("RepeatInterleaveBackward0", repeated, self.reshape(-1), repeats=repeats,
                     axis=0)
    axis = normalize_dim(dim, self.shape, "repeat_interleave()")
    if not isinstance(repeats, int) and len(repeats) != self.shape[axis]:
        raise RuntimeError(f"repeats must have the same size as input along dim, but got "
                           f"repeats.size(0) = {len(repeats)} and input.size({axis}) = "
                           f"{self.shape[axis]}")
    return apply("RepeatInterleaveBackward0", repeated, self, repeats=repeats, axis=axis)


def unflatten(self, dim, sizes):
    axis = normalize_dim(dim, self.shape, "unflatten()")
    sizes = tuple(int(s) for s in sizes)
    known = int(np.prod([s for s in sizes if s != -1], dtype=np.int64))
    if -1 in sizes:
        sizes = tuple(self.shape[axis] // max(known, 1) if s == -1 else s for s in sizes)
    if int(np.prod(sizes, dtype=np.int64)) != self.shape[axis]:
        raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the "
                           f"size of dim {dim} ({self.shape[axis]}) in the input tensor")
    return self.reshape(self.shape[:axis] + sizes + self.shape[axis + 1:])


def tensor_split(self, indices_or_sections, dim=0):
    """``torch.tensor_split``: ``n`` nearly equal pieces, or pieces between the indices."""
    axis = normalize_dim(dim, self.shape, "tensor_split()")
    extent = self.shape[axis]
    if isinstance(indices_or_sections, (int, np.integer)):
        sections = int(indices_or_sections)
        if sections <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {sections}")
        size, extra = divmod(extent, sections)
        ends = np.cumsum([size + 1] * extra + [size] * (sections - extra)).tolist()
        starts = [0] + ends[:-1]
    else:
        cuts = [min(max(int(i), 0), extent) for i in indices_or_sections]
        starts, ends = [0] + cuts, cuts + [extent]
    return tuple(apply("SplitBackward0", sliced, self,
                       key=(slice(None),) * axis + (slice(start, max(start, end)),))
                 for start, end in zip(starts, ends))


def diff(self, n=1, dim=-1, prepend=None, append=None):
    """``torch.diff``: the ``n``-th forward difference along ``dim``."""
    from symgrad.eager.joining import cat
    axis = normalize_dim(dim, self.shape, "diff()")
    x = self
    if prepend is not None or append is not None:
        x = cat([p for p in (prepend, x, append) if p is not None], axis)
    for _ in range(int(n)):
        x = apply("SubBackward0", differenced, x, axis=axis)
    return x


def unfold(self, dimension, size, step):
    """``x.unfold(dim, size, step)``: sliding windows along ``dim``, each a new last dim."""
    axis = normalize_dim(dimension, self.shape, "unfold()")
    extent = self.shape[axis] if self.ndim else 1
    if size > extent:
        raise RuntimeError(f"maximum size for tensor at dimension {axis} is {extent} but size "
                           f"is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    return apply("UnfoldBackward0", windows, self, axis=axis, size=int(size), step=int(step))


def broadcast_to(self, size):
    return self.expand(*size)


def take(self, index):
    """``torch.take``: elements of the flattened tensor at ``index`` (negative from the end)."""
    index = _value_of(index)
    return apply("TakeBackward0", taken, self, Tensor(np.asarray(index, np.int64))
                 if not hasattr(index, "aval") else Tensor(index))


def take_along_dim(self, indices, dim=None):
    indices = indices if isinstance(indices, Tensor) else Tensor(np.asarray(indices, np.int64))
    if dim is None:
        return apply("TakeAlongDimBackward0", taken_along, self.reshape(-1),
                     indices.reshape(-1), axis=0)
    axis = normalize_dim(dim, self.shape, "take_along_dim()")
    shape = list(np.broadcast_shapes(tuple(self.shape[:axis]) + (1,) + tuple(self.shape[axis + 1:]),
                                     tuple(indices.shape[:axis]) + (1,) + tuple(indices.shape[axis + 1:])))
    source = self.expand(*(shape[:axis] + [self.shape[axis]] + shape[axis + 1:]))
    indices = indices.expand(*(shape[:axis] + [indices.shape[axis]] + shape[axis + 1:]))
    return apply("TakeAlongDimBackward0", taken_along, source, indices, axis=axis)


# -- functions of several tensors -----------------------------------------------------------
def meshgrid(*tensors, indexing="ij"):
    """``torch.meshgrid``: coordinate grids of 1-D tensors (``indexing="ij"``, PyTorch's
    default, or ``"xy"``)."""
    tensors = _sizes(tensors)
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but "
                           f"received: {indexing}")
    for t in tensors:
        if t.ndim > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list "
                               f"but got: {t}")
    flat = [t.reshape(-1) for t in tensors]
    swap = indexing == "xy" and len(flat) >= 2
    if swap:
        flat[0], flat[1] = flat[1], flat[0]
    shape = tuple(t.shape[0] for t in flat)
    grids = [t.reshape((1,) * k + (-1,) + (1,) * (len(flat) - k - 1)).expand(*shape)
             for k, t in enumerate(flat)]
    if swap:
        grids[0], grids[1] = grids[1], grids[0]
        grids = [g.transpose(0, 1) for g in grids]
    return tuple(grids)


def broadcast_tensors(*tensors):
    tensors = [t if isinstance(t, Tensor) else Tensor(np.asarray(t)) for t in tensors]
    shape = np.broadcast_shapes(*(tuple(t.shape) for t in tensors))
    return tuple(t.expand(*shape) for t in tensors)


def rearranging_methods():
    return {"flip": flip, "fliplr": fliplr, "flipud": flipud, "roll": roll, "rot90": rot90,
            "movedim": movedim, "moveaxis": movedim, "narrow": narrow, "argsort": argsort,
            "repeat": repeat, "tile": tile, "repeat_interleave": repeat_interleave,
            "unflatten": unflatten, "tensor_split": tensor_split, "diff": diff, "unfold": unfold,
            "view_as": lambda self, other: self.view(other.shape),
            "reshape_as": lambda self, other: self.reshape(other.shape),
            "ravel": lambda self: self.reshape(-1), "broadcast_to": broadcast_to, "take": take,
            "take_along_dim": take_along_dim,
            "mT": property(lambda self: self.transpose(-2, -1)),
            "mH": property(lambda self: self.transpose(-2, -1))}


def rearranging_functions():
    methods = {name: method for name, method in rearranging_methods().items()
               if name not in ("repeat", "unfold", "view_as", "reshape_as", "mT", "mH")}
    return {**methods, "meshgrid": meshgrid, "broadcast_tensors": broadcast_tensors}
