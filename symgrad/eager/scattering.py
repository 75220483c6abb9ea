"""Tensor methods that write values at indices, with PyTorch's signatures: ``index_add``,
``index_copy``, ``index_fill``, ``scatter``, ``scatter_add``, ``masked_scatter`` (and their
in-place ``_`` forms in symgrad.eager.in_place). Each is differentiable in the written values
and in the tensor written into, and traces inside a compiled step (the indices may be traced).

>>> import symgrad as torch
>>> x = torch.zeros(3)
>>> x.index_add(0, torch.tensor([0, 0, 2]), torch.tensor([1.0, 2.0, 3.0])).tolist()
[3.0, 0.0, 3.0]
>>> torch.zeros(2, 2).scatter_add(1, torch.tensor([[1], [0]]), torch.ones(2, 1)).tolist()
[[0.0, 1.0], [1.0, 0.0]]
"""
import numpy as np

import symgrad.core.ops as ops
from symgrad.core.ops.common import lift
from symgrad.core.ops.indexing import scatter_add as traced_scatter_add
from symgrad.core.tracing import find_graph
from symgrad.eager.dims import normalize_dim
from symgrad.eager.tensor import Tensor, _value_of, apply


# -- module-level functions the tape replays (their identity is part of the cache key) -------
def flat_scatter_add(x, positions, values):
    """``x`` with ``values`` added at the flat ``positions`` (repeats accumulate)."""
    graph = find_graph([x, positions, values])
    if graph is None:
        out = np.array(x).reshape(-1)
        np.add.at(out, np.asarray(positions).reshape(-1), np.asarray(values).reshape(-1))
        return out.reshape(np.shape(x))
    x = lift(graph, x, np.asarray(x).dtype if not hasattr(x, "aval") else x.dtype)
    flat = traced_scatter_add(ops.ravel(x), ops.ravel(positions), ops.ravel(values), 0)
    return ops.reshape(flat, x.shape)


def _positions(shape, index, axis):
    """The flat positions in a tensor of ``shape`` of ``index``'s entries along ``axis`` (each
    other coordinate the entry's own, as ``torch.scatter`` reads them)."""
    strides = np.cumprod((1,) + tuple(shape[:0:-1]))[::-1]
    index_shape = np.shape(index) if not hasattr(index, "aval") else index.shape
    offsets = sum(np.arange(d).reshape((1,) * k + (d,) + (1,) * (len(index_shape) - k - 1))
                  * int(strides[k]) for k, d in enumerate(index_shape) if k != axis)
    return ops.add(ops.multiply(index, int(strides[axis])), offsets)


def _along(values, axis, count, ndim):
    """The 1-D ``values`` shaped to broadcast along ``axis`` of ``ndim`` dims."""
    return ops.reshape(values, (1,) * axis + (count,) + (1,) * (ndim - axis - 1))


def scattered_add(x, index, source, axis):
    region = (np.shape(index) if not hasattr(index, "aval") else index.shape)
    source = ops.getitem(source, tuple(slice(0, d) for d in region))
    return flat_scatter_add(x, _positions(np.shape(x), index, axis), source)


def scattered(x, index, source, axis):
    """``x`` with ``source`` written at ``index`` along ``axis`` (overwriting)."""
    written = scattered_add(np.zeros(np.shape(x), x.dtype), index, source, axis)
    hit = scattered_add(np.zeros(np.shape(x), np.int64), index,
                        np.ones(np.shape(index), np.int64), axis)
    return ops.where(ops.greater(hit, 0), written, x)


def index_added(x, index, source, axis, alpha):
    spread = _broadcast_index(index, axis, np.shape(source))
    return scattered_add(x, spread, ops.multiply(alpha, source) if alpha != 1 else source, axis)


def index_copied(x, index, source, axis):
    return scattered(x, _broadcast_index(index, axis, np.shape(source)), source, axis)


def _broadcast_index(index, axis, shape):
    spread = _along(index, axis, shape[axis], len(shape))
    return ops.broadcast_to(spread, shape)


def index_filled(x, index, value, axis):
    hit = ops.greater(ops.sum(ops.equal(
        _along(np.arange(np.shape(x)[axis]), axis, np.shape(x)[axis], np.ndim(x))[..., None],
        index), -1), 0)
    return ops.where(hit, value, x)


def masked_scattered(x, mask, source):
    """``x`` with the first elements of ``source`` (in order) where ``mask`` holds."""
    mask = ops.broadcast_to(mask, np.shape(x))
    order = ops.subtract(ops.cumsum(ops.astype(ops.ravel(mask), np.int64)), 1)
    picked = ops.take(ops.ravel(source), ops.maximum(order, 0))
    return ops.where(mask, ops.reshape(picked, np.shape(x)), x)


