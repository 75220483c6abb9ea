"""The beta distribution (``scipy.stats.beta``): ``logpdf`` and ``pdf`` in ``a``, ``b``,
``loc`` and ``scale``; ``-inf`` outside ``[loc, loc + scale]``."""
import symgrad.core.ops as ops
from symgrad.scipy.faces import scipy_face
from symgrad.scipy.stats.support import scipy_rest, standardized, within


@scipy_face("scipy.stats", "beta.logpdf")
def logpdf(x, a, b, loc=0.0, scale=1.0):
    z, inside = standardized(x, loc, scale, 0.0, 1.0)
    return within(inside, ops.xlogy(a - 1, z) + ops.xlog1py(b - 1, -z) - ops.betaln(a, b)
                  - ops.log(scale))


@scipy_face("scipy.stats", "beta.pdf")
def pdf(x, a, b, loc=0.0, scale=1.0):
    return ops.exp(logpdf(x, a, b, loc, scale))


__getattr__ = scipy_rest("beta")
