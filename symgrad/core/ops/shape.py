"""Ops that move data without arithmetic: reshape, transpose, broadcast, index, concatenate.

Indexing is normalized in the frontend to a static tuple with one entry per leading axis:
an ``int`` (drop the axis) or a ``(start, stop, step)`` slice with the meaning of
``range(start, stop, step)`` (as ``slice.indices`` returns it: a negative step may stop at -1,
i.e. before index 0); ``None`` and ``...`` become reshapes.
"""
import numpy as np

from symgrad.core.ops.batch_rules import at_front, full_axis, moved, padded, size_of
from symgrad.core.ops.common import check_integer, lift, normalize_axes, normalize_axis
from symgrad.core.ops.registry import declare, faced
from symgrad.core.tracing import Tracer, bind, error_here, find_graph


def _reshape_rule(x, shape):
    if int(np.prod(shape, dtype=np.int64)) != int(np.prod(x.shape, dtype=np.int64)):
        raise ValueError(f"cannot reshape {list(x.shape)} into {list(shape)}")
    return tuple(shape), x.dtype


def _transpose_rule(x, axes):
    if sorted(axes) != list(range(x.ndim)):
        raise ValueError(f"axes {axes} are not a permutation of {x.ndim} axes")
    return tuple(x.shape[a] for a in axes), x.dtype


def _broadcast_rule(x, shape):
    if np.broadcast_shapes(x.shape, shape) != tuple(shape):
        raise ValueError(f"cannot broadcast {list(x.shape)} to {list(shape)}")
    return tuple(shape), x.dtype


def as_slices(index):
    """Python slices for a primitive index. A ``(start, stop, step)`` entry has the meaning of
    ``range(start, stop, step)`` (what ``slice.indices`` returns), so a negative step may end
    at ``stop == -1``, which as a slice bound must be ``None`` (``-1`` would mean the end)."""
    return tuple(slice(entry[0], entry[1] if entry[1] >= 0 else None, entry[2])
                 if isinstance(entry, tuple) else entry for entry in index)


def indexed_shape(shape, index):
    """The shape of ``array[index]`` without allocating the array."""
    probe = np.lib.stride_tricks.as_strided(np.zeros(1, np.int8), shape, (0,) * len(shape))
    return probe[as_slices(index)].shape


def _concatenate_vjp(position):
    def rule(g, out, *operands, axis):
        start = sum(o.shape[axis] for o in operands[:position])
        index = tuple((0, d, 1) for d in g.shape[:axis]) + \
            ((start, start + operands[position].shape[axis], 1),)
        return bind("getitem", g, index=index)
    return rule


# -- batching rules (vmap): the batch axis first, or kept where the op allows -----------------
def _reshape_batch(name, operands, dims, shape):
    x = moved(operands[0], dims[0])
    return bind(name, x, shape=x.shape[:1] + tuple(shape)), 0


def _transpose_batch(name, operands, dims, axes):
    dim = dims[0]
    return bind(name, operands[0], axes=(dim,) + tuple(full_axis(a, dim) for a in axes)), 0


def _broadcast_batch(name, operands, dims, shape):
    x = padded(moved(operands[0], dims[0]), len(shape) + 1)
    return bind(name, x, shape=x.shape[:1] + tuple(shape)), 0


def _getitem_batch(name, operands, dims, index):
    """The batch axis gets a whole slice of its own in the index; integer entries before it
    drop axes, moving it down."""
    (x,), (dim,) = operands, dims
    index = tuple(index) + tuple((0, n, 1) for n in x.shape[len(index):dim])
    index = index[:dim] + ((0, x.shape[dim], 1),) + index[dim:]
    return bind(name, x, index=index), dim - sum(isinstance(e, int) for e in index[:dim])


def _setitem_batch(name, operands, dims, index):
    """Every example's region written at once: the values broadcast to the batched region."""
    size = size_of(operands, dims)
    x, v = (at_front(value, dim, size) for value, dim in zip(operands, dims))
    region = (size,) + indexed_shape(x.shape[1:], index)
    v = padded(v, len(region))
    if v.shape != region:
        v = bind("broadcast_to", v, shape=region)
    return bind(name, x, v, index=((0, size, 1),) + tuple(index)), 0


def _concatenate_batch(name, operands, dims, axis):
    size = size_of(operands, dims)
    return bind(name, *(at_front(x, d, size) for x, d in zip(operands, dims)), axis=axis + 1), 0


def _concatenate_rule(*xs, axis):
    first = xs[0]
    for x in xs[1:]:
        if x.ndim != first.ndim or any(a != b for i, (a, b) in enumerate(zip(x.shape, first.shape))
                                       if i != axis):
            raise ValueError(f"all shapes must match except on axis {axis}: "
                             f"{[list(x.shape) for x in xs]}")
    shape = list(first.shape)
    shape[axis] = sum(x.shape[axis] for x in xs)
    return tuple(shape), first.dtype


