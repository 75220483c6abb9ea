"""``F.embedding``: rows of a weight table picked by integer indices (PyTorch's semantics:
the gradient of a repeated index accumulates; ``padding_idx``'s row gets no gradient;
``max_norm`` renormalizes the rows it looks up, in place).

>>> import symgrad as torch
>>> from symgrad.nn import functional as F
>>> table = torch.tensor([[0.0, 0.0], [1.0, 2.0], [3.0, 4.0]])
>>> F.embedding(torch.tensor([[2, 1]]), table).tolist()
[[[3.0, 4.0], [1.0, 2.0]]]
"""
import numpy as np

import symgrad.core.ops as ops
from symgrad.core.ops.custom import stop_gradient
from symgrad.eager.grad_mode import no_grad
from symgrad.eager.tensor import Tensor, apply


def _embedding(weight, indices, padding_idx):
    rows = ops.take(weight, indices, 0)
    if padding_idx is None:
        return rows
    padded = ops.expand_dims(ops.equal(indices, padding_idx), -1)
    return ops.where(padded, stop_gradient(rows), rows)


def check_indices(input, num_embeddings, who):
    """Integer indices in ``[0, num_embeddings)`` (PyTorch's messages; ``who`` names the
    layer or function). Traced indices are checked where the compiled code reads them."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{who}: argument 'input' must be a symgrad Tensor of indices, got "
                        f"{type(input).__name__}")
    if np.dtype(input.dtype).kind not in "iu":
        raise RuntimeError(f"Expected tensor for argument #1 'indices' to have one of the "
                           f"following scalar types: Long, Int; but got {input.dtype} instead "
                           f"(while checking arguments for embedding in {who})")
    values = input._value
    if isinstance(values, np.ndarray) and values.size:
        bad = (values < 0) | (values >= num_embeddings)
        if bad.any():
            raise IndexError(f"index out of range in self: {who} got index "
                             f"{int(values[bad].flat[0])}, its table has {num_embeddings} "
                             f"rows (indices 0 to {num_embeddings - 1})")


def padding_index(padding_idx, num_embeddings):
    """``padding_idx`` as a row number (negative ones count from the end), or None."""
    if padding_idx is None:
        return None
    if not -num_embeddings <= padding_idx < num_embeddings:
        raise AssertionError("Padding_idx must be within num_embeddings")
    return int(padding_idx) % num_embeddings


def renormalize_rows(weight, indices, max_norm, norm_type):
    """Scale the looked-up rows of ``weight`` whose ``norm_type``-norm exceeds ``max_norm``
    down to it, in place and without gradient (``torch.embedding_renorm_``). Written without
    an indexed assignment, so it traces inside sg.train (with repeated indices too)."""
    with no_grad():
        table = weight._value
        norms = ops.power(ops.sum(ops.power(ops.absolute(table), norm_type), 1, keepdims=True),
                          1.0 / norm_type)
        scale = ops.where(ops.greater(norms, max_norm), max_norm / (norms + 1e-7), 1.0)
        rows = np.arange(table.shape[0]).reshape(1, -1)
        looked_up = ops.any(ops.equal(ops.reshape(indices._value, (-1, 1)), rows), axis=0)
        kept = ops.where(ops.expand_dims(looked_up, 1), ops.astype(scale, table.dtype), 1.0)
        weight.copy_(ops.multiply(table, kept))


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """``weight[input]``: one row of ``weight`` (num_embeddings, embedding_dim) per index."""
    if scale_grad_by_freq or sparse:
        raise NotImplementedError("embedding: scale_grad_by_freq and sparse gradients are not "
                                  "supported by symgrad")
    if weight.dim() != 2:
        raise RuntimeError(f"'weight' must be 2-D, got {weight.dim()}-D")
    check_indices(input, weight.shape[0], "embedding()")
    padding_idx = padding_index(padding_idx, weight.shape[0])
    if max_norm is not None:
        renormalize_rows(weight, input, float(max_norm), float(norm_type))
    return apply("EmbeddingBackward0", _embedding, weight, input, padding_idx=padding_idx)


def one_hot_of(indices, num_classes):
    return ops.astype(ops.equal(ops.expand_dims(indices, -1), np.arange(num_classes)), np.int64)


def one_hot(tensor, num_classes=-1):
    """(*,) int64 class indices -> (*, num_classes) int64 rows of zeros with a 1 at each
    index; ``num_classes=-1`` takes the largest index + 1 (not inside a compiled step)."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"one_hot(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(tensor).__name__}")
    if np.dtype(tensor.dtype) != np.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    values = tensor._value
    concrete = isinstance(values, np.ndarray)
    if num_classes == -1:
        if not concrete:
            raise RuntimeError("one_hot: num_classes=-1 needs the values of the indices, which "
                               "are not known inside a compiled step; pass num_classes")
        if values.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(values.max()) + 1
    if concrete and values.size:
        if values.min() < 0:
            raise RuntimeError("Class values must be non-negative.")
        if values.max() >= num_classes:
            raise RuntimeError("Class values must be smaller than num_classes.")
    return apply("OneHotBackward0", one_hot_of, tensor, num_classes=int(num_classes))


BAG_MODES = ("sum", "mean", "max")


