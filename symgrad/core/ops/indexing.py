"""Advanced indexing: integer-array and boolean-mask indices (gather) and writes through them
(scatter), with numpy's semantics.

Two primitives carry it, each the other's VJP: ``gather(x, indices, axis)`` is
``np.take(x, indices, axis)`` and ``scatter_add(x, indices, v, axis)`` is ``x`` with ``v``
added at ``indices`` along ``axis`` (``np.add.at``: repeated indices accumulate). Their
``indices`` operand is an integer array, a constant or a traced one (labels fed as data), in
``[0, size)``; it gets no gradient. Every numpy form of advanced indexing reduces to one
gather: the basic part of the index (slices, None) is applied first, the indexed axes are
brought together and flattened, and the index arrays become one linear index into them.
"""
import numpy as np

import symgrad.core.ops.batch_rules as batch_rules
from symgrad.core.ops.common import dynamic_shape_error, lift, no_gradient, normalize_axis
from symgrad.core.errors import TracingIndexError, TracingTypeError, TracingValueError
from symgrad.core.ops.registry import declare, faced
import symgrad.core.ops.shape as basic
from symgrad.core.tracing import Tracer, bind, error_here, find_graph

INDEX_DTYPE = np.dtype(np.int64)


def _gather_rule(x, indices, axis):
    if indices.dtype.kind not in "iu":
        raise TypeError(f"gather needs integer indices, got {indices.dtype.name}")
    return x.shape[:axis] + indices.shape + x.shape[axis + 1:], x.dtype


def _scatter_rule(x, indices, v, axis):
    region, _ = _gather_rule(x, indices, axis)
    if v.shape != region or v.dtype != x.dtype:
        raise ValueError(f"scatter_add: the values must be {x.dtype.name}{list(region)}, got "
                         f"{v.dtype.name}{list(v.shape)}")
    return x.shape, x.dtype


def _scatter_reference(x, indices, v, axis):
    out = x.copy()
    np.add.at(out, (slice(None),) * axis + (indices,), v)
    return out


def _gather_reference(x, indices, axis):
    if indices.size and (indices.min() < 0 or indices.max() >= x.shape[axis]):
        raise IndexError(f"index out of bounds for axis with size {x.shape[axis]}")
    return np.take(x, indices, axis=axis)


declare("gather", _gather_rule, _gather_reference,
        [lambda g, out, x, indices, axis: scatter_add(basic.zeros_like(x), indices, g, axis)],
        family="indexing", params=("axis",), batch=batch_rules.gather)
declare("scatter_add", _scatter_rule, _scatter_reference,
        [lambda g, out, x, indices, v, axis: g, no_gradient,
         lambda g, out, x, indices, v, axis: gather(g, indices, axis)],
        family="indexing", params=("axis",), batch=batch_rules.scatter_add)


def gather(x, indices, axis):
    """``np.take(x, indices, axis)`` for indices already in ``[0, x.shape[axis])``."""
    return bind("gather", x, lift(x.graph, indices, _index_dtype(indices)), axis=axis)


def scatter_add(x, indices, v, axis):
    """``x`` with ``v`` added at ``indices`` along ``axis``; repeated indices accumulate."""
    return bind("scatter_add", x, lift(x.graph, indices, _index_dtype(indices)),
                lift(x.graph, v, x.dtype), axis=axis)


def _index_dtype(indices):
    return indices.dtype if isinstance(indices, Tracer) else INDEX_DTYPE


# -- index arrays ----------------------------------------------------------------------------
def is_array_entry(entry):
    return isinstance(entry, (list, np.ndarray, Tracer)) and not (
        isinstance(entry, np.ndarray) and entry.ndim == 0 and entry.dtype.kind in "iu")


