"""``scipy.stats``' distributions on traced values, as ``autograd.scipy.stats``: one module
per distribution (``import symgrad.scipy.stats.norm as norm``), each function standing in
for the same method of scipy's distribution object while a trace runs
(``scipy.stats.norm.logpdf(traced, ...)``)."""
from symgrad.scipy.stats import (  # noqa: F401
    beta, chi2, dirichlet, gamma, multivariate_normal, norm, poisson, t)
