"""``F.scaled_dot_product_attention`` (PyTorch's math: ``softmax(q k^T * scale + mask) v``).

The attention weights are one recorded tape node (scores, causal and given masks, softmax),
so an eager step records a few nodes per attention and its backward is derived by
:mod:`symgrad.core.reverse_mode` from the ops inside.

>>> import symgrad as torch
>>> from symgrad.nn import functional as F
>>> q = k = v = torch.ones(1, 2, 3, 4)
>>> F.scaled_dot_product_attention(q, k, v, is_causal=True).shape
torch.Size([1, 2, 3, 4])
"""
import math

import numpy as np

import symgrad.core.ops as ops
from symgrad.eager.conversion import cast
from symgrad.eager.softmax import softmax_of
from symgrad.eager.tensor import Tensor, apply
from symgrad.nn.functional_dropout import dropout


# -- module-level functions the tape replays (their identity is part of the cache key) -------
def attention_weights(q, k, mask=None, *, scale, causal):
    """``softmax(q k^T * scale)`` over the keys; ``causal`` keeps key ``j <= i`` for query
    ``i``; a boolean ``mask`` keeps where True, a float one is added to the scores."""
    scores = ops.multiply(ops.matmul(q, ops.swapaxes(k, -1, -2)), scale)
    if causal:
        scores = ops.where(np.tril(np.ones(scores.shape[-2:], bool)), scores, -np.inf)
    if mask is not None:
        scores = (ops.where(mask, scores, -np.inf) if np.dtype(mask.dtype) == np.bool_
                  else ops.add(scores, mask))
    return softmax_of(scores, -1)


def attention(q, k, v, mask=None, *, scale, causal):
    return ops.matmul(attention_weights(q, k, mask, scale=scale, causal=causal), v)


def _check_operands(query, key, value, attn_mask):
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor):
            raise TypeError(f"scaled_dot_product_attention(): argument '{name}' must be a "
                            f"symgrad Tensor, got {type(t).__name__}")
        if t.dim() < 2:
            raise RuntimeError(f"scaled_dot_product_attention(): {name} must have at least 2 "
                               f"dimensions, got shape {tuple(t.shape)}")
    if not query.dtype == key.dtype == value.dtype:
        raise RuntimeError(f"Expected query, key, and value to have the same dtype, but got "
                           f"query.dtype: {query.dtype} key.dtype: {key.dtype} and "
                           f"value.dtype: {value.dtype} instead.")
    shapes = f"query {tuple(query.shape)}, key {tuple(key.shape)}, value {tuple(value.shape)}"
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise RuntimeError(f"scaled_dot_product_attention(): query and key need the same last "
                           f"dimension and key and value the same length, got {shapes}")
    scores = np.broadcast_shapes(tuple(query.shape[:-2]), tuple(key.shape[:-2])) + \
        (query.shape[-2], key.shape[-2])
    if attn_mask is not None:
        try:
            np.broadcast_shapes(tuple(attn_mask.shape), scores)
        except ValueError:
            raise RuntimeError(f"scaled_dot_product_attention(): attn_mask of shape "
                               f"{tuple(attn_mask.shape)} cannot be broadcast to the attention "
                               f"scores' shape {scores} ({shapes})") from None


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, enable_gqa=False):
    """``softmax(query key^T * scale + mask) value``, scale ``1 / sqrt(E)`` by default.
    A boolean ``attn_mask`` marks the keys that may be attended (True), a float one is
    added; ``is_causal`` masks the keys after each query. Dropout (``dropout_p``) applies to
    the attention weights, as in PyTorch regardless of the module's mode."""
    _check_operands(query, key, value, attn_mask)
    if is_causal and attn_mask is not None:
        raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be "
                           "set when is_causal=True")
    if enable_gqa:
        raise NotImplementedError("scaled_dot_product_attention(enable_gqa=True) is not "
                                  "supported by symgrad yet")
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else float(scale)
    if attn_mask is not None and not isinstance(attn_mask, Tensor):
        attn_mask = Tensor(np.asarray(attn_mask))
    if attn_mask is not None and attn_mask.dtype.is_floating_point:
        attn_mask = cast(attn_mask, query.dtype)
    static = dict(scale=scale, causal=bool(is_causal))
    if not dropout_p:
        return apply("ScaledDotProductAttentionBackward0", attention, query, key, value,
                     attn_mask, **static)
    weights = apply("ScaledDotProductAttentionBackward0", attention_weights, query, key,
                    attn_mask, **static)
    return dropout(weights, dropout_p, True) @ value
