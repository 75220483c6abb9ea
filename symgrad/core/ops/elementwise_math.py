"""numpy's other float functions: trigonometric and hyperbolic functions and their inverses,
exponentials and logarithms in other bases, and the binary ``arctan2``, ``hypot``,
``logaddexp``, ``copysign``. Primitives where numpy has a ufunc the backends can inline
(their scalar templates name numpy's function); composites where a stable formula is a few
ops (``logaddexp`` as ``max + log1p(exp(-|x - y|))``).

>>> import numpy as np, symgrad as sg
>>> float(sg.grad(lambda x: np.arctan(x))(1.0))
0.5
"""
import math

import numpy as np

from symgrad.core.ops.common import apply, lift, no_gradient, result_dtype
from symgrad.core.ops.elementwise import (
    absolute, astype, exp, float_rule, floating, power, sign, sin, sqrt, torch_faces, where)
from symgrad.core.ops.registry import Faces, declare, faced, front
from symgrad.core.tracing import bind, find_graph

LN2 = math.log(2)
LN10 = math.log(10)


def _float_function(name, reference, vjp, torch_name=None, also=(), grad_fn=None):
    """Primitive ``name`` (numpy's ufunc ``reference``, computed in a float dtype), reached
    as ``np.<name>`` and as ``torch.<torch_name>``/``Tensor.<torch_name>`` (and ``also``);
    ``torch_name=""``: numpy's name only (PyTorch has no such function)."""
    operands = "{0}" if reference.nin == 1 else "{0}, {1}"
    declare(name, float_rule, reference, vjp, f"np.{reference.__name__}({operands})",
            family="elementwise")
    faces = (torch_faces(reference, torch_name or name, grad_fn, also=also)
             if torch_name != "" else Faces(numpy=(reference,)))
    if reference.nin == 1:
        return front(lambda x: apply(name, [x], floating(x)), faces)
    return front(lambda x, y: apply(name, [x, y], floating(x, y)), faces)


# -- trigonometric and hyperbolic ---------------------------------------------------------
tan = _float_function("tan", np.tan, [lambda g, out, x: g * (1 + out * out)])
arcsin = _float_function("arcsin", np.arcsin, [lambda g, out, x: g / sqrt(1 - x * x)],
                         "asin", also=("arcsin",))
arccos = _float_function("arccos", np.arccos, [lambda g, out, x: -g / sqrt(1 - x * x)],
                         "acos", also=("arccos",))
arctan = _float_function("arctan", np.arctan, [lambda g, out, x: g / (1 + x * x)],
                         "atan", also=("arctan",))
sinh = _float_function("sinh", np.sinh, [lambda g, out, x: g * cosh(x)])
cosh = _float_function("cosh", np.cosh, [lambda g, out, x: g * sinh(x)])
arcsinh = _float_function("arcsinh", np.arcsinh, [lambda g, out, x: g / sqrt(x * x + 1)],
                          "asinh", also=("arcsinh",))
arccosh = _float_function("arccosh", np.arccosh, [lambda g, out, x: g / sqrt(x * x - 1)],
                          "acosh", also=("arccosh",))
arctanh = _float_function("arctanh", np.arctanh, [lambda g, out, x: g / (1 - x * x)],
                          "atanh", also=("arctanh",))
arctan2 = _float_function("arctan2", np.arctan2,
                          [lambda g, out, y, x: g * x / (x * x + y * y),
                           lambda g, out, y, x: -g * y / (x * x + y * y)],
                          "atan2", also=("arctan2",))
hypot = _float_function("hypot", np.hypot, [lambda g, out, x, y: g * x / out,
                                            lambda g, out, x, y: g * y / out])

# -- exponentials and logarithms ----------------------------------------------------------
expm1 = _float_function("expm1", np.expm1, [lambda g, out, x: g * (out + 1)])
exp2 = _float_function("exp2", np.exp2, [lambda g, out, x: g * out * LN2])
log2 = _float_function("log2", np.log2, [lambda g, out, x: g / (x * LN2)])
log10 = _float_function("log10", np.log10, [lambda g, out, x: g / (x * LN10)])
# d/dx x^(1/3) = 1 / (3 out^2): infinite at 0, as in autograd and JAX
cbrt = _float_function("cbrt", np.cbrt, [lambda g, out, x: g / (3 * out * out)], "")
# |x| with y's sign: the gradient is x's sign times the result's (0 at x == 0, as autograd)
copysign = _float_function("copysign", np.copysign,
                           [lambda g, out, x, y: g * sign(x) * sign(out), no_gradient])


