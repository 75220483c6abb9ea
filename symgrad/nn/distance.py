"""Modules of two inputs (PyTorch's names, defaults, initialization and reprs):
``CosineSimilarity``, ``PairwiseDistance``, ``Bilinear``.

>>> import symgrad as torch
>>> from symgrad import nn
>>> _ = torch.manual_seed(0)
>>> nn.Bilinear(4, 5, 2)
Bilinear(in1_features=4, in2_features=5, out_features=2, bias=True)
>>> nn.PairwiseDistance()(torch.zeros(1, 2), torch.tensor([[3.0, 4.0]])).tolist()
[4.999998569488525]
"""
import math

import numpy as np

import symgrad.nn.functional_distance as F
import symgrad.nn.init as init
from symgrad.eager.dtypes import default_float, to_numpy
from symgrad.nn.module import Module
from symgrad.nn.parameter import Parameter


class CosineSimilarity(Module):
    """Cosine similarity of two inputs along ``dim``."""

    def __init__(self, dim=1, eps=1e-8):
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1, x2):
        return F.cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(Module):
    """The ``p``-norm of ``x1 - x2 + eps`` along the last dimension."""

    def __init__(self, p=2.0, eps=1e-6, keepdim=False):
        super().__init__()
        self.norm, self.eps, self.keepdim = p, eps, keepdim

    def forward(self, x1, x2):
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)


class Bilinear(Module):
    """``y_k = x1^T W_k x2 + b_k``; weight (out_features, in1_features, in2_features) and
    bias drawn from U(-1/sqrt(in1_features), 1/sqrt(in1_features)) (PyTorch's)."""

    def __init__(self, in1_features, in2_features, out_features, bias=True, device=None,
                 dtype=None):
        super().__init__()
        self.in1_features, self.in2_features = in1_features, in2_features
        self.out_features = out_features
        dtype = to_numpy(dtype) or default_float()
        self.weight = Parameter(np.empty((out_features, in1_features, in2_features), dtype))
        if bias:
            self.bias = Parameter(np.empty(out_features, dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1 / math.sqrt(self.weight.shape[1])
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1, input2):
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self):
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")
