"""``nn.Transformer`` and its parts, ``TransformerEncoderLayer``, ``TransformerEncoder``,
``TransformerDecoderLayer``, ``TransformerDecoder``: PyTorch's submodules (names, order,
initialization), post- or pre-norm (``norm_first``), masks and ``batch_first``.

Built from ``MultiheadAttention``, ``Linear``, ``LayerNorm`` and ``Dropout``, so an eager step
records their nodes and sg.train compiles the same step. As in PyTorch, the encoder and decoder
deep-copy their layer ``num_layers`` times (the copies start equal).

>>> import symgrad as torch
>>> from symgrad import nn
>>> _ = torch.manual_seed(0)
>>> layer = nn.TransformerEncoderLayer(d_model=8, nhead=2, dim_feedforward=16)
>>> encoder = nn.TransformerEncoder(layer, num_layers=2)
>>> encoder(torch.randn(5, 3, 8)).shape
torch.Size([5, 3, 8])
>>> nn.Transformer.generate_square_subsequent_mask(3).tolist()
[[0.0, -inf, -inf], [0.0, 0.0, -inf], [0.0, 0.0, 0.0]]
"""
import copy

import numpy as np

import symgrad.nn.functional as F
import symgrad.nn.init as init
from symgrad.eager.dtypes import default_float, to_numpy
from symgrad.eager.tensor import Tensor
from symgrad.nn.attention import MultiheadAttention
from symgrad.nn.container import ModuleList
from symgrad.nn.dropout import Dropout
from symgrad.nn.input_checks import expect_tensor
from symgrad.nn.layers import Linear
from symgrad.nn.module import Module
from symgrad.nn.normalization import LayerNorm

ACTIVATIONS = {"relu": F.relu, "gelu": F.gelu}


def _activation(activation):
    if isinstance(activation, str):
        if activation not in ACTIVATIONS:
            raise RuntimeError(f"activation should be relu/gelu, not {activation}")
        return ACTIVATIONS[activation]
    return activation


def generate_square_subsequent_mask(sz, device=None, dtype=None):
    """A (sz, sz) float mask: -inf above the diagonal (a position attends to itself and the
    positions before it), 0 elsewhere."""
    dtype = to_numpy(dtype) or default_float()
    return Tensor(np.triu(np.full((sz, sz), -np.inf, dtype), k=1))


class _FeedForward(Module):
    """The parts every Transformer layer shares: the feed-forward block and its dropouts."""

    def _feed_forward_parts(self, d_model, dim_feedforward, dropout, bias, dtype):
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype)

    def _ff_block(self, x, dropout):
        return dropout(self.linear2(self.dropout(self.activation(self.linear1(x)))))

    def _attention_block(self, attention, dropout, x, memory, mask, key_padding_mask, is_causal):
        x = attention(x, memory, memory, attn_mask=mask, key_padding_mask=key_padding_mask,
                      need_weights=False, is_causal=bool(is_causal) and mask is not None)[0]
        return dropout(x)


class TransformerEncoderLayer(_FeedForward):
    """Self-attention and a feed-forward block, each with a residual connection and layer
    norm (after the sum, or before the block with ``norm_first=True``)."""

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation=F.relu,
                 layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True,
                 device=None, dtype=None):
        super().__init__()
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, dtype=dtype)
        self._feed_forward_parts(d_model, dim_feedforward, dropout, bias, dtype)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.dropout1, self.dropout2 = Dropout(dropout), Dropout(dropout)
        self.activation = _activation(activation)

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        expect_tensor(src, "TransformerEncoderLayer", "src")
        x = src
        if self.norm_first:
            y = self.norm1(x)
            x = x + self._attention_block(self.self_attn, self.dropout1, y, y, src_mask,
                                          src_key_padding_mask, is_causal)
            return x + self._ff_block(self.norm2(x), self.dropout2)
        x = self.norm1(x + self._attention_block(self.self_attn, self.dropout1, x, x, src_mask,
                                                 src_key_padding_mask, is_causal))
        return self.norm2(x + self._ff_block(x, self.dropout2))