def _array_entry(entry):
    """An index entry as an integer array (a traced one stays traced)."""
    if isinstance(entry, Tracer):
        if entry.dtype == np.bool_:
            raise dynamic_shape_error(f"indexing with a traced boolean mask {entry!r}")
        if entry.dtype.kind not in "iu":
            raise error_here(f"arrays used as indices must be of integer (or boolean) type, "
                             f"got {entry!r}", TracingIndexError)
        return entry
    if isinstance(entry, list) and find_graph(entry) is not None:
        from symgrad.core.ops.construction import array
        return _array_entry(array(entry))
    array_entry = np.asarray(entry)
    if array_entry.size == 0:
        array_entry = array_entry.astype(INDEX_DTYPE)
    if array_entry.dtype.kind not in "iu":
        raise error_here("arrays used as indices must be of integer (or boolean) type, got "
                         f"{array_entry.dtype.name}", TracingIndexError)
    return array_entry


def expanded_index(shape, index):
    """``index`` with its Ellipsis expanded, boolean masks as integer arrays (one per axis
    they span) and one entry per axis of ``shape`` (trailing slices added)."""
    entries = list(index) if isinstance(index, tuple) else [index]
    masks = {k: np.asarray(e) for k, e in enumerate(entries)
             if is_array_entry(e) and not isinstance(e, Tracer) and np.asarray(e).dtype == np.bool_}
    consumed = sum(masks[k].ndim if k in masks else 0 if e is None or e is Ellipsis else 1
                   for k, e in enumerate(entries))
    if consumed > len(shape):
        raise error_here(f"too many indices for array: array is {len(shape)}-dimensional, "
                         f"but {consumed} were indexed", TracingIndexError)
    flat, axis = [], 0
    for k, entry in enumerate(entries):
        if entry is Ellipsis:
            flat.extend([slice(None)] * (len(shape) - consumed))
            axis += len(shape) - consumed
            consumed = len(shape)
        elif k in masks:
            _check_mask(shape, axis, masks[k])
            flat.extend(np.nonzero(masks[k]))
            axis += masks[k].ndim
        else:
            flat.append(_array_entry(entry) if is_array_entry(entry) else entry)
            axis += entry is not None
    return flat + [slice(None)] * (len(shape) - consumed)


def _check_mask(shape, axis, mask):
    for k, extent in enumerate(mask.shape):
        if extent != shape[axis + k]:
            raise error_here(f"boolean index did not match indexed array along axis {axis + k}; "
                             f"size of axis is {shape[axis + k]} but size of corresponding "
                             f"boolean axis is {extent}", TracingIndexError)


def _normalized(array, extent, axis, poison=None):
    """An index array with negatives counted from the end, checked against ``extent``. A
    traced one is checked when the gather runs: an index out of range becomes ``-poison``,
    which keeps a linear index made with it negative (``poison``: the size of the indexed
    axes), so that the gather raises."""
    if isinstance(array, Tracer):
        from symgrad.core.ops.elementwise import where
        wrapped = where(array < 0, array + extent, array)
        bad = -(poison or extent)
        return where(wrapped < 0, bad, where(wrapped >= extent, bad, wrapped))
    array = np.asarray(array, dtype=INDEX_DTYPE)
    bad = (array < -extent) | (array >= extent)
    if np.any(bad):
        raise error_here(f"index {int(array[bad].flat[0])} is out of bounds for axis {axis} "
                         f"with size {extent}", TracingIndexError)
    return array % extent if extent else array


def _linear_index(arrays, extents):
    """One index into the flattened axes ``extents`` from one index array per axis."""
    strides = [int(np.prod(extents[k + 1:], dtype=np.int64)) for k in range(len(extents))]
    total = None
    for array, stride in zip(arrays, strides):
        term = array * stride if stride != 1 else array
        total = term if total is None else total + term
    return total


def _broadcast_index_shape(arrays):
    shapes = [a.shape if isinstance(a, Tracer) else np.shape(a) for a in arrays]
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        raise error_here("shape mismatch: indexing arrays could not be broadcast together "
                         f"with shapes {' '.join(map(str, shapes))}", TracingIndexError) from None


