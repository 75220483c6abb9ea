"""autograd.core's public pieces: the unary ``make_vjp(fun, x)`` and a (empty) table of
primitive VJPs; symgrad keeps its rules in its op registry instead."""
import autograd

primitive_vjps = {}


def make_vjp(fun, x):
    """``(vjp, value)`` of the unary function ``fun`` at ``x``."""
    return autograd.make_vjp(fun)(x)


from symgrad.extend import primitive  # noqa: E402,F401