declare("reshape", _reshape_rule, lambda x, shape: np.reshape(x, shape),
        [lambda g, out, x, shape: reshape(g, x.shape)], family="shape", params=("shape",),
        view=True, batch=_reshape_batch)
declare("transpose", _transpose_rule, lambda x, axes: np.transpose(x, axes).copy(),
        [lambda g, out, x, axes: transpose(g, tuple(np.argsort(axes)))],
        family="shape", params=("axes",), view=True, batch=_transpose_batch)
declare("broadcast_to", _broadcast_rule, lambda x, shape: np.broadcast_to(x, shape).copy(),
        [lambda g, out, x, shape: sum_to_shape(g, x.shape)],
        # each output element is an operand element: fusable like an elementwise op
        scalar="{0}", family="shape", params=("shape",), batch=_broadcast_batch)
declare("getitem", lambda x, index: (indexed_shape(x.shape, index), x.dtype),
        lambda x, index: x[as_slices(index)].copy(),
        [lambda g, out, x, index: bind("setitem", zeros_like(x), g, index=index)],
        family="shape", params=("index",), view=True, batch=_getitem_batch)
declare("setitem", lambda x, v, index: (x.shape, x.dtype), lambda x, v, index: _set(x, v, index),
        [lambda g, out, x, v, index: bind("setitem", g, zeros_like(v), index=index),
         lambda g, out, x, v, index: bind("getitem", g, index=index)],
        family="shape", params=("index",), batch=_setitem_batch)
# One VJP rule per operand position; 64 operands is far beyond what a traced program concatenates.
declare("concatenate", _concatenate_rule, lambda *xs, axis: np.concatenate(xs, axis=axis),
        [_concatenate_vjp(i) for i in range(64)], family="shape", params=("axis",),
        batch=_concatenate_batch)


def _set(x, v, index):
    out = x.copy()
    out[as_slices(index)] = v
    return out


# -- frontend functions ---------------------------------------------------------------------
def reshape(x, *shape):
    """``x.reshape(shape)`` with numpy's ``-1`` for one inferred dimension."""
    if len(shape) == 1 and not isinstance(shape[0], (int, np.integer)):
        shape = tuple(shape[0])
    if not isinstance(x, Tracer):
        return np.reshape(x, shape)
    shape = resolved_shape(x.shape, shape)
    return x if shape == x.shape else bind("reshape", x, shape=shape)


