"""scipy.special's functions on traced values, as HIPS autograd differentiates them: ``erf``,
``erfc``, ``erfinv``, ``erfcinv``, ``gammaln``, ``gamma``, ``digamma``/``psi``, ``polygamma``,
``i0``, ``i1`` are
primitives (scipy's ufuncs as references; scalar templates call ``math`` or the CPU
runtime's ``special_*`` functions); ``expit``, ``logit``, ``xlogy``, ``xlog1py``, ``betaln``
and ``multigammaln`` are composites. scipy's ufuncs reach them through ``__array_ufunc__``
(``Faces.scipy``: ``scipy.special.erf(tracer)``), so ``from scipy.special import erf``
traces too. scipy itself is imported only when a reference runs.

>>> import numpy as np, scipy.special, symgrad as sg
>>> float(sg.grad(lambda x: scipy.special.gammaln(x))(3.0))   # digamma(3)
0.9227843350984671
"""
import math

import numpy as np

from symgrad.core.ops.common import check_integer, lift
from symgrad.core.ops.elementwise import (
    _typed, exp, float_rule, floating, log, log1p, sigmoid, where)
from symgrad.core.ops.reduction import sum as reduce_sum
from symgrad.core.ops.registry import Faces, declare, faced
from symgrad.core.ops.shape import stack
from symgrad.core.tracing import bind, error_here, find_graph

TWO_OVER_ROOT_PI = 2 / math.sqrt(math.pi)
ROOT_PI_OVER_TWO = math.sqrt(math.pi) / 2


def scipy_special():
    import scipy.special
    return scipy.special


def _reference(name):
    """scipy.special's ufunc ``name`` in the op's dtype."""
    return lambda x, dtype: getattr(scipy_special(), name)(x).astype(dtype, copy=False)


def _special(name, template, vjp, faces):
    """Primitive ``name`` computing scipy.special's ufunc of that name; ``template`` is its
    scalar expression for one element ``{0}`` (cast to the op's ``{dtype}``)."""
    declare(name, float_rule, _reference(name), (vjp,), f"np.{{dtype}}({template})",
            family="elementwise", params=("dtype",))
    return faced(faces)(lambda x: _typed(name, x, floating(x)))


def _faces(scipy_names, torch_name="", grad_fn="", numpy=()):
    names = (torch_name,) if torch_name else ()
    return Faces(numpy=numpy, scipy=scipy_names, tensor=names, torch=names, grad_fn=grad_fn)


erf = _special("erf", "math.erf({0})",
               lambda g, out, x, dtype: g * TWO_OVER_ROOT_PI * exp(-x * x),
               _faces(("erf",), "erf", "ErfBackward0"))
erfc = _special("erfc", "math.erfc({0})",
                lambda g, out, x, dtype: -g * TWO_OVER_ROOT_PI * exp(-x * x),
                _faces(("erfc",), "erfc", "ErfcBackward0"))
gammaln = _special("gammaln", "math.lgamma({0})", lambda g, out, x, dtype: g * digamma(x),
                   _faces(("gammaln",), "lgamma", "LgammaBackward0"))
gamma = _special("gamma", "math.gamma({0})", lambda g, out, x, dtype: g * out * digamma(x),
                 _faces(("gamma",)))
i0 = _special("i0", "special_i0({0})", lambda g, out, x, dtype: g * i1(x),
              _faces(("i0",), "i0", "I0Backward0", numpy=(np.i0,)))
# i1' = (i0 + i2) / 2 = i0 - i1 / x, which is 1/2 at 0
i1 = _special("i1", "special_i1({0})",
              lambda g, out, x, dtype: g * where(x == 0, 0.5, i0(x) - out / where(x == 0, 1, x)),
              _faces(("i1",)))

erfinv = _special("erfinv", "special_erfinv({0})",
                  lambda g, out, y, dtype: g * ROOT_PI_OVER_TWO * exp(out * out),
                  _faces(("erfinv",), "erfinv", "ErfinvBackward0"))
erfcinv = _special("erfcinv", "special_erfcinv({0})",
                   lambda g, out, z, dtype: -g * ROOT_PI_OVER_TWO * exp(out * out),
                   _faces(("erfcinv",)))

# polygamma(n, x), the n-th derivative of digamma; n is a static param
declare("polygamma", float_rule,
        lambda x, n, dtype: scipy_special().polygamma(n, x).astype(dtype, copy=False),
        (lambda g, out, x, n, dtype: g * _polygamma(n + 1, x, np.dtype(dtype)),),
        "np.{dtype}(special_polygamma({n}, {0}))", family="elementwise", params=("n", "dtype"))


def _polygamma(n, x, dtype):
    graph = find_graph([x])
    if graph is None:
        return scipy_special().polygamma(n, np.asarray(x, dtype)).astype(dtype, copy=False)
    return bind("polygamma", lift(graph, x, dtype), n=n, dtype=dtype.name)


def polygamma(n, x):
    """``scipy.special.polygamma(n, x)`` for one integer order ``n``; float64 as scipy's
    (its integer ``n`` promotes a float32 ``x``)."""
    check_integer(n, "polygamma", "the order n")
    if n < 0:
        raise error_here(f"polygamma: the order n must be non-negative, got {n}")
    return _polygamma(int(n), x, np.promote_types(floating(x), np.float64))


@faced(_faces(("psi",), "digamma", "DigammaBackward0"))
def digamma(x):
    """``scipy.special.digamma`` (also ``psi``): ``gammaln``'s derivative."""
    return _polygamma(0, x, floating(x))


# -- composites ---------------------------------------------------------------------------
@faced(scipy=("expit",))
def expit(x):
    """``scipy.special.expit``: the logistic sigmoid, without overflow."""
    return sigmoid(x)


@faced(_faces(("logit",), "logit", "LogitBackward0"))
def logit(x):
    """``scipy.special.logit``: ``log(x / (1 - x))``."""
    return log(x) - log1p(-x)


def _times_log(x, y, logarithm, y_where_x_is_zero):
    """``x * logarithm(y)``, 0 where ``x`` is 0 (the gradients there too)."""
    zero = x == 0
    return where(zero, 0, x * logarithm(where(zero, y_where_x_is_zero, y)))


@faced(_faces(("xlogy",), "xlogy", "XlogyBackward0"))
def xlogy(x, y):
    """``scipy.special.xlogy``: ``x * log(y)``, 0 where ``x == 0``."""
    return _times_log(x, y, log, 1)


@faced(scipy=("xlog1py",))
def xlog1py(x, y):
    """``scipy.special.xlog1py``: ``x * log1p(y)``, 0 where ``x == 0``."""
    return _times_log(x, y, log1p, 0)


@faced(scipy=("betaln",))
def betaln(a, b):
    """``scipy.special.betaln``: ``log|B(a, b)|``."""
    return gammaln(a) + gammaln(b) - gammaln(a + b)


def multigammaln(a, d):
    """``scipy.special.multigammaln(a, d)``: the log of the multivariate gamma function."""
    check_integer(d, "multigammaln", "the dimension d")
    terms = [gammaln(a - j / 2) for j in range(d)]
    # scipy adds a numpy float64: a float32 ``a`` gives float64
    return reduce_sum(stack(terms), 0) + np.float64(d * (d - 1) / 4 * math.log(math.pi))
