"""``nn.Dropout``, ``Dropout1d``, ``Dropout2d``: dropout in training mode, the identity in
eval mode (symgrad/nn/functional_dropout.py).

>>> import symgrad as torch
>>> from symgrad import nn
>>> layer = nn.Dropout(p=0.2)
>>> layer
Dropout(p=0.2, inplace=False)
>>> x = torch.ones(4)
>>> layer.eval()(x) is x
True
"""
import symgrad.nn.functional_dropout as F
from symgrad.nn.module import Module


class Dropout(Module):
    """Zero each element with probability ``p`` in training, scale the rest by 1/(1-p)."""

    function = staticmethod(F.dropout)

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        F._check_p(p)
        self.p, self.inplace = p, inplace

    def forward(self, input):
        return self.function(input, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout1d(Dropout):
    """Zero whole channels of (N, C, L) or (C, L) input."""
    function = staticmethod(F.dropout1d)


class Dropout2d(Dropout):
    """Zero whole channels of (N, C, H, W) or (C, H, W) input."""
    function = staticmethod(F.dropout2d)