def advanced_getitem(x, index):
    """``x[index]`` for an index with arrays: one gather (a copy, as numpy's)."""
    entries = expanded_index(x.shape, index)
    positions = [k for k, e in enumerate(entries) if is_array_entry(e) or _is_int(e)]
    # the basic part first: slices and None; every advanced entry keeps its whole axis
    picked = basic.getitem(x, tuple(slice(None) if k in positions else e
                                    for k, e in enumerate(entries)))
    axes = list(positions)          # entry k is axis k of picked
    extents = [picked.shape[a] for a in axes]
    poison = int(np.prod(extents, dtype=np.int64)) or 1
    arrays = [_normalized(entries[k], picked.shape[a], a, poison)
              for k, a in zip(positions, axes)]
    index_shape = _broadcast_index_shape(arrays)
    arrays = [_broadcast(a, index_shape) for a in arrays]
    linear = _linear_index(arrays, extents)
    adjacent = axes == list(range(axes[0], axes[0] + len(axes)))
    if not adjacent:     # numpy puts the indexed dimensions first
        rest = [a for a in range(picked.ndim) if a not in axes]
        picked, axes = basic.transpose(picked, axes + rest), list(range(len(axes)))
    first = axes[0]
    merged = picked.shape[:first] + (int(np.prod(extents, dtype=np.int64)),) + \
        picked.shape[first + len(axes):]
    return gather(basic.reshape(picked, merged), linear, first)


def _is_int(entry):
    return isinstance(entry, (int, np.integer)) and not isinstance(entry, (bool, np.bool_)) \
        or isinstance(entry, np.ndarray) and entry.ndim == 0


def _broadcast(array, shape):
    if isinstance(array, Tracer):
        return basic.broadcast_to(array, shape)
    return np.broadcast_to(array, shape)


def has_arrays(index):
    return any(is_array_entry(e) for e in (index if isinstance(index, tuple) else (index,)))


def getitem(x, index):
    """``x[index]`` with numpy's basic and advanced indexing (integer arrays, lists, concrete
    boolean masks, traced integer arrays)."""
    if not isinstance(x, Tracer):
        if not _traced_entries(index):
            return np.asarray(x)[index]
        x = lift(find_graph(_entries(index)), x, np.asarray(x).dtype)
    if isinstance(index, Tracer) and index.ndim == 0 and index.dtype == np.bool_:
        raise dynamic_shape_error(f"indexing with a traced boolean {index!r}")
    if not has_arrays(index) and not isinstance(index, Tracer):
        return basic.getitem(x, index)
    return advanced_getitem(x, index)


def flat_positions(shape, index):
    """The flat position in an array of ``shape`` of every element of ``array[index]``
    (numpy evaluates the index and raises its own errors)."""
    try:
        return np.arange(int(np.prod(shape, dtype=np.int64)), dtype=INDEX_DTYPE
                         ).reshape(shape)[index]
    except IndexError as problem:
        raise error_here(str(problem), TracingIndexError) from None


def _traced_positions(x, index):
    """The flat positions of ``x[index]`` when the index holds traced arrays: a gather from
    a constant of the positions."""
    return getitem(lift(x.graph, np.arange(x.size, dtype=INDEX_DTYPE).reshape(x.shape),
                        INDEX_DTYPE), index)


def _values_for(x, value, region):
    value = lift(x.graph, value, x.dtype)
    while value.ndim > len(region) and value.shape[0] == 1:
        value = basic.reshape(value, value.shape[1:])
    try:
        np.broadcast_shapes(value.shape, region)
    except ValueError:
        raise error_here(f"shape mismatch: value array of shape {value.shape} could not be "
                         f"broadcast to indexing result of shape {region}",
                         TracingValueError) from None
    return basic.ravel(basic.broadcast_to(value, region))


def _entries(index):
    return index if isinstance(index, tuple) else (index,)


def _traced_entries(index):
    return find_graph(_entries(index)) is not None


def advanced_setitem(x, index, value):
    """Functional ``x[index] = value`` with array indices: where an index repeats, the last
    value wins (as in numpy) and only it gets a gradient."""
    if _traced_entries(index):
        return _set_at_traced_scalars(x, index, value)
    positions = flat_positions(x.shape, index)
    values = _values_for(x, value, positions.shape)
    positions = positions.ravel()
    unique, last_reversed = np.unique(positions[::-1], return_index=True)
    if unique.size != positions.size:      # keep the last write of each position
        values = gather(values, positions.size - 1 - last_reversed, 0)
        positions = unique
    from symgrad.core.ops.elementwise import where
    written = np.zeros(x.size, bool)
    written[positions] = True
    kept = where(written, 0, basic.ravel(x))
    return basic.reshape(scatter_add(kept, positions, values, 0), x.shape)


