"""scipy.special's regularized incomplete gamma functions ``gammainc(a, x)`` = P(a, x) and
``gammaincc(a, x)`` = Q(a, x) = 1 - P(a, x), differentiable in ``x`` (as in HIPS autograd;
the derivative in the shape ``a`` raises), with ``rgamma`` and ``beta`` as composites. The
scalar templates call the CPU runtime's ``special_gammainc``/``special_gammaincc``.

>>> import numpy as np, scipy.special, symgrad as sg
>>> round(float(sg.grad(lambda x: scipy.special.gammainc(2.0, x))(1.0)), 12)   # x e^-x
0.367879441171
"""
import numpy as np

from symgrad.core.ops.common import lift
from symgrad.core.ops.elementwise import exp, float_rule, floating
from symgrad.core.ops.registry import OPS, Faces, declare, faced
from symgrad.core.ops.special import gamma, gammaln, scipy_special, xlogy
from symgrad.core.tracing import bind, error_here, find_graph


def _density(x, a):
    """``x^(a-1) e^-x / Gamma(a)``: P's derivative in ``x``."""
    return exp(xlogy(a - 1, x) - x - gammaln(a))


def _no_shape_derivative(name):
    def vjp(g, out, a, x, dtype):
        raise error_here(f"{name}(a, x): the derivative with respect to the shape a is not "
                         "implemented (as in autograd); differentiate with respect to x only")
    return vjp


def _incomplete(name, sign):
    declare(name, float_rule,
            lambda a, x, dtype: getattr(scipy_special(), name)(a, x).astype(dtype, copy=False),
            (_no_shape_derivative(name), lambda g, out, a, x, dtype: sign * g * _density(x, a)),
            f"np.{{dtype}}(special_{name}({{0}}, {{1}}))", family="elementwise",
            params=("dtype",))

    def function(a, x):
        dtype = floating(a, x)
        if any(isinstance(v, float) for v in (a, x)):
            # scipy's ufunc lists its float64 loop first: a Python float makes it float64
            dtype = np.promote_types(dtype, np.float64)
        graph = find_graph([a, x])
        if graph is None:
            return OPS[name].reference(np.asarray(a, dtype), np.asarray(x, dtype),
                                       dtype=dtype.name)
        return bind(name, lift(graph, a, dtype), lift(graph, x, dtype), dtype=dtype.name)
    function.__name__ = name
    return faced(Faces(scipy=(name,)))(function)


gammainc = _incomplete("gammainc", 1)
gammaincc = _incomplete("gammaincc", -1)


@faced(scipy=("rgamma",))
def rgamma(x):
    """``scipy.special.rgamma``: ``1 / Gamma(x)``."""
    return 1 / gamma(x)


@faced(scipy=("beta",))
def beta(a, b):
    """``scipy.special.beta``: ``Gamma(a) Gamma(b) / Gamma(a + b)``."""
    return gamma(a) * gamma(b) / gamma(a + b)
