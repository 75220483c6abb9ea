"""Padding modules around ``F.pad`` with PyTorch's names, arguments and reprs:
``ZeroPad1d/2d/3d``, ``ConstantPad1d/2d/3d``, ``ReflectionPad1d/2d/3d``,
``ReplicationPad1d/2d/3d``, ``CircularPad1d/2d/3d``.

>>> import symgrad as torch
>>> from symgrad import nn
>>> nn.ZeroPad2d((1, 1, 2, 0))
ZeroPad2d((1, 1, 2, 0))
>>> nn.ReflectionPad1d(2)(torch.tensor([[[0.0, 1.0, 2.0]]])).tolist()
[[[2.0, 1.0, 0.0, 1.0, 2.0, 1.0, 0.0]]]
"""
import numpy as np

from symgrad.nn.functional_padding import pad
from symgrad.nn.module import Module


def _widths(padding, dims, owner):
    """An int (the same on every side) or 2 * dims ints, as PyTorch's _ntuple takes them."""
    if isinstance(padding, (int, np.integer)) and not isinstance(padding, bool):
        return (int(padding),) * (2 * dims)
    padding = tuple(padding)
    if len(padding) != 2 * dims:
        raise ValueError(f"{owner}: padding must be an int or a {2 * dims}-tuple, got "
                         f"{padding!r}")
    return padding


class _Pad(Module):
    """Base: ``dims`` padded dimensions, ``mode`` of F.pad."""

    dims, mode = 1, "constant"

    def __init__(self, padding):
        super().__init__()
        self.padding = _widths(padding, self.dims, type(self).__name__)

    def forward(self, input):
        return pad(input, self.padding, self.mode)

    def extra_repr(self):
        return f"{self.padding}"


class _ConstantPad(_Pad):
    def __init__(self, padding, value):
        super().__init__(padding)
        self.value = value

    def forward(self, input):
        return pad(input, self.padding, "constant", self.value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class _ZeroPad(_ConstantPad):
    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


def _family(base, name, mode=None):
    """The 1-, 2- and 3-d classes of one padding kind."""
    return [type(f"{name}{d}d", (base,), {"dims": d, "mode": mode or base.mode,
                                          "__module__": __name__,
                                          "__doc__": f"{name} of the last {d} dimension"
                                                     f"{'s' if d > 1 else ''}."})
            for d in (1, 2, 3)]


ZeroPad1d, ZeroPad2d, ZeroPad3d = _family(_ZeroPad, "ZeroPad")
ConstantPad1d, ConstantPad2d, ConstantPad3d = _family(_ConstantPad, "ConstantPad")
ReflectionPad1d, ReflectionPad2d, ReflectionPad3d = _family(_Pad, "ReflectionPad", "reflect")
ReplicationPad1d, ReplicationPad2d, ReplicationPad3d = _family(_Pad, "ReplicationPad",
                                                               "replicate")
CircularPad1d, CircularPad2d, CircularPad3d = _family(_Pad, "CircularPad", "circular")
