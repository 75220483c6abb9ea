"""The normal distribution (``scipy.stats.norm``): ``logpdf``, ``pdf``, ``cdf``, ``logcdf``,
``sf``, ``logsf`` on traced values, ``loc`` and ``scale`` broadcast as in scipy.

>>> import symgrad as sg, symgrad.scipy.stats.norm as norm
>>> float(sg.grad(norm.cdf)(0.0)) == float(norm.pdf(0.0))
True
"""
import math

import symgrad.core.ops as ops
from symgrad.scipy.faces import scipy_face
from symgrad.scipy.stats.support import scipy_rest

HALF_LOG_TWO_PI = 0.5 * math.log(2 * math.pi)
ROOT_HALF = math.sqrt(0.5)
# below this, erfc underflows: log Phi(z) comes from its asymptotic series instead
ASYMPTOTIC_BELOW = -20.0


def face(method):
    return scipy_face("scipy.stats", f"norm.{method}")


def _standard(x, loc, scale):
    return (x - loc) / scale


@face("logpdf")
def logpdf(x, loc=0.0, scale=1.0):
    z = _standard(x, loc, scale)
    return -0.5 * z * z - ops.log(scale) - HALF_LOG_TWO_PI


@face("pdf")
def pdf(x, loc=0.0, scale=1.0):
    return ops.exp(logpdf(x, loc, scale))


def ndtr(z):
    """The standard normal's cdf, ``erfc(-z / sqrt 2) / 2`` (accurate in both tails)."""
    return 0.5 * ops.erfc(-z * ROOT_HALF)


def log_ndtr(z):
    """``log(ndtr(z))``, finite far into the lower tail: there it is
    ``-z^2/2 - log(-z) - log(2 pi)/2 + log(1 - 1/z^2 + 3/z^4 - 15/z^6 ...)``."""
    tail = z < ASYMPTOTIC_BELOW
    far = ops.where(tail, z, ASYMPTOTIC_BELOW)
    near = ops.where(tail, 0.0, z)
    inverse_square = 1 / (far * far)
    series, term = 0.0, 1.0
    for k in range(1, 7):
        term = -term * (2 * k - 1) * inverse_square
        series = series + term
    asymptotic = -0.5 * far * far - ops.log(-far) - HALF_LOG_TWO_PI + ops.log1p(series)
    return ops.where(tail, asymptotic, ops.log(ndtr(near)))


@face("cdf")
def cdf(x, loc=0.0, scale=1.0):
    return ndtr(_standard(x, loc, scale))


@face("logcdf")
def logcdf(x, loc=0.0, scale=1.0):
    return log_ndtr(_standard(x, loc, scale))


@face("sf")
def sf(x, loc=0.0, scale=1.0):
    return ndtr(-_standard(x, loc, scale))


@face("logsf")
def logsf(x, loc=0.0, scale=1.0):
    return log_ndtr(-_standard(x, loc, scale))


__getattr__ = scipy_rest("norm")
