"""Reordering and repeating traced arrays: flips, rotations, rolls, axis moves, ``repeat``,
``tile`` and ``pad``, as composites of slices, transposes, concatenation and gathers (so
gradients and compilation come with them)."""
import numpy as np

from symgrad.core.errors import TracingValueError
from symgrad.core.ops.common import lift, normalize_axes, normalize_axis
from symgrad.core.ops.construction import composite
from symgrad.core.ops.indexing import take
from symgrad.core.ops.shape import broadcast_to, concatenate, getitem, ravel, reshape, transpose
from symgrad.core.tracing import error_here


# -- reordering -----------------------------------------------------------------------------
@composite(np.flip)
def flip(m, axis=None):
    """``np.flip``: a reversed (negative-step) slice of each axis."""
    axes = normalize_axes(axis, m.ndim, "flip")
    return getitem(m, tuple(slice(None, None, -1) if a in axes else slice(None)
                            for a in range(m.ndim)))


@composite(np.fliplr)
def fliplr(m):
    if m.ndim < 2:
        raise error_here("Input must be >= 2-d.", TracingValueError)
    return flip(m, 1)


@composite(np.flipud)
def flipud(m):
    if m.ndim < 1:
        raise error_here("Input must be >= 1-d.", TracingValueError)
    return flip(m, 0)


@composite(np.rot90)
def rot90(m, k=1, axes=(0, 1)):
    """``np.rot90``: ``k`` quarter turns in the plane ``axes``, from the first towards the
    second."""
    if len(axes) != 2:
        raise error_here("len(axes) must be 2.", TracingValueError)
    first, second = (normalize_axis(a, m.ndim, "rot90") for a in axes)
    if first == second:
        raise error_here("Axes must be different.", TracingValueError)
    k = int(k) % 4
    if k == 0:
        return m
    if k == 2:
        return flip(flip(m, first), second)
    permutation = list(range(m.ndim))
    permutation[first], permutation[second] = permutation[second], permutation[first]
    if k == 1:
        return transpose(flip(m, second), permutation)
    return flip(transpose(m, permutation), second)


@composite(np.roll)
def roll(a, shift, axis=None):
    """``np.roll``: elements shifted along ``axis`` (of the flattened array when None),
    wrapping around."""
    if axis is None:
        return reshape(roll(ravel(a), shift, 0), a.shape)
    shifts = np.broadcast_to(shift, np.shape(axis)) if np.ndim(shift) < np.ndim(axis) else shift
    axes = np.broadcast_to(axis, np.shape(shifts))
    for one_shift, one_axis in zip(np.ravel(shifts), np.ravel(axes)):
        one_axis = normalize_axis(int(one_axis), a.ndim, "roll")
        extent = a.shape[one_axis]
        cut = -int(one_shift) % extent if extent else 0
        if cut:
            before = (slice(None),) * one_axis
            a = concatenate([getitem(a, before + (slice(cut, None),)),
                             getitem(a, before + (slice(None, cut),))], one_axis)
    return a


@composite(np.moveaxis)
def moveaxis(a, source, destination):
    sources = [normalize_axis(s, a.ndim, "moveaxis") for s in np.atleast_1d(source)]
    destinations = [normalize_axis(d, a.ndim, "moveaxis") for d in np.atleast_1d(destination)]
    if len(sources) != len(destinations):
        raise error_here("`source` and `destination` arguments must have the same number of "
                         "elements", TracingValueError)
    normalize_axes(sources, a.ndim, "moveaxis")     # repeated axes are an error
    order = [n for n in range(a.ndim) if n not in sources]
    for dest, src in sorted(zip(destinations, sources)):
        order.insert(dest, src)
    return transpose(a, order)


