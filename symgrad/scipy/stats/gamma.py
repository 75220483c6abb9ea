"""The gamma distribution (``scipy.stats.gamma``): ``logpdf``, ``pdf`` and ``cdf`` in the shape ``a``,
``loc`` and ``scale``; ``-inf`` (a density of 0) below ``loc``."""
import symgrad.core.ops as ops
from symgrad.scipy.faces import scipy_face
from symgrad.scipy.stats.support import scipy_rest, standardized, within


@scipy_face("scipy.stats", "gamma.logpdf")
def logpdf(x, a, loc=0.0, scale=1.0):
    z, inside = standardized(x, loc, scale)
    return within(inside, ops.xlogy(a - 1, z) - z - ops.gammaln(a) - ops.log(scale))


@scipy_face("scipy.stats", "gamma.pdf")
def pdf(x, a, loc=0.0, scale=1.0):
    return ops.exp(logpdf(x, a, loc, scale))


@scipy_face("scipy.stats", "gamma.cdf")
def cdf(x, a, loc=0.0, scale=1.0):
    """P(a, z) of the standardized ``z``, 0 below ``loc``; differentiable in ``x``, ``loc``
    and ``scale`` (not in the shape ``a``, as in autograd)."""
    z = (x - loc) / scale
    return ops.gammainc(a, ops.where(z > 0, z, 0.0))


__getattr__ = scipy_rest("gamma")
