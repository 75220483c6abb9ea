"""Tensor methods that select elements by index, with PyTorch's signatures and return types:
``argmax``/``argmin``, ``max``/``min`` along a dim (values and indices), ``sort``, ``topk``,
``gather`` and ``index_select``.

>>> import symgrad as torch
>>> scores = torch.tensor([[0.1, 0.7, 0.2], [0.5, 0.3, 0.9]])
>>> scores.argmax(1).tolist()
[1, 2]
>>> values, indices = torch.max(scores, 1)
>>> values.tolist(), indices.tolist()
([0.7, 0.9], [1, 2])

The values follow their indices (``take_along_axis``), so their gradient goes to the
selected element only, as in PyTorch.
"""
from collections import namedtuple

import numpy as np

import symgrad.core.ops as ops
from symgrad.eager.dims import normalize_dim
from symgrad.eager.tensor import Tensor, _value_of, apply

ValuesIndices = {name: namedtuple(name, ["values", "indices"])
                 for name in ("max", "min", "sort", "topk")}


# -- module-level functions the tape replays (their identity is part of the cache key) -------
def take_along(x, indices, axis):
    return ops.take_along_axis(x, indices, axis)


def take(x, indices, axis):
    return ops.take(x, indices, axis)


def _index_tensor(values):
    return Tensor(values if hasattr(values, "aval") else np.asarray(values, np.int64))


def _dim(self, dim, function):
    return normalize_dim(dim, self.shape, function)


def _arg_extremum(name):
    def method(self, dim=None, keepdim=False):
        value = _value_of(self)
        if dim is None:
            return _index_tensor(getattr(ops, name)(ops.ravel(value)))
        axis = _dim(self, dim, name)
        return _index_tensor(getattr(ops, name)(value, axis, keepdims=bool(keepdim)))
    method.__name__ = name
    return method


argmax, argmin = _arg_extremum("argmax"), _arg_extremum("argmin")


def _extremum(name, reduce_all, elementwise):
    """``x.max()``; ``x.max(dim, keepdim)`` -> (values, indices); ``x.max(other)``."""
    arg = _arg_extremum("arg" + name)

    def method(self, dim=None, keepdim=False):
        if isinstance(dim, (Tensor, np.ndarray)):
            return elementwise(self, dim)
        if dim is None:
            return reduce_all(self)
        indices = arg(self, dim, keepdim=True)
        values = apply(f"{name.capitalize()}Backward0", take_along, self, indices,
                       axis=_dim(self, dim, name))
        if not keepdim:
            values, indices = values.squeeze(dim), indices.squeeze(dim)
        return ValuesIndices[name](values, indices)
    method.__name__ = name
    return method


def sort(self, dim=-1, descending=False, stable=False):
    """``(values, indices)`` sorted along ``dim`` (stable)."""
    axis = _dim(self, dim, "sort")
    value = _value_of(self)
    order = ops.argsort(ops.negative(value) if descending else value, axis)
    indices = _index_tensor(order)
    return ValuesIndices["sort"](apply("SortBackward0", take_along, self, indices, axis=axis),
                                 indices)


def topk(self, k, dim=-1, largest=True, sorted=True):  # noqa: A002 - PyTorch's name
    """The ``k`` largest (or smallest) elements along ``dim`` and their indices."""
    axis = _dim(self, dim, "topk")
    if not 0 <= k <= self.shape[axis]:
        raise RuntimeError("selected index k out of range")
    values, indices = sort(self, axis, descending=largest)
    keep = (slice(None),) * axis + (slice(0, k),)
    return ValuesIndices["topk"](values[keep], indices[keep])


def gather(self, dim, index):
    """``torch.gather``: ``out[i][j] = self[index[i][j]][j]`` along ``dim``."""
    axis = _dim(self, dim, "gather")
    return apply("GatherBackward0", take_along, self, _index_tensor(_value_of(index)), axis=axis)


def index_select(self, dim, index):
    """``torch.index_select``: the slices of ``self`` at the 1-D ``index`` along ``dim``."""
    axis = _dim(self, dim, "index_select")
    return apply("IndexSelectBackward0", take, self, _index_tensor(_value_of(index)), axis=axis)


def selection_methods(reduce_max, reduce_min):
    """The methods, given the whole-tensor reductions ``max()``/``min()`` of the door."""
    return {"argmax": argmax, "argmin": argmin,
            "max": _extremum("max", reduce_max, lambda a, b: a.maximum(b)),
            "min": _extremum("min", reduce_min, lambda a, b: a.minimum(b)),
            "sort": sort, "topk": topk, "gather": gather, "index_select": index_select}
