"""``nn.Embedding``: a lookup table of ``num_embeddings`` vectors of size ``embedding_dim``.

>>> import symgrad as torch
>>> from symgrad import nn
>>> _ = torch.manual_seed(0)
>>> emb = nn.Embedding(10, 3, padding_idx=0)
>>> emb
Embedding(10, 3, padding_idx=0)
>>> emb(torch.tensor([[0, 4], [9, 1]])).shape
torch.Size([2, 2, 3])
"""
import numpy as np

import symgrad.nn.functional_sparse as F
import symgrad.nn.init as init
from symgrad.eager.dtypes import default_float, to_numpy
from symgrad.eager.grad_mode import no_grad
from symgrad.nn.layers import _check_size
from symgrad.nn.module import Module
from symgrad.nn.parameter import Parameter


def _lookup_options(layer):
    """The repr's part for the options Embedding and EmbeddingBag share (non-defaults only)."""
    text = f", max_norm={layer.max_norm}" if layer.max_norm is not None else ""
    if layer.norm_type != 2:
        text += f", norm_type={layer.norm_type}"
    return text + (", scale_grad_by_freq=True" if layer.scale_grad_by_freq else "")


class Embedding(Module):
    """``weight[input]`` with ``weight`` (num_embeddings, embedding_dim) drawn from N(0, 1), as
    PyTorch initializes it; the row ``padding_idx`` starts at zero and gets no gradient.
    ``max_norm`` renormalizes the looked-up rows in place before each lookup."""

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None,
                 norm_type=2.0, scale_grad_by_freq=False, sparse=False, _weight=None,
                 _freeze=False, device=None, dtype=None):
        super().__init__()
        self.num_embeddings = _check_size(num_embeddings, "num_embeddings", "Embedding")
        self.embedding_dim = _check_size(embedding_dim, "embedding_dim", "Embedding")
        self.padding_idx = F.padding_index(padding_idx, self.num_embeddings)
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        if _weight is None:
            shape = (self.num_embeddings, self.embedding_dim)
            self.weight = Parameter(np.empty(shape, to_numpy(dtype) or default_float()),
                                    requires_grad=not _freeze)
            self.reset_parameters()
        else:
            if tuple(_weight.shape) != (self.num_embeddings, self.embedding_dim):
                raise AssertionError("Shape of weight does not match num_embeddings and "
                                     "embedding_dim")
            self.weight = Parameter(_weight, requires_grad=not _freeze)

    def reset_parameters(self):
        init.normal_(self.weight)
        if self.padding_idx is not None:
            with no_grad():
                self.weight[self.padding_idx].fill_(0)

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None, max_norm=None,
                        norm_type=2.0, scale_grad_by_freq=False, sparse=False):
        """An Embedding holding ``embeddings`` (a 2-D Tensor), frozen unless ``freeze=False``."""
        if embeddings.dim() != 2:
            raise AssertionError("Embeddings parameter is expected to be 2-dimensional")
        rows, cols = embeddings.shape
        return cls(rows, cols, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse,
                   _weight=embeddings, _freeze=freeze)

    def forward(self, input):
        F.check_indices(input, self.num_embeddings, repr(self))
        return F.embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                           self.scale_grad_by_freq, self.sparse)

    def extra_repr(self):
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx}"
        text += _lookup_options(self)
        if self.sparse:
            text += ", sparse=True"
        return text


class EmbeddingBag(Module):
    """Sums, means (the default) or maxima of bags of embeddings, without the (indices, dim)
    intermediate an ``Embedding`` followed by a reduction would show: ``bag(input, offsets)``
    with a 1-D ``input`` whose bags start at ``offsets``, or a 2-D ``input`` of equal bags.
    ``weight`` starts N(0, 1), the ``padding_idx`` row zero.

    >>> import symgrad as torch
    >>> bag = torch.nn.EmbeddingBag(10, 3, mode="sum")
    >>> bag
    EmbeddingBag(10, 3, mode='sum')
    >>> bag(torch.tensor([1, 2, 4, 5, 4]), torch.tensor([0, 2])).shape
    torch.Size([2, 3])
    """

    def __init__(self, num_embeddings, embedding_dim, max_norm=None, norm_type=2.0,
                 scale_grad_by_freq=False, mode="mean", sparse=False, _weight=None,
                 include_last_offset=False, padding_idx=None, device=None, dtype=None):
        super().__init__()
        self.num_embeddings = _check_size(num_embeddings, "num_embeddings", "EmbeddingBag")
        self.embedding_dim = _check_size(embedding_dim, "embedding_dim", "EmbeddingBag")
        self.max_norm, self.norm_type, self.scale_grad_by_freq = max_norm, norm_type, \
            scale_grad_by_freq
        if mode not in F.BAG_MODES:
            raise ValueError("mode has to be one of sum, mean or max")
        self.mode, self.sparse, self.include_last_offset = mode, sparse, include_last_offset
        self.padding_idx = F.padding_index(padding_idx, self.num_embeddings)
        if _weight is None:
            shape = (self.num_embeddings, self.embedding_dim)
            self.weight = Parameter(np.empty(shape, to_numpy(dtype) or default_float()))
            Embedding.reset_parameters(self)
        else:
            if tuple(_weight.shape) != (self.num_embeddings, self.embedding_dim):
                raise AssertionError("Shape of weight does not match num_embeddings and "
                                     "embedding_dim")
            self.weight = Parameter(_weight)

    def reset_parameters(self):
        Embedding.reset_parameters(self)

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, max_norm=None, norm_type=2.0,
                        scale_grad_by_freq=False, mode="mean", sparse=False,
                        include_last_offset=False, padding_idx=None):
        """An EmbeddingBag holding ``embeddings`` (2-D), frozen unless ``freeze=False``."""
        if embeddings.dim() != 2:
            raise AssertionError("Embeddings parameter is expected to be 2-dimensional")
        rows, cols = embeddings.shape
        bag = cls(rows, cols, max_norm, norm_type, scale_grad_by_freq, mode, sparse,
                  _weight=embeddings, include_last_offset=include_last_offset,
                  padding_idx=padding_idx)
        bag.weight.requires_grad = not freeze
        return bag

    def forward(self, input, offsets=None, per_sample_weights=None):
        return F.embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type,
                               self.scale_grad_by_freq, self.mode, self.sparse,
                               per_sample_weights, self.include_last_offset, self.padding_idx)

    def extra_repr(self):
        text = f"{self.num_embeddings}, {self.embedding_dim}" + _lookup_options(self)
        text += f", mode='{self.mode}'"
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx}"
        return text