def _set_at_traced_scalars(x, index, value):
    """``x[i, ...] = value`` with traced integer scalars ``i``: no position repeats."""
    if any(isinstance(e, (Tracer, list, np.ndarray)) and np.ndim(e) > 0 for e in _entries(index)):
        raise error_here("x[index] = value with a traced index array: which of repeated "
                         "indices wins is not known while tracing; write np.add.at(x, index, "
                         "value) to add at the indices, or np.where(mask, value, x)")
    from symgrad.core.ops.elementwise import where
    positions = _traced_positions(x, index)
    values = _values_for(x, value, positions.shape)
    positions = basic.ravel(positions)
    hits = scatter_add(lift(x.graph, np.zeros(x.size, INDEX_DTYPE), INDEX_DTYPE), positions,
                       lift(x.graph, np.ones(positions.shape, INDEX_DTYPE), INDEX_DTYPE), 0)
    kept = where(hits > 0, 0, basic.ravel(x))
    return basic.reshape(scatter_add(kept, positions, values, 0), x.shape)


def setitem(x, index, value):
    """Functional ``x[index] = value``: a new tracer with the indexed elements replaced."""
    if not isinstance(x, Tracer) or not (has_arrays(index) or isinstance(index, Tracer)):
        return basic.setitem(x, index, value)
    return advanced_setitem(x, index, value)


# numpy hands np.add.at(traced, index, values) to __array_ufunc__ with method "at"
@faced(numpy=((np.add, "at"),))
def add_at(x, index, value):
    """``np.add.at(x, index, value)``: ``value`` added at ``index``, repeated indices
    accumulating (the traced array ``x`` is written in place)."""
    if not isinstance(x, Tracer) or x.immutable:
        raise error_here(f"np.add.at writes into its first argument in place, which must be "
                         f"a traced array, got {x!r}", TracingTypeError)
    if _traced_entries(index):
        positions = _traced_positions(x, index)
    else:
        positions = flat_positions(x.shape, index)
    values = _values_for(x, value, positions.shape)
    flat = basic.ravel(positions) if isinstance(positions, Tracer) else positions.ravel()
    x.write(basic.reshape(scatter_add(basic.ravel(x), flat, values, 0), x.shape))


@faced(numpy=(np.take,), method=("take",))
def take(a, indices, axis=None):
    """``np.take``: elements of ``a`` at ``indices`` along ``axis`` (of ``a.ravel()`` when
    None); negative indices count from the end."""
    graph = find_graph([a, indices])
    if graph is None:
        return np.take(a, indices, axis=axis)
    a = lift(graph, a, np.asarray(a).dtype) if not isinstance(a, Tracer) else a
    if axis is None:
        a, axis = basic.ravel(a), 0
    axis = normalize_axis(axis, a.ndim, "take")
    indices = _array_entry(indices)
    return gather(a, _normalized(indices, a.shape[axis], axis), axis)


@faced(numpy=(np.take_along_axis,))
def take_along_axis(arr, indices, axis=-1):
    """``np.take_along_axis``: ``arr`` indexed by ``indices`` along ``axis``, matching
    (broadcasting) on the other axes."""
    graph = find_graph([arr, indices])
    if graph is None:
        return np.take_along_axis(arr, indices, axis)
    arr = lift(graph, arr, np.asarray(arr).dtype) if not isinstance(arr, Tracer) else arr
    if axis is None:
        arr, axis = basic.ravel(arr), 0
    ndim = np.ndim(indices) if not isinstance(indices, Tracer) else indices.ndim
    if ndim != arr.ndim:
        raise error_here(f"take_along_axis: `indices` and `arr` must have the same number of "
                         f"dimensions, got {ndim} and {arr.ndim}", TracingValueError)
    axis = normalize_axis(axis, arr.ndim, "take_along_axis")
    ranges = tuple(np.arange(d).reshape((1,) * k + (d,) + (1,) * (arr.ndim - k - 1))
                   for k, d in enumerate(arr.shape))
    return getitem(arr, ranges[:axis] + (indices,) + ranges[axis + 1:])
