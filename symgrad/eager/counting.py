"""PyTorch's counting and lookup functions on concrete values (no gradient, as in PyTorch:
their results are counts, indices or masks): ``histc``, ``bincount``, ``unique``,
``unique_consecutive``, ``bucketize``, ``searchsorted``, ``isin``.

>>> import symgrad as torch
>>> torch.bincount(torch.tensor([0, 2, 2]))
tensor([1, 0, 2])
>>> torch.unique(torch.tensor([3, 1, 3]), return_counts=True)
(tensor([1, 3]), tensor([1, 2]))
"""
import numpy as np

from symgrad.eager.dims import normalize_dim
from symgrad.eager.dtypes import TYPE_NAMES, of_numpy
from symgrad.eager.tensor import Tensor, _value_of

def _array(value):
    return np.asarray(_value_of(value))


def _scalar_name(array):
    """PyTorch's name of the array's scalar type ('Long' for int64), as its messages say."""
    return TYPE_NAMES.get(of_numpy(array.dtype), array.dtype.name).removesuffix("Tensor")


def histc(input, bins=100, min=0, max=0):  # noqa: A002 - PyTorch's names
    """Counts of ``input`` in ``bins`` equal bins over [min, max] (the data's range when both
    are 0); values outside are ignored. Returns input's dtype."""
    values = _array(input)
    if values.dtype.kind != "f":
        raise NotImplementedError(f"\"histogram_cpu\" not implemented for "
                                  f"'{_scalar_name(values)}'")
    if bins <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for "
                           f"dimension 0")
    low, high = float(min), float(max)
    if low == high and values.size:
        low, high = float(values.min()), float(values.max())
    if low == high:
        low, high = low - 1, high + 1
    if low > high:
        raise RuntimeError("torch.histc: max must be larger than min")
    counts, _ = np.histogram(values, bins=int(bins), range=(low, high))
    return Tensor(counts.astype(values.dtype))


def bincount(input, weights=None, minlength=0):  # noqa: A002
    """How often each non-negative integer occurs in the 1-D ``input`` (summing ``weights``
    instead when given)."""
    values = _array(input)
    if values.dtype.kind == "f" or values.dtype.kind == "c":
        raise NotImplementedError(f"\"bincount_cpu\" not implemented for "
                                  f"'{_scalar_name(values)}'")
    if values.ndim != 1 or (values.size and values.min() < 0):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if weights is None:
        return Tensor(np.bincount(values, minlength=minlength).astype(np.int64))
    weight_values = _array(weights)
    if weight_values.ndim != 1 or weight_values.shape != values.shape:
        raise RuntimeError("weights should be 1-d and have the same length as input")
    dtype = weight_values.dtype if weight_values.dtype.kind == "f" else np.float64
    return Tensor(np.bincount(values, weight_values, minlength).astype(dtype))


def _with_extras(result, return_inverse, return_counts):
    values, inverse, counts = result
    extras = ([Tensor(inverse)] if return_inverse else []) + \
        ([Tensor(counts)] if return_counts else [])
    return (Tensor(values), *extras) if extras else Tensor(values)


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):  # noqa: A002
    """The distinct values of ``input`` (ascending), with the index of each element's value
    (``return_inverse``, input's shape) and each value's count (``return_counts``);
    ``dim``: distinct slices along that dimension."""
    values = _array(input)
    if dim is None:
        found, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
        return _with_extras((found, inverse.reshape(values.shape).astype(np.int64),
                             counts.astype(np.int64)), return_inverse, return_counts)
    axis = normalize_dim(dim, values.shape, "unique()")
    found, inverse, counts = np.unique(values, return_inverse=True, return_counts=True,
                                       axis=axis)
    return _with_extras((found, inverse.reshape(-1).astype(np.int64), counts.astype(np.int64)),
                        return_inverse, return_counts)


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):  # noqa: A002
    """The values of ``input`` with each run of equal consecutive values kept once."""
    values = _array(input)
    axis = 0 if dim is None else normalize_dim(dim, values.shape, "unique_consecutive()")
    flat = values.reshape(-1) if dim is None else np.moveaxis(values, axis, 0)
    changes = np.ones(len(flat), bool)
    if len(flat) > 1:
        different = flat[1:] != flat[:-1]
        changes[1:] = different.reshape(len(flat) - 1, -1).any(1)
    starts = np.flatnonzero(changes)
    kept = flat[starts] if dim is None else np.moveaxis(flat[starts], 0, axis)
    inverse = (np.cumsum(changes) - 1).astype(np.int64)
    if dim is None:
        inverse = inverse.reshape(values.shape)
    counts = np.diff(np.append(starts, len(flat))).astype(np.int64)
    return _with_extras((kept, inverse, counts), return_inverse, return_counts)


def _indices_dtype(out_int32):
    return np.int32 if out_int32 else np.int64


def bucketize(input, boundaries, *, out_int32=False, right=False):  # noqa: A002
    """The index of the bucket of ``boundaries`` (1-D, ascending) each value falls in."""
    edges = _array(boundaries)
    if edges.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({edges.ndim})")
    found = np.searchsorted(edges, _array(input), side="right" if right else "left")
    return Tensor(np.asarray(found, _indices_dtype(out_int32)))


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None,  # noqa: A002
                 sorter=None):
    """Where each of ``input`` would be inserted in ``sorted_sequence`` (the last dimension;
    leading dimensions must match ``input``'s) to keep it sorted."""
    sequence, values = _array(sorted_sequence), _array(input)
    if side is not None and right and side == "left":
        raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites, "
                           "got side of left while right was True")
    side = side or ("right" if right else "left")
    if sorter is not None:
        sequence = np.take_along_axis(sequence, _array(sorter), -1)
    dtype = _indices_dtype(out_int32)
    if sequence.ndim == 1:
        return Tensor(np.asarray(np.searchsorted(sequence, values, side=side), dtype))
    if sequence.shape[:-1] != values.shape[:-1]:
        raise RuntimeError(f"torch.searchsorted(): boundaries tensor should be 1 dimension or "
                           f"the first N-1 dimensions of boundaries tensor and input value "
                           f"tensor must match, but we got boundaries tensor "
                           f"{list(sequence.shape)} and input value tensor {list(values.shape)}")
    rows = sequence.reshape(-1, sequence.shape[-1])
    queries = values.reshape(len(rows), -1)
    found = np.stack([np.searchsorted(row, query, side=side)
                      for row, query in zip(rows, queries)])
    return Tensor(found.reshape(values.shape).astype(dtype))


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    """Whether each of ``elements`` is among ``test_elements`` (a bool Tensor)."""
    return Tensor(np.isin(_array(elements), _array(test_elements), invert=invert))


def counting_functions():
    return {"histc": histc, "bincount": bincount, "unique": unique,
            "unique_consecutive": unique_consecutive, "bucketize": bucketize,
            "searchsorted": searchsorted, "isin": isin}


def counting_methods():
    return {"histc": histc, "bincount": bincount, "unique": unique,
            "unique_consecutive": unique_consecutive}