def embedding_bag_of(weight, indices, offsets, per_sample_weights, mode, padding_idx,
                     include_last_offset):
    """(bags, dim): the rows of each bag reduced, as a product with a (bags, indices)
    membership matrix (sum, mean) or a masked max; written with ops, so traced offsets work."""
    starts = offsets[:-1] if include_last_offset else offsets
    positions = np.arange(indices.shape[0])
    bag_of = ops.subtract(ops.sum(ops.greater_equal(positions, ops.expand_dims(starts, 1)), 0), 1)
    members = ops.equal(ops.expand_dims(bag_of, 0), np.arange(starts.shape[0]).reshape(-1, 1))
    if include_last_offset:
        members = ops.logical_and(members, ops.less(positions, offsets[-1]))
    if padding_idx is not None:
        members = ops.logical_and(members, ops.not_equal(indices, padding_idx))
    rows = ops.take(weight, indices, 0)
    if mode == "max":
        masked = ops.where(ops.expand_dims(members, -1), rows, -np.inf)
        filled = ops.any(members, 1, keepdims=True)
        return ops.where(filled, ops.amax(masked, 1), 0.0)
    share = ops.astype(members, weight.dtype)
    if mode == "mean":
        share = ops.true_divide(share, ops.maximum(ops.sum(share, 1, keepdims=True), 1.0))
    if per_sample_weights is not None:
        share = ops.multiply(share, per_sample_weights)
    return ops.matmul(share, rows)


def _bag_inputs(input, offsets, include_last_offset):
    """1-D indices, 1-D offsets and whether they end with the last bag's end (a 2-D input is
    bags of its rows), checked as PyTorch does."""
    if input.dim() == 2:
        if offsets is not None:
            raise ValueError(f"if input is 2D, then offsets has to be None, as input is treated "
                             f"is a mini-batch of fixed length sequences. However, found offsets "
                             f"of type {type(offsets)}")
        bags, length = input.shape
        return input.reshape(-1), Tensor(np.arange(bags, dtype=np.int64) * length), False
    if input.dim() != 1:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension "
                         f"{input.dim()}")
    if offsets is None or not isinstance(offsets, Tensor) or offsets.dim() != 1:
        raise ValueError(f"offsets has to be a 1D Tensor but got "
                         f"{None if offsets is None else offsets.dim()}")
    values = offsets._value
    if isinstance(values, np.ndarray) and values.size:
        if values[0] != 0:
            raise RuntimeError(f"offsets[0] has to be 0, i.e., the first sequence in the "
                               f"mini-batch has to start from position 0. However, got "
                               f"{int(values[0])}")
        if values[-1] > input.shape[0]:
            raise RuntimeError(f"offsets[-1] can not be greater than input's length "
                               f"{input.shape[0]} but got offsets[-1] of {int(values[-1])}")
    return input, offsets, include_last_offset


def _check_bag_indices(indices, num_embeddings):
    values = indices._value
    if isinstance(values, np.ndarray) and values.size:
        bad = np.flatnonzero((values < 0) | (values >= num_embeddings))
        if bad.size:
            raise RuntimeError(f"Index {bad[0]} of input takes value {values[bad[0]]} which is "
                               f"not in the valid range [0, {num_embeddings})")


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False,
                  mode="mean", sparse=False, per_sample_weights=None, include_last_offset=False,
                  padding_idx=None):
    """Sums, means or maxima of bags of ``weight``'s rows: the bags are the rows of a 2-D
    ``input``, or the runs of a 1-D ``input`` that start at ``offsets``; empty bags are zeros,
    ``padding_idx`` entries are left out of their bag.

    >>> import symgrad as torch
    >>> from symgrad.nn import functional as F
    >>> table = torch.tensor([[1.0], [2.0], [4.0]])
    >>> F.embedding_bag(torch.tensor([0, 1, 2]), table, torch.tensor([0, 2]), mode="sum").tolist()
    [[3.0], [4.0]]
    """
    if mode not in BAG_MODES:
        raise ValueError("mode has to be one of sum, mean or max")
    if scale_grad_by_freq or sparse:
        raise NotImplementedError("embedding_bag: scale_grad_by_freq and sparse gradients are "
                                  "not supported by symgrad")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(f"embedding_bag: per_sample_weights was not None. "
                                  f"per_sample_weights is only supported for mode='sum' (got "
                                  f"mode='{mode}'). Please open a feature request on GitHub.")
    if per_sample_weights is not None and tuple(per_sample_weights.shape) != tuple(input.shape):
        raise ValueError(f"embedding_bag: If per_sample_weights ({list(per_sample_weights.shape)})"
                         f" is not None, then it must have the same shape as the input "
                         f"({list(input.shape)})")
    if not isinstance(input, Tensor) or np.dtype(input.dtype).kind not in "iu":
        raise RuntimeError(f"Expected tensor for argument #1 'indices' to have one of the "
                           f"following scalar types: Long, Int; but got "
                           f"{getattr(input, 'dtype', type(input).__name__)} instead (while "
                           f"checking arguments for embedding_bag)")
    indices, offsets, include_last_offset = _bag_inputs(input, offsets, include_last_offset)
    _check_bag_indices(indices, weight.shape[0])
    if per_sample_weights is not None:
        per_sample_weights = per_sample_weights.reshape(-1)
    padding_idx = padding_index(padding_idx, weight.shape[0])
    if max_norm is not None:
        renormalize_rows(weight, indices, float(max_norm), float(norm_type))
    return apply("EmbeddingBagBackward0", embedding_bag_of, weight, indices, offsets,
                 per_sample_weights, mode=mode, padding_idx=padding_idx,
                 include_last_offset=bool(include_last_offset))