# log(e**x + e**y) as the larger operand plus a log1p term, which cannot overflow; equal
# operands (infinities among them, whose difference is NaN) give x + log 2. The larger is
# chosen as np.maximum does, NaN from either side. The VJP e**(x - out) is smooth, so second
# derivatives are right at ties as well.
_LARGER = "({1} if {1} > {0} or {1} != {1} else {0})"
declare("logaddexp", float_rule, lambda x, y, dtype: np.logaddexp(x, y),
        [lambda g, out, x, y, dtype: g * exp(x - out),
         lambda g, out, x, y, dtype: g * exp(y - out)],
        f"({_LARGER} + np.log1p(np.exp(-abs({{0}} - {{1}}))) if {{0}} != {{1}} "
        f"else {{0}} + np.{{dtype}}({LN2!r}))", family="elementwise", params=("dtype",))


@faced(torch_faces(np.logaddexp, "logaddexp"))
def logaddexp(x, y):
    """``np.logaddexp``: ``log(exp(x) + exp(y))``, stable for large and small values.

    >>> import numpy as np, symgrad as sg
    >>> float(sg.jit(np.logaddexp)(1000.0, 1000.0)) == 1000 + np.log(2)
    True
    """
    dtype = floating(x, y)
    graph = find_graph([x, y])
    if graph is None:
        return np.logaddexp(np.asarray(x, dtype), np.asarray(y, dtype))
    return bind("logaddexp", lift(graph, x, dtype), lift(graph, y, dtype), dtype=dtype.name)


@faced(torch_faces(np.logaddexp2, "logaddexp2"))
def logaddexp2(x, y):
    """``np.logaddexp2``: ``log2(2**x + 2**y)``, as ``logaddexp(x ln 2, y ln 2) / ln 2``."""
    dtype = floating(x, y)
    return logaddexp(astype(x, dtype) * LN2, astype(y, dtype) * LN2) / LN2


# -- composites ---------------------------------------------------------------------------
@faced(torch_faces(np.reciprocal, "reciprocal"))
def reciprocal(x):
    """``1 / x``; integers divide as numpy's ``np.reciprocal`` does (``1 // x``)."""
    dtype = result_dtype(x)
    if dtype.kind in "biu":
        return apply("floor_divide", [1, x], dtype)
    return apply("div", [1, x], dtype)


def _scaled(x, factor):
    return apply("mul", [x, factor], floating(x))


@faced(numpy=(np.deg2rad, np.radians), torch=("deg2rad", "radians"),
       tensor=("deg2rad", "radians"), grad_fn="Deg2RadBackward0")
def deg2rad(x):
    return _scaled(x, np.pi / 180)


@faced(numpy=(np.rad2deg, np.degrees), torch=("rad2deg", "degrees"),
       tensor=("rad2deg", "degrees"), grad_fn="Rad2DegBackward0")
def rad2deg(x):
    return _scaled(x, 180 / np.pi)


@faced(numpy=(np.fabs,))
def fabs(x):
    """``|x|`` in a float dtype."""
    return absolute(astype(x, floating(x)))


@faced(numpy=(np.sinc,), torch=("sinc",), tensor=("sinc",), grad_fn="SincBackward0")
def sinc(x):
    """``sin(pi x) / (pi x)``, 1 at 0. At 0 it is its Taylor polynomial ``1 - (pi x)**2 / 6``,
    so the first and second derivatives there are right too (0 and ``-pi**2 / 3``, as JAX)."""
    x = astype(x, floating(x))
    at_zero = x == 0
    scaled = np.pi * where(at_zero, 1, x)
    return where(at_zero, 1 - (np.pi * x) ** 2 / 6, sin(scaled) / scaled)


@faced(numpy=(np.float_power,), torch=("float_power",), tensor=("float_power",),
       grad_fn="PowBackward1")
def float_power(x, y):
    """``x ** y`` in float64, as numpy's ``np.float_power``."""
    return power(astype(x, np.float64), astype(y, np.float64))