def resolved_shape(source, shape):
    """``shape`` for an array of shape ``source`` with its one negative entry inferred, or
    numpy's error (one unknown dimension at most; the sizes must agree)."""
    size = int(np.prod(source, dtype=np.int64))
    for d in shape:
        check_integer(d, "reshape", f"each dimension of {tuple(shape)}")
    unknown = [i for i, d in enumerate(shape) if d < 0]
    if len(unknown) > 1:
        raise error_here(f"reshape: can only specify one unknown dimension, got shape "
                         f"{tuple(int(d) for d in shape)}")
    known = int(np.prod([d for d in shape if d >= 0], dtype=np.int64))
    fits = known != 0 and size % known == 0 if unknown else known == size
    if not fits:
        text = ",".join("newaxis" if d < 0 else str(int(d)) for d in shape)
        raise error_here(f"reshape: cannot reshape array of size {size} into shape "
                         f"({text}{',' if len(shape) == 1 else ''}): shape {list(source)} to "
                         f"{[int(d) for d in shape]}")
    return tuple(size // known if d < 0 else int(d) for d in shape)


def transpose(x, axes=None):
    if not isinstance(x, Tracer):
        return np.transpose(x, axes)
    axes = tuple(range(x.ndim))[::-1] if axes is None else \
        tuple(normalize_axis(a, x.ndim, "transpose") for a in axes)
    return x if axes == tuple(range(x.ndim)) else bind("transpose", x, axes=axes)


def swapaxes(x, axis1, axis2):
    if not isinstance(x, Tracer):
        return np.swapaxes(x, axis1, axis2)
    axis1, axis2 = (normalize_axis(a, x.ndim, "swapaxes") for a in (axis1, axis2))
    axes = list(range(x.ndim))
    axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
    return transpose(x, axes)


def broadcast_to(x, shape):
    if not isinstance(x, Tracer):
        return np.broadcast_to(x, shape)
    shape = tuple(int(d) for d in shape)
    return x if x.shape == shape else bind("broadcast_to", x, shape=shape)


def expand_dims(x, axis):
    if not isinstance(x, Tracer):
        return np.expand_dims(x, axis)
    added = len(axis) if isinstance(axis, (tuple, list)) else 1
    axes = normalize_axes(axis, x.ndim + added, "expand_dims")
    shape = iter(x.shape)
    return reshape(x, tuple(1 if i in axes else next(shape) for i in range(x.ndim + len(axes))))


def squeeze(x, axis=None):
    if not isinstance(x, Tracer):
        return np.squeeze(x, axis)
    axes = tuple(i for i, d in enumerate(x.shape) if d == 1) if axis is None \
        else normalize_axes(axis, x.ndim, "squeeze")
    if any(x.shape[a] != 1 for a in axes):
        raise error_here(f"squeeze: cannot squeeze axis {axis} of shape {list(x.shape)}")
    return reshape(x, tuple(d for i, d in enumerate(x.shape) if i not in axes))


def ravel(x):
    return reshape(x, (-1,))


@faced(numpy=(np.concatenate,), torch=("concatenate",))
def concatenate(arrays, axis=0):
    graph = find_graph(arrays)
    if graph is None:
        return np.concatenate(arrays, axis=axis)
    from symgrad.core.ops.common import result_dtype
    if axis is None:
        arrays, axis = [ravel(a) for a in arrays], 0
    dtype = result_dtype(*arrays)
    tracers = [lift(graph, a, dtype) for a in arrays]
    if any(t.ndim == 0 for t in tracers):
        raise error_here("concatenate: zero-dimensional arrays cannot be concatenated "
                         f"(shapes {', '.join(str(t.shape) for t in tracers)})")
    return bind("concatenate", *tracers, axis=normalize_axis(axis, tracers[0].ndim, "concatenate"))


@faced(numpy=(np.stack,), torch=("stack",))
def stack(arrays, axis=0):
    graph = find_graph(arrays)
    if graph is None:
        return np.stack(arrays, axis=axis)
    shapes = [a.shape if isinstance(a, Tracer) else np.shape(a) for a in arrays]
    if len(set(shapes)) > 1:
        raise error_here("stack: all input arrays must have the same shape, got shapes "
                         f"{', '.join(map(str, shapes))}")
    axis = normalize_axis(axis, len(shapes[0]) + 1, "stack")
    return concatenate([expand_dims(lift(graph, a, np.asarray(a).dtype)
                                    if not isinstance(a, Tracer) else a, axis)
                        for a in arrays], axis)


def zeros_like(x):
    graph = find_graph([x])
    return broadcast_to(lift(graph, 0, x.dtype), x.shape)


# -- indexing ---------------------------------------------------------------------------------
def normalize_index(shape, index):
    """Split a basic index into (primitive index, result shape with None axes inserted)."""
    index = index if isinstance(index, tuple) else (index,)
    for entry in index:
        if not (entry is None or entry is Ellipsis or isinstance(entry, (slice, int, np.integer))):
            raise error_here(
                f"indexing with {type(entry).__name__} is not supported: symgrad supports basic "
                "indexing (integers, slices, None, ...) of traced arrays")
    consumed = sum(1 for e in index if e is not None and e is not Ellipsis)
    if Ellipsis in index:
        at = index.index(Ellipsis)
        index = index[:at] + (slice(None),) * (len(shape) - consumed) + index[at + 1:]
    if consumed > len(shape):
        raise error_here(f"too many indices ({consumed}) for an array of shape {list(shape)}")
    primitive, axis = [], 0
    for entry in index:
        if entry is None:
            continue
        if isinstance(entry, slice):
            primitive.append(entry.indices(shape[axis]))
        elif not -shape[axis] <= entry < shape[axis]:
            raise error_here(f"index {entry} is out of bounds for axis {axis} of shape {list(shape)}")
        else:
            primitive.append(int(entry) % shape[axis])
        axis += 1
    return tuple(primitive), index


def _result_shape(picked_shape, index):
    """Insert the ``None`` axes of ``index`` into the shape that the primitive index gives."""
    shape, dims = [], iter(picked_shape)
    for entry in index:
        if entry is None:
            shape.append(1)
        elif isinstance(entry, slice):
            shape.append(next(dims))
    return tuple(shape) + tuple(dims)


def getitem(x, index):
    if not isinstance(x, Tracer):
        return np.asarray(x)[index]
    primitive, expanded = normalize_index(x.shape, index)
    picked = bind("getitem", x, index=primitive) if primitive else x
    return reshape(picked, _result_shape(picked.shape, expanded))


def setitem(x, index, value):
    """Functional ``x[index] = value``: a new tracer (or array) with the slice replaced."""
    if not isinstance(x, Tracer):
        if isinstance(value, Tracer):
            x = lift(value.graph, x, np.asarray(x).dtype)
        else:
            updated = np.array(x, copy=True)
            updated[index] = value
            return updated
    primitive, _ = normalize_index(x.shape, index)
    region = indexed_shape(x.shape, primitive)
    value = lift(x.graph, value, x.dtype)
    while value.ndim > len(region) and value.shape[0] == 1:
        value = reshape(value, value.shape[1:])
    return bind("setitem", x, broadcast_to(value, region), index=primitive)


def sum_to_shape(g, shape):
    """Sum a broadcast cotangent back down to ``shape`` (undoes numpy broadcasting: the VJP of
    ``broadcast_to``, and of every broadcasting operand)."""
    shape = tuple(shape)
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, d in enumerate(shape)
                                      if d == 1 and g.shape[lead + i] != 1)
    g = bind("sum", g, axes=axes, keepdims=True) if axes else g
    return reshape(g, shape)
