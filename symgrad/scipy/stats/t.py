"""Student's t distribution (``scipy.stats.t``): ``logpdf`` and ``pdf`` in ``df``, ``loc``
and ``scale``."""
import math

import symgrad.core.ops as ops
from symgrad.scipy.faces import scipy_face
from symgrad.scipy.stats.support import scipy_rest


@scipy_face("scipy.stats", "t.logpdf")
def logpdf(x, df, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return (ops.gammaln((df + 1) / 2) - ops.gammaln(df / 2) - 0.5 * ops.log(df * math.pi)
            - ops.log(scale) - (df + 1) / 2 * ops.log1p(z * z / df))


@scipy_face("scipy.stats", "t.pdf")
def pdf(x, df, loc=0.0, scale=1.0):
    return ops.exp(logpdf(x, df, loc, scale))


__getattr__ = scipy_rest("t")
