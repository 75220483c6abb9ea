"""The multivariate normal (``scipy.stats.multivariate_normal``): ``logpdf``, ``pdf`` and
``entropy``, the vectors along ``x``'s last axis, a covariance matrix (or a scalar or the
diagonal, as scipy takes them).

>>> import numpy as np, symgrad as sg, symgrad.scipy.stats.multivariate_normal as mvn
>>> sg.grad(lambda x: mvn.logpdf(x, np.zeros(2), np.eye(2)))(np.ones(2))
array([-1., -1.])
"""
import math

import numpy as np

import symgrad.core.ops as ops
from symgrad.core.tracing import error_here
from symgrad.scipy.faces import scipy_face
from symgrad.scipy.stats.support import scipy_rest

LOG_TWO_PI = math.log(2 * math.pi)


def face(method):
    return scipy_face("scipy.stats", f"multivariate_normal.{method}")


def _matrix(cov, dimension):
    """``cov`` as a ``dimension x dimension`` matrix: a scalar or a diagonal are scipy's too."""
    if np.ndim(cov) == 0:
        return cov * np.eye(dimension)
    return ops.diag(cov) if np.ndim(cov) == 1 else cov


def _no_singular(allow_singular):
    if allow_singular:
        raise error_here("multivariate_normal(allow_singular=True) is not supported on traced "
                         "values: give a positive definite covariance", NotImplementedError)


@face("logpdf")
def logpdf(x, mean=None, cov=1, allow_singular=False):
    _no_singular(allow_singular)
    dimension = np.shape(x)[-1] if np.ndim(x) else 1
    diff = x if mean is None else x - mean
    cov = _matrix(cov, dimension)
    solved = ops.linalg.solve(cov, ops.reshape(diff, (-1, dimension)).T).T
    mahalanobis = ops.sum(ops.reshape(solved, np.shape(diff)) * diff, -1)
    log_det = ops.linalg.slogdet(cov)[1]
    return -0.5 * (dimension * LOG_TWO_PI + log_det + mahalanobis)


@face("pdf")
def pdf(x, mean=None, cov=1, allow_singular=False):
    return ops.exp(logpdf(x, mean, cov, allow_singular))


@face("entropy")
def entropy(mean=None, cov=1):
    dimension = np.shape(cov)[-1] if np.ndim(cov) == 2 else max(np.size(mean), 1)
    return 0.5 * (dimension * (1 + LOG_TWO_PI) + ops.linalg.slogdet(_matrix(cov, dimension))[1])


__getattr__ = scipy_rest("multivariate_normal")
