"""The Poisson distribution (``scipy.stats.poisson``): ``logpmf`` and ``pmf``, differentiable
in the rate ``mu``."""
import symgrad.core.ops as ops
from symgrad.scipy.faces import scipy_face


@scipy_face("scipy.stats", "poisson.logpmf")
def logpmf(k, mu, loc=0):
    k = k - loc
    return ops.xlogy(k, mu) - ops.gammaln(k + 1) - mu


@scipy_face("scipy.stats", "poisson.pmf")
def pmf(k, mu, loc=0):
    return ops.exp(logpmf(k, mu, loc))
