"""``nn.MultiheadAttention`` with PyTorch's parameters (``in_proj_weight`` stacking the
query, key and value projections, ``out_proj``), initialization, masks and outputs.

>>> import symgrad as torch
>>> from symgrad import nn
>>> _ = torch.manual_seed(0)
>>> attention = nn.MultiheadAttention(8, 2, batch_first=True)
>>> x = torch.randn(3, 5, 8)
>>> output, weights = attention(x, x, x)
>>> output.shape, weights.shape
(torch.Size([3, 5, 8]), torch.Size([3, 5, 5]))
"""
import numpy as np

from symgrad.nn.input_checks import expect_tensor
import symgrad.nn.init as init
from symgrad.eager.dtypes import default_float, to_numpy
from symgrad.eager.tensor import Tensor, apply
from symgrad.nn.functional import linear
from symgrad.nn.functional_dropout import dropout
from symgrad.nn.functional_attention import attention_weights
from symgrad.nn.layers import Linear
from symgrad.nn.module import Module
from symgrad.nn.parameter import Parameter


class NonDynamicallyQuantizableLinear(Linear):
    """``Linear`` under the name PyTorch gives ``MultiheadAttention.out_proj``."""


def _additive(mask, dtype):
    """A mask as scores to add: a boolean one -inf where True (masked out), a float one as is."""
    if not isinstance(mask, Tensor):
        mask = Tensor(np.asarray(mask))
    if mask.dtype.is_floating_point:
        return mask.to(dtype)
    zeros = Tensor(np.zeros(tuple(mask.shape), to_numpy(dtype)))
    return zeros.masked_fill(mask, float("-inf"))


