"""The Poisson distribution (``scipy.stats.poisson``): ``logpmf``, ``pmf`` and ``cdf``, differentiable
in the rate ``mu``."""
import symgrad.core.ops as ops
from symgrad.scipy.faces import scipy_face
from symgrad.scipy.stats.support import scipy_rest


@scipy_face("scipy.stats", "poisson.logpmf")
def logpmf(k, mu, loc=0):
    k = k - loc
    return ops.xlogy(k, mu) - ops.gammaln(k + 1) - mu


@scipy_face("scipy.stats", "poisson.pmf")
def pmf(k, mu, loc=0):
    return ops.exp(logpmf(k, mu, loc))


@scipy_face("scipy.stats", "poisson.cdf")
def cdf(k, mu, loc=0):
    """``Q(floor(k) + 1, mu)``, 0 below ``loc``: differentiable in the rate ``mu``."""
    k = ops.floor(k - loc)
    return ops.where(k < 0, 0.0, ops.gammaincc(ops.where(k < 0, 0.0, k) + 1, mu))


__getattr__ = scipy_rest("poisson")
