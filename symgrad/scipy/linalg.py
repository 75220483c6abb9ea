"""``scipy.linalg`` on traced matrices (``autograd.scipy.linalg``'s reach): ``solve_triangular``,
``cholesky`` (scipy's upper factor by default), ``cho_factor``/``cho_solve``, ``solve``,
``inv``, ``det``. Composites of np.linalg's traced primitives: a triangular solve is
``solve`` of the chosen triangle, so its gradient reaches only that triangle, as scipy reads
only it. While a function is traced, scipy's own ``scipy.linalg.<name>`` is these.

>>> import numpy as np, symgrad as sg
>>> from symgrad.scipy.linalg import solve_triangular
>>> sg.grad(lambda a: solve_triangular(a, np.ones(2), lower=True).sum())(np.eye(2) * 2)
array([[-0.25,  0.  ],
       [-0.25, -0.25]])
"""
import numpy as np

import symgrad.core.ops as ops
from symgrad.core.errors import TracingValueError
from symgrad.core.ops import linalg as np_linalg
from symgrad.core.tracing import error_here
from symgrad.scipy.faces import scipy_face

TRANSPOSED = {0: False, "N": False, 1: True, "T": True, 2: True, "C": True}


def face(name):
    return scipy_face("scipy.linalg", name)


@face("solve_triangular")
def solve_triangular(a, b, trans=0, lower=False, unit_diagonal=False, overwrite_b=False,
                     check_finite=True):
    """``scipy.linalg.solve_triangular``: ``x`` with ``op(T) x = b`` for the lower or upper
    triangle ``T`` of ``a`` (its diagonal taken as ones with ``unit_diagonal``); ``trans``
    0/'N', 1/'T' or 2/'C' (the same for real matrices)."""
    if trans not in TRANSPOSED:
        raise error_here(f"solve_triangular: trans must be 0, 1, 2, 'N', 'T' or 'C', got "
                         f"{trans!r}", TracingValueError)
    if np.ndim(a) != 2 or np.shape(a)[0] != np.shape(a)[1]:
        raise error_here(f"solve_triangular: expected a square matrix, got shape "
                         f"{np.shape(a)}", TracingValueError)
    triangle = ops.tril(a) if lower else ops.triu(a)
    if unit_diagonal:
        triangle = triangle - ops.diag(ops.diag(triangle)) + np.eye(np.shape(a)[0])
    if TRANSPOSED[trans]:
        triangle = ops.transpose(triangle)
    return np_linalg.solve(triangle, b)


@face("cholesky")
def cholesky(a, lower=False, overwrite_a=False, check_finite=True):
    """``scipy.linalg.cholesky``: the upper factor ``U`` with ``U^T U = a`` (the lower one
    with ``lower=True``)."""
    return np_linalg.cholesky(a, upper=not lower)


@face("cho_factor")
def cho_factor(a, lower=False, overwrite_a=False, check_finite=True):
    """``scipy.linalg.cho_factor``: ``(c, lower)`` for ``cho_solve``; the other triangle of
    ``c`` is zero (scipy leaves whatever was there)."""
    return cholesky(a, lower=lower), lower


@face("cho_solve")
def cho_solve(c_and_lower, b, overwrite_b=False, check_finite=True):
    """``scipy.linalg.cho_solve``: ``x`` with ``a x = b`` from ``cho_factor(a)``."""
    c, lower = c_and_lower
    first = solve_triangular(c, b, trans=0 if lower else 1, lower=lower)
    return solve_triangular(c, first, trans=1 if lower else 0, lower=lower)


@face("solve")
def solve(a, b, lower=False, overwrite_a=False, overwrite_b=False, check_finite=True,
          assume_a=None, transposed=False):
    """``scipy.linalg.solve`` (``assume_a`` picks LAPACK's routine in scipy; the solution is
    the same)."""
    return np_linalg.solve(ops.transpose(a) if transposed else a, b)


@face("inv")
def inv(a, overwrite_a=False, check_finite=True):
    """``scipy.linalg.inv``."""
    return np_linalg.inv(a)


@face("det")
def det(a, overwrite_a=False, check_finite=True):
    """``scipy.linalg.det``."""
    return np_linalg.det(a)
