"""``erf``, the Gaussian's error function (``scipy.special.erf``, ``torch.erf``): the exact
GELU's building block. The backends inline ``math.erf``.

>>> import numpy as np, symgrad as sg
>>> round(float(sg.grad(lambda x: erf(x))(0.0)), 6)       # 2 / sqrt(pi)
1.128379
"""
import math

import scipy.special

from symgrad.core.ops.common import apply
from symgrad.core.ops.elementwise import exp, float_rule, floating
from symgrad.core.ops.registry import Faces, declare, front

TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)

declare("erf", float_rule, scipy.special.erf,
        [lambda g, out, x: g * (TWO_OVER_SQRT_PI * exp(-(x * x)))], "math.erf({0})",
        family="elementwise")
erf = front(lambda x: apply("erf", [x], floating(x)),
            Faces(numpy=(scipy.special.erf,), tensor=("erf",), torch=("erf",),
                  grad_fn="ErfBackward0"))