# -- methods --------------------------------------------------------------------------------
def _index_tensor(index, what):
    index = index if isinstance(index, Tensor) else Tensor(np.asarray(index))
    if np.dtype(index._value.dtype).kind not in "iu":
        raise RuntimeError(f"{what}(): Expected dtype int64 for index")
    return index


def _check_unique(index, what):
    value = _value_of(index)
    if not hasattr(value, "aval") and np.unique(np.asarray(value)).size != np.size(value):
        raise RuntimeError(f"{what}: the index has repeated entries, where PyTorch leaves which "
                           f"value is written unspecified; symgrad refuses rather than pick one")


def _source_tensor(self, source):
    source = source if isinstance(source, Tensor) else Tensor(np.asarray(source, self._value.dtype))
    return source.to(self.dtype)


def index_add(self, dim, index, source, *, alpha=1):
    axis = normalize_dim(dim, self.shape, "index_add()")
    index = _index_tensor(index, "index_add_")
    return apply("IndexAddBackward0", index_added, self, index.reshape(-1),
                 _source_tensor(self, source), axis=axis, alpha=alpha)


def index_copy(self, dim, index, source):
    axis = normalize_dim(dim, self.shape, "index_copy()")
    index = _index_tensor(index, "index_copy_")
    _check_unique(index, "index_copy")
    return apply("IndexCopyBackward0", index_copied, self, index.reshape(-1),
                 _source_tensor(self, source), axis=axis)


def index_fill(self, dim, index, value):
    axis = normalize_dim(dim, self.shape, "index_fill()")
    index = _index_tensor(index, "index_fill_")
    return apply("IndexFillBackward0", index_filled, self, index.reshape(-1), _value_of(value),
                 axis=axis)


def _check_scatter(self, index, axis, what):
    if index.ndim != self.ndim:
        raise RuntimeError(f"Index tensor must have the same number of dimensions as self "
                           f"tensor")
    for d, (size, own) in enumerate(zip(index.shape, self.shape)):
        if d != axis and size > own:
            raise RuntimeError(f"Size does not match at dimension {d} expected index "
                               f"{list(index.shape)} to be smaller than self {list(self.shape)} "
                               f"apart from dimension {axis}")


def scatter_add(self, dim, index, src):
    axis = normalize_dim(dim, self.shape, "scatter_add()")
    index = _index_tensor(index, "scatter_add")
    _check_scatter(self, index, axis, "scatter_add")
    return apply("ScatterAddBackward0", scattered_add, self, index, _source_tensor(self, src),
                 axis=axis)


def scatter(self, dim, index, src=None, *, value=None, reduce=None):
    """``torch.scatter``: ``src`` (or the number ``value``) written at ``index`` along ``dim``;
    ``reduce="add"`` adds instead."""
    if src is None and value is None:
        raise TypeError("scatter() missing the source: give src or value")
    src = value if src is None else src
    if not isinstance(src, Tensor):
        src = Tensor(np.full(np.shape(_value_of(index)), src, self._value.dtype))
    if reduce == "add":
        return scatter_add(self, dim, index, src)
    if reduce is not None:
        raise RuntimeError(f"reduce argument must be either add or multiply, got {reduce}; "
                           f"symgrad supports add")
    axis = normalize_dim(dim, self.shape, "scatter()")
    index = _index_tensor(index, "scatter")
    _check_scatter(self, index, axis, "scatter")
    _check_unique(_value_of(_positions(tuple(self.shape), _value_of(index), axis))
                  if not hasattr(index._value, "aval") else index, "scatter")
    return apply("ScatterBackward0", scattered, self, index, _source_tensor(self, src), axis=axis)


def masked_scatter(self, mask, source):
    mask = mask if isinstance(mask, Tensor) else Tensor(np.asarray(mask))
    if np.dtype(mask._value.dtype) != np.bool_:
        raise RuntimeError(f"masked_scatter_ only supports boolean masks, but got mask with "
                           f"dtype {mask.dtype}")
    return apply("MaskedScatterBackward0", masked_scattered, self, mask,
                 _source_tensor(self, source))


def scattering_methods():
    return {"index_add": index_add, "index_copy": index_copy, "index_fill": index_fill,
            "scatter_add": scatter_add, "scatter": scatter, "masked_scatter": masked_scatter,
            "clamp_min": lambda self, min: self.clamp(min=min),  # noqa: A006 - PyTorch's name
            "clamp_max": lambda self, max: self.clamp(max=max)}  # noqa: A006