@composite(np.rollaxis)
def rollaxis(a, axis, start=0):
    axis = normalize_axis(axis, a.ndim, "rollaxis")
    if not -a.ndim - 1 < start <= a.ndim:
        raise error_here(f"rollaxis: start {start} is out of bounds for array of dimension "
                         f"{a.ndim}", TracingValueError)
    start = start + a.ndim if start < 0 else start
    if axis < start:
        start -= 1
    if axis == start:
        return a
    order = [n for n in range(a.ndim) if n != axis]
    order.insert(start, axis)
    return transpose(a, order)



@composite(np.repeat, method=("repeat",))
def repeat(a, repeats, axis=None):
    """``np.repeat``: each element ``repeats`` times (an int, or one count per element)
    along ``axis`` (of the flattened array when None)."""
    if axis is None:
        a, axis = ravel(a), 0
    axis = normalize_axis(axis, a.ndim, "repeat")
    repeats = np.asarray(repeats)
    if repeats.dtype.kind not in "iu" or np.any(repeats < 0):
        raise error_here(f"repeat: repeats must be non-negative integers, got {repeats}",
                         TracingValueError)
    try:
        positions = np.repeat(np.arange(a.shape[axis]), repeats)
    except ValueError as problem:
        raise error_here(f"repeat: {problem}", TracingValueError) from None
    return take(a, positions, axis)


@composite(np.tile)
def tile(A, reps):
    """``np.tile``: ``A`` repeated ``reps`` times along each axis (a broadcast, then a
    reshape)."""
    reps = (int(reps),) if np.ndim(reps) == 0 else tuple(int(r) for r in reps)
    ndim = max(A.ndim, len(reps))
    shape = (1,) * (ndim - A.ndim) + A.shape
    reps = (1,) * (ndim - len(reps)) + reps
    interleaved = reshape(A, tuple(d for n in shape for d in (1, n)))
    spread = broadcast_to(interleaved, tuple(d for r, n in zip(reps, shape) for d in (r, n)))
    return reshape(spread, tuple(r * n for r, n in zip(reps, shape)))


# modes whose padding repeats elements of the array: numpy's own np.pad of the positions
# says which ones
INDEX_MODES = ("edge", "reflect", "symmetric", "wrap")


@composite(np.pad)
def pad(array, pad_width, mode="constant", **kwargs):
    """``np.pad`` in mode ``constant`` (``constant_values``) and the modes that repeat
    elements (edge, reflect, symmetric, wrap)."""
    if mode not in ("constant",) + INDEX_MODES:
        raise error_here(f"np.pad(mode={mode!r}) is not supported on traced arrays; "
                         f"supported: {('constant',) + INDEX_MODES}", TracingValueError)
    widths = _per_axis(pad_width, array.ndim, "pad_width")
    values = _per_axis(kwargs.pop("constant_values", 0), array.ndim, "constant_values",
                       integral=False)
    for axis, (before, after) in enumerate(widths):
        if before < 0 or after < 0:
            raise error_here("index can't contain negative values", TracingValueError)
        if mode == "constant":
            array = _pad_constant(array, axis, before, after, values[axis])
        elif before or after:
            positions = np.pad(np.arange(array.shape[axis]), (before, after), mode=mode,
                               **kwargs)
            array = take(array, positions, axis)
    return array


def _per_axis(value, ndim, what, integral=True):
    try:
        pairs = np.broadcast_to(np.asarray(value), (ndim, 2))
    except ValueError:
        raise error_here(f"pad: {what} {value!r} cannot be broadcast to ({ndim}, 2)",
                         TracingValueError) from None
    return [tuple(int(v) if integral else v for v in pair) for pair in pairs]


def _pad_constant(array, axis, before, after, values):
    pieces = []
    for width, value in ((before, values[0]), (0, None), (after, values[1])):
        if value is None:
            pieces.append(array)
        elif width:
            shape = array.shape[:axis] + (width,) + array.shape[axis + 1:]
            pieces.append(broadcast_to(lift(array.graph, value, array.dtype), shape))
    return concatenate(pieces, axis) if len(pieces) > 1 else array
