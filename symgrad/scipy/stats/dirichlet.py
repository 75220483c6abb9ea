"""The Dirichlet distribution (``scipy.stats.dirichlet``): ``logpdf`` and ``pdf`` of
quantiles ``x`` whose first axis holds the ``len(alpha)`` components, as scipy has them."""
import numpy as np

import symgrad.core.ops as ops
from symgrad.core.tracing import error_here
from symgrad.scipy.faces import scipy_face
from symgrad.scipy.stats.support import scipy_rest


@scipy_face("scipy.stats", "dirichlet.logpdf")
def logpdf(x, alpha):
    if np.ndim(alpha) != 1 or np.shape(x)[:1] != np.shape(alpha):
        raise error_here(f"dirichlet: alpha must be 1-D and x's first axis as long; got shapes "
                         f"{np.shape(alpha)} and {np.shape(x)}", ValueError)
    column = ops.reshape(alpha, np.shape(alpha) + (1,) * (np.ndim(x) - 1))
    log_normalizer = ops.sum(ops.gammaln(alpha)) - ops.gammaln(ops.sum(alpha))
    return ops.sum(ops.xlogy(column - 1, x), 0) - log_normalizer


@scipy_face("scipy.stats", "dirichlet.pdf")
def pdf(x, alpha):
    return ops.exp(logpdf(x, alpha))


__getattr__ = scipy_rest("dirichlet")