class MultiheadAttention(Module):
    """Attention of ``num_heads`` heads of ``embed_dim // num_heads`` each (PyTorch's
    ``MultiheadAttention``; ``add_bias_kv`` and ``add_zero_attn`` are not supported yet)."""

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False,
                 add_zero_attn=False, kdim=None, vdim=None, batch_first=False, device=None,
                 dtype=None):
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"embed_dim and num_heads must be greater than 0, got "
                             f"embed_dim={embed_dim} and num_heads={num_heads} instead")
        if add_bias_kv or add_zero_attn:
            raise NotImplementedError("MultiheadAttention(add_bias_kv=True or add_zero_attn="
                                      "True) is not supported by symgrad yet")
        super().__init__()
        self.embed_dim, self.num_heads, self.dropout = embed_dim, num_heads, float(dropout)
        self.kdim = embed_dim if kdim is None else kdim
        self.vdim = embed_dim if vdim is None else vdim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.batch_first, self.head_dim = batch_first, embed_dim // num_heads
        if self.head_dim * num_heads != embed_dim:
            raise AssertionError("embed_dim must be divisible by num_heads")
        dtype = to_numpy(dtype) or default_float()
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(np.empty((3 * embed_dim, embed_dim), dtype))
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.q_proj_weight = Parameter(np.empty((embed_dim, embed_dim), dtype))
            self.k_proj_weight = Parameter(np.empty((embed_dim, self.kdim), dtype))
            self.v_proj_weight = Parameter(np.empty((embed_dim, self.vdim), dtype))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(np.empty(3 * embed_dim, dtype))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias,
                                                        dtype=dtype)
        self._reset_parameters()

    def _reset_parameters(self):
        """PyTorch's: projections xavier-uniform, their biases 0 (``out_proj.weight`` keeps
        Linear's initialization)."""
        for weight in (self.in_proj_weight, self.q_proj_weight, self.k_proj_weight,
                       self.v_proj_weight):
            if weight is not None:
                init.xavier_uniform_(weight)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)

    def _projections(self, query, key, value):
        e = self.embed_dim
        biases = [None] * 3 if self.in_proj_bias is None else \
            [self.in_proj_bias[i * e:(i + 1) * e] for i in range(3)]
        if self._qkv_same_embed_dim:
            weights = [self.in_proj_weight[i * e:(i + 1) * e] for i in range(3)]
        else:
            weights = [self.q_proj_weight, self.k_proj_weight, self.v_proj_weight]
        return [linear(x, w, b) for x, w, b in zip((query, key, value), weights, biases)]

    def _heads(self, x):
        """(N, T, E) -> (N, heads, T, head_dim)."""
        n, t, _ = x.shape
        return x.view(n, t, self.num_heads, self.head_dim).transpose(1, 2)

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True,
                attn_mask=None, average_attn_weights=True, is_causal=False):
        """``(attn_output, attn_output_weights)``; the weights averaged over the heads
        unless ``average_attn_weights=False``, None unless ``need_weights``."""
        batched = query.dim() == 3
        self._check_inputs(query, key, value, batched)
        if is_causal and attn_mask is None:
            raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use "
                               "the Transformer module method `generate_square_subsequent_mask`"
                               " to create this mask.")
        if not batched:
            query, key, value = (x.unsqueeze(0) for x in (query, key, value))
        elif not self.batch_first:
            query, key, value = (x.transpose(0, 1) for x in (query, key, value))
        mask = self._mask(key_padding_mask, attn_mask, query.shape[0], query.shape[1],
                          key.shape[1], batched, query.dtype)
        q, k, v = (self._heads(x) for x in self._projections(query, key, value))
        weights = apply("SoftmaxBackward0", attention_weights, q, k, mask,
                        scale=1.0 / float(np.sqrt(self.head_dim)), causal=False)
        if self.dropout and self.training:
            weights = dropout(weights, self.dropout, True)
        n, length = query.shape[:2]
        output = self.out_proj((weights @ v).transpose(1, 2).reshape(n, length, self.embed_dim))
        output = output.squeeze(0) if not batched else \
            output if self.batch_first else output.transpose(0, 1)
        if not need_weights:
            return output, None
        weights = weights.mean(1) if average_attn_weights else weights
        return output, weights if batched else weights.squeeze(0)

    def _check_inputs(self, query, key, value, batched):
        for name, x, width in (("query", query, self.embed_dim), ("key", key, self.kdim),
                               ("value", value, self.vdim)):
            expect_tensor(x, self._get_name(), name)
            if x.dim() != (3 if batched else 2):
                raise AssertionError(f"query should be unbatched 2D or batched 3D tensor but "
                                     f"received {query.dim()}-D query tensor" if name == "query"
                                     else f"For {'batched (3-D)' if batched else 'unbatched (2-D)'}"
                                     f" `query`, expected `{name}` to be {3 if batched else 2}-D"
                                     f" but found {x.dim()}-D tensor")
            if x.shape[-1] != width:
                raise AssertionError(f"was expecting embedding dimension of {width}, but got "
                                     f"{x.shape[-1]} ({name} of shape {tuple(x.shape)})")
        if key.shape != value.shape:
            raise AssertionError(f"key shape {key.shape} does not match value shape "
                                 f"{value.shape}")

    def _mask(self, key_padding_mask, attn_mask, batch, length, source, batched, dtype):
        """The key padding and attention masks as one additive mask, (N or 1, H or 1, L, S)."""
        total = None
        if key_padding_mask is not None:
            expected = (batch, source) if batched else (source,)
            if tuple(key_padding_mask.shape) != expected:
                raise AssertionError(f"expecting key_padding_mask shape of {expected}, but got "
                                     f"{key_padding_mask.shape}")
            total = _additive(key_padding_mask, dtype).view(batch, 1, 1, source)
        if attn_mask is not None:
            heads = self.num_heads
            shapes = {2: (length, source), 3: (batch * heads, length, source)}
            if attn_mask.dim() not in shapes or tuple(attn_mask.shape) != shapes[attn_mask.dim()]:
                raise RuntimeError(f"The shape of the {attn_mask.dim()}D attn_mask is "
                                   f"{attn_mask.shape}, but should be "
                                   f"{shapes.get(attn_mask.dim(), shapes[2])}.")
            added = _additive(attn_mask, dtype)
            added = added.view(1, 1, length, source) if attn_mask.dim() == 2 else \
                added.view(batch, heads, length, source)
            total = added if total is None else total + added
        return total

    def extra_repr(self):
        return ""
