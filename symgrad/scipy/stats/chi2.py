"""The chi-squared distribution (``scipy.stats.chi2``): a gamma of shape ``df / 2``, scale 2."""
import symgrad.core.ops as ops
from symgrad.scipy.faces import scipy_face
from symgrad.scipy.stats.support import scipy_rest
from symgrad.scipy.stats.gamma import cdf as gamma_cdf
from symgrad.scipy.stats.gamma import logpdf as gamma_logpdf


@scipy_face("scipy.stats", "chi2.logpdf")
def logpdf(x, df, loc=0.0, scale=1.0):
    return gamma_logpdf(x, df / 2, loc, 2 * scale)


@scipy_face("scipy.stats", "chi2.pdf")
def pdf(x, df, loc=0.0, scale=1.0):
    return ops.exp(logpdf(x, df, loc, scale))


@scipy_face("scipy.stats", "chi2.cdf")
def cdf(x, df, loc=0.0, scale=1.0):
    return gamma_cdf(x, df / 2, loc, 2 * scale)


__getattr__ = scipy_rest("chi2")
