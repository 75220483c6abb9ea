"""``erf``, the Gaussian's error function (``torch.erf``, ``Tensor.erf``): the exact GELU's
building block. The backends inline ``math.erf``; the reference is scipy's ufunc, imported
only when it runs (importing symgrad does not import scipy).

>>> import numpy as np, symgrad as sg
>>> round(float(sg.grad(lambda x: erf(x))(0.0)), 6)       # 2 / sqrt(pi)
1.128379
"""
import math

from symgrad.core.ops.common import apply
from symgrad.core.ops.elementwise import exp, float_rule, floating
from symgrad.core.ops.registry import Faces, declare, front

TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)


def _erf_reference(x):
    import scipy.special
    return scipy.special.erf(x)


declare("erf", float_rule, _erf_reference,
        [lambda g, out, x: g * (TWO_OVER_SQRT_PI * exp(-(x * x)))], "math.erf({0})",
        family="elementwise")
erf = front(lambda x: apply("erf", [x], floating(x)),
            Faces(tensor=("erf",), torch=("erf",), grad_fn="ErfBackward0"))
