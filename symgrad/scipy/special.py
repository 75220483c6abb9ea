"""``scipy.special`` on traced values (``autograd.scipy.special``'s list): the ufuncs are
symgrad's primitives and composites (symgrad/core/ops/special.py), which
``scipy.special.erf(traced)`` reaches by itself; the Python functions ``logsumexp``,
``softmax``, ``log_softmax``, ``polygamma`` and ``multigammaln`` are here, and stand in for
scipy's while a trace runs.

>>> import numpy as np, symgrad as sg
>>> from symgrad.scipy.special import logsumexp
>>> sg.grad(lambda x: logsumexp(x))(np.zeros(2))
array([0.5, 0.5])
"""
import numpy as np

import symgrad.core.ops as ops
from symgrad.core.ops.elementwise import floating
from symgrad.core.ops.special import (  # noqa: F401  (the ufuncs, as autograd.scipy.special has them)
    betaln, digamma, erf, erfc, erfcinv, erfinv, expit, gamma, gammaln, i0, i1, logit, xlog1py,
    xlogy)
from symgrad.core.ops.incomplete_gamma import (  # noqa: F401
    beta, gammainc, gammaincc, rgamma)
from symgrad.core.ops.special import multigammaln as _multigammaln
from symgrad.core.ops.special import polygamma as _polygamma
from symgrad.core.ops.statistics import logsumexp as _logsumexp
from symgrad.scipy.faces import scipy_face

psi = digamma


@scipy_face("scipy.special", "logsumexp")
def logsumexp(a, axis=None, b=None, keepdims=False, return_sign=False):
    """``scipy.special.logsumexp``: ``log(sum(b * exp(a)))`` over ``axis`` without overflow;
    with ``return_sign=True``, ``(log|sum|, sign of the sum)`` (else NaN for a negative sum)."""
    if b is None and not return_sign:
        return _logsumexp(a, axis, keepdims)
    a = ops.astype(a, floating(a))
    if b is not None:
        shape = np.broadcast_shapes(np.shape(a), np.shape(b))
        a, b = ops.broadcast_to(a, shape), ops.broadcast_to(b, shape)
    peak = ops.amax(a, axis, keepdims=True)
    peak = ops.where(ops.isfinite(peak), peak, 0)
    scaled = ops.exp(a - peak) if b is None else b * ops.exp(a - peak)
    total = ops.sum(scaled, axis, keepdims=keepdims)
    peak = peak if keepdims else ops.squeeze(peak, axis)
    if return_sign:
        return ops.log(ops.absolute(total)) + peak, ops.sign(total)
    return ops.log(total) + peak


@scipy_face("scipy.special", "softmax")
def softmax(x, axis=None):
    """``scipy.special.softmax``: ``exp(x)`` normalized over ``axis`` (all axes by default)."""
    return ops.exp(log_softmax(x, axis))


@scipy_face("scipy.special", "log_softmax")
def log_softmax(x, axis=None):
    """``scipy.special.log_softmax``: ``x - logsumexp(x, axis, keepdims=True)``."""
    return x - _logsumexp(x, axis, keepdims=True)


polygamma = scipy_face("scipy.special", "polygamma")(_polygamma)
multigammaln = scipy_face("scipy.special", "multigammaln")(_multigammaln)