class TransformerDecoderLayer(_FeedForward):
    """Self-attention, attention over the encoder's output (``memory``) and a feed-forward
    block, each with a residual connection and layer norm."""

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation=F.relu,
                 layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True,
                 device=None, dtype=None):
        super().__init__()
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, dtype=dtype)
        self.multihead_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                                 batch_first=batch_first, dtype=dtype)
        self._feed_forward_parts(d_model, dim_feedforward, dropout, bias, dtype)
        self.norm_first = norm_first
        self.norm1, self.norm2, self.norm3 = (
            LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype) for _ in range(3))
        self.dropout1, self.dropout2, self.dropout3 = (Dropout(dropout) for _ in range(3))
        self.activation = _activation(activation)

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False):
        expect_tensor(tgt, "TransformerDecoderLayer", "tgt")
        expect_tensor(memory, "TransformerDecoderLayer", "memory")
        x = tgt
        blocks = ((self.self_attn, self.dropout1, None, tgt_mask, tgt_key_padding_mask,
                   tgt_is_causal, self.norm1),
                  (self.multihead_attn, self.dropout2, memory, memory_mask,
                   memory_key_padding_mask, memory_is_causal, self.norm2))
        for attention, dropout, source, mask, padding, causal, norm in blocks:
            if self.norm_first:
                y = norm(x)
                x = x + self._attention_block(attention, dropout, y,
                                              y if source is None else source, mask, padding,
                                              causal)
            else:
                x = norm(x + self._attention_block(attention, dropout, x,
                                                   x if source is None else source, mask,
                                                   padding, causal))
        if self.norm_first:
            return x + self._ff_block(self.norm3(x), self.dropout3)
        return self.norm3(x + self._ff_block(x, self.dropout3))


def _clones(layer, count):
    return ModuleList([copy.deepcopy(layer) for _ in range(count)])


class TransformerEncoder(Module):
    """``num_layers`` copies of ``encoder_layer`` applied in turn, then ``norm`` (if given)."""

    def __init__(self, encoder_layer, num_layers, norm=None, enable_nested_tensor=True,
                 mask_check=True):
        super().__init__()
        self.layers = _clones(encoder_layer, num_layers)
        self.num_layers, self.norm = num_layers, norm

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=None):
        output = src
        for layer in self.layers:
            output = layer(output, src_mask=mask, src_key_padding_mask=src_key_padding_mask,
                           is_causal=bool(is_causal))
        return output if self.norm is None else self.norm(output)


class TransformerDecoder(Module):
    """``num_layers`` copies of ``decoder_layer`` applied in turn, then ``norm`` (if given)."""

    def __init__(self, decoder_layer, num_layers, norm=None):
        super().__init__()
        self.layers = _clones(decoder_layer, num_layers)
        self.num_layers, self.norm = num_layers, norm

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal=False):
        output = tgt
        for layer in self.layers:
            output = layer(output, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                           tgt_key_padding_mask=tgt_key_padding_mask,
                           memory_key_padding_mask=memory_key_padding_mask,
                           tgt_is_causal=bool(tgt_is_causal), memory_is_causal=memory_is_causal)
        return output if self.norm is None else self.norm(output)


class Transformer(Module):
    """An encoder-decoder Transformer ("Attention Is All You Need"): PyTorch's
    ``nn.Transformer``, its matrices xavier-uniform initialized."""

    def __init__(self, d_model=512, nhead=8, num_encoder_layers=6, num_decoder_layers=6,
                 dim_feedforward=2048, dropout=0.1, activation=F.relu, custom_encoder=None,
                 custom_decoder=None, layer_norm_eps=1e-5, batch_first=False, norm_first=False,
                 bias=True, device=None, dtype=None):
        super().__init__()
        options = dict(dim_feedforward=dim_feedforward, dropout=dropout, activation=activation,
                       layer_norm_eps=layer_norm_eps, batch_first=batch_first,
                       norm_first=norm_first, bias=bias, dtype=dtype)
        self.encoder = custom_encoder if custom_encoder is not None else TransformerEncoder(
            TransformerEncoderLayer(d_model, nhead, **options), num_encoder_layers,
            LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype))
        self.decoder = custom_decoder if custom_decoder is not None else TransformerDecoder(
            TransformerDecoderLayer(d_model, nhead, **options), num_decoder_layers,
            LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype))
        self._reset_parameters()
        self.d_model, self.nhead, self.batch_first = d_model, nhead, batch_first

    def _reset_parameters(self):
        for parameter in self.parameters():
            if parameter.dim() > 1:
                init.xavier_uniform_(parameter)

    generate_square_subsequent_mask = staticmethod(generate_square_subsequent_mask)

    def forward(self, src, tgt, src_mask=None, tgt_mask=None, memory_mask=None,
                src_key_padding_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, src_is_causal=None, tgt_is_causal=None,
                memory_is_causal=False):
        expect_tensor(src, "Transformer", "src")
        expect_tensor(tgt, "Transformer", "tgt")
        batch_dim = 0 if self.batch_first else 1
        if src.dim() == 3 and src.shape[batch_dim] != tgt.shape[batch_dim] or \
                src.dim() != tgt.dim():
            raise RuntimeError("the batch number of src and tgt must be equal")
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise RuntimeError("the feature number of src and tgt must be equal to d_model")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask,
                              is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask,
                            tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)
