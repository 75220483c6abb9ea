"""Elementwise ops: one line each declares the op, its numpy reference, scalar template, VJP
and the faces users reach it by (numpy's ufunc, the operator, PyTorch's names).

Operands of an elementwise primitive share one dtype (the frontend casts them) and broadcast
against each other with numpy's rules; the autodiff sums cotangents back to operand shapes.
"""
import numpy as np

from symgrad.core.ops.common import apply, lift, no_gradient, result_dtype
from symgrad.core.ops.registry import OPS, Faces, declare, faced, front
from symgrad.core.tracing import Tracer, bind, error_here, find_graph


def broadcast_rule(*avals, **_params):
    return np.broadcast_shapes(*(a.shape for a in avals)), avals[0].dtype


def predicate_rule(*avals, **_params):
    return np.broadcast_shapes(*(a.shape for a in avals)), np.dtype(bool)


def float_rule(*avals, **_params):
    shape, dtype = broadcast_rule(*avals)
    if dtype.kind not in "fc":
        raise TypeError(f"needs a floating-point dtype, got {dtype.name}")
    return shape, dtype


def elementwise(name, reference, scalar, vjp=(), faces=Faces(), rule=broadcast_rule):
    declare(name, rule, reference, vjp, scalar, family="elementwise")
    return front(lambda *values: apply(name, values), faces)


def torch_faces(numpy_function, torch_name, grad_fn=None, operator="", also=()):
    """The faces of a numpy ufunc that is also ``torch.<torch_name>`` and ``Tensor.<torch_name>``
    (and the names ``also``), grad_fn ``<TorchName>Backward0`` unless given; a binary
    ``operator`` is reflected too (``__radd__``)."""
    grad_fn = f"{torch_name.capitalize()}Backward0" if grad_fn is None else grad_fn
    names = (torch_name, *also)
    return Faces(numpy=(numpy_function,), operator=operator,
                 reflected=bool(operator) and numpy_function.nin == 2, tensor=names, torch=names,
                 grad_fn=grad_fn)


def floating(*values):
    """The dtype transcendental functions compute in: ints become float64, as numpy does."""
    from symgrad.core.ops.common import result_dtype
    dtype = result_dtype(*values)
    return dtype if dtype.kind in "fc" else np.dtype(np.float64)


def transcendental(name, reference, scalar, vjp):
    """A float function ``np.<name>``, also ``torch.<name>`` and ``Tensor.<name>``."""
    declare(name, float_rule, reference, (vjp,), scalar, family="elementwise")
    return front(lambda x: apply(name, [x], floating(x)), torch_faces(reference, name))


# -- unary ------------------------------------------------------------------------------
negative = elementwise("neg", np.negative, "-{0}", [lambda g, out, x: -g],
                      torch_faces(np.negative, "neg", operator="neg"))
def real_dtype(dtype):
    """The real dtype of a complex one (complex64 -> float32); others as they are."""
    return np.empty(0, dtype).real.dtype


def magnitude_rule(x):
    """``abs``: a complex operand's magnitude is real (complex128 -> float64)."""
    return x.shape, real_dtype(x.dtype)


# -- the parts of complex arrays (their numpy faces: symgrad.core.ops.complex_parts) ---------
def _part_rule(x):
    if x.dtype.kind != "c":
        raise TypeError(f"needs a complex operand, got {x.dtype.name}")
    return x.shape, real_dtype(x.dtype)


def _same_complex_rule(x):
    _part_rule(x)
    return x.shape, x.dtype


declare("real", _part_rule, lambda z: np.real(z).copy(),
        [lambda g, out, z: astype(g, z.dtype)], "{0}.real", family="elementwise")
declare("imag", _part_rule, lambda z: np.imag(z).copy(),
        [lambda g, out, z: astype(g, z.dtype) * -1j], "{0}.imag", family="elementwise")
declare("conj", _same_complex_rule, np.conj, [lambda g, out, z: conjugate_of(g)],
        "{0}.conjugate()", family="elementwise")


def real_part(z):
    return bind("real", z)


def imag_part(z):
    return bind("imag", z)


def conjugate_of(z):
    return bind("conj", z)


def _abs_vjp(g, out, x):
    if x.dtype.kind != "c":
        return g * sign(x)
    # autograd's g * conj(x) / |x|, 0 at x = 0
    return astype(g / where(out == 0, 1, out), x.dtype) * where(out == 0, 0, conjugate_of(x))


absolute = elementwise("abs", np.abs, "abs({0})", [_abs_vjp],
                      torch_faces(np.absolute, "abs", operator="abs", also=("absolute",)),
                      rule=magnitude_rule)
sign = elementwise("sign", np.sign, "np.sign({0})", [no_gradient], torch_faces(np.sign, "sign"))
square = elementwise("square", np.square, "{0} * {0}", [lambda g, out, x: g * (2 * x)],
                     torch_faces(np.square, "square", grad_fn="PowBackward0"))
identity = elementwise("identity", lambda x: x.copy(), "{0}", [lambda g, out, x: g])
exp = transcendental("exp", np.exp, "np.exp({0})", lambda g, out, x: g * out)
log = transcendental("log", np.log, "np.log({0})", lambda g, out, x: g / x)
log1p = transcendental("log1p", np.log1p, "np.log1p({0})", lambda g, out, x: g / (1 + x))
sqrt = transcendental("sqrt", np.sqrt, "np.sqrt({0})", lambda g, out, x: g / (2 * out))
sin = transcendental("sin", np.sin, "np.sin({0})", lambda g, out, x: g * cos(x))
cos = transcendental("cos", np.cos, "np.cos({0})", lambda g, out, x: -g * sin(x))
tanh = transcendental("tanh", np.tanh, "np.tanh({0})", lambda g, out, x: g * (1 - out * out))


# -- activations: templates that name their dtype for typed constants (np.float32(1)) ------
def _typed(name, x, dtype):
    """Op ``name`` on ``x`` cast to ``dtype``, a param its template names as ``{dtype}``."""
    graph = find_graph([x])
    if graph is None:
        return OPS[name].reference(np.asarray(x, dtype), dtype=dtype.name)
    return bind(name, lift(graph, x, dtype), dtype=dtype.name)


def _sigmoid(x, dtype):
    small = np.exp(-np.abs(x))            # never overflows
    return np.where(x >= 0, 1 / (1 + small), small / (1 + small)).astype(dtype, copy=False)


declare("relu", broadcast_rule, lambda x, dtype: np.maximum(x, x.dtype.type(0)),
        [lambda g, out, x, dtype: where(x > 0, g, 0)],
        "max({0}, np.{dtype}(0))", family="elementwise", params=("dtype",))
declare("sigmoid", float_rule, _sigmoid, [lambda g, out, x, dtype: g * (out * (1 - out))],
        "(np.{dtype}(1) / (np.{dtype}(1) + np.exp(-{0})) if {0} >= 0 else "
        "np.exp({0}) / (np.{dtype}(1) + np.exp({0})))", family="elementwise", params=("dtype",))


@faced(tensor=("relu",), torch=("relu",), grad_fn="ReluBackward0")
def relu(x):
    """``max(x, 0)`` with PyTorch's gradient: 0 at ``x == 0`` (``np.maximum(x, 0)`` splits
    the tie, giving 1/2 there)."""
    return _typed("relu", x, result_dtype(x))


@faced(tensor=("sigmoid",), torch=("sigmoid",), grad_fn="SigmoidBackward0")
def sigmoid(x):
    """``1 / (1 + exp(-x))`` without overflow; its VJP ``g * y * (1 - y)`` is finite
    everywhere (at x = -1000 in float32 as well)."""
    return _typed("sigmoid", x, floating(x))


# -- binary -----------------------------------------------------------------------------
add = elementwise("add", np.add, "{0} + {1}", [lambda g, out, x, y: g, lambda g, out, x, y: g],
                 torch_faces(np.add, "add", operator="add"))
subtract = elementwise("sub", np.subtract, "{0} - {1}",
                       [lambda g, out, x, y: g, lambda g, out, x, y: -g],
                       torch_faces(np.subtract, "sub", operator="sub"))
multiply = elementwise("mul", np.multiply, "{0} * {1}",
                       [lambda g, out, x, y: g * y, lambda g, out, x, y: g * x],
                       torch_faces(np.multiply, "mul", operator="mul"))


def _selected(g, loses, tie):
    """The cotangent of an operand of maximum/minimum: ``g``, 0 where the other operand is
    selected, ``g / 2`` at a tie (as JAX and ``torch.maximum``: both operands move the
    output there, so each gets half)."""
    return where(loses, 0, where(tie, g * 0.5, g))


# The templates propagate NaN from either operand as numpy does (Python's max drops a NaN
# second argument).
declare("maximum", broadcast_rule, np.maximum,
        [lambda g, out, x, y: _selected(g, x < y, x == y),
         lambda g, out, x, y: _selected(g, y < x, x == y)],
        "({1} if {1} > {0} or {1} != {1} else {0})", family="elementwise")
declare("minimum", broadcast_rule, np.minimum,
        [lambda g, out, x, y: _selected(g, x > y, x == y),
         lambda g, out, x, y: _selected(g, y > x, x == y)],
        "({1} if {1} < {0} or {1} != {1} else {0})", family="elementwise")


@faced(numpy=(np.maximum,), tensor=("maximum",), torch=("maximum",), grad_fn="MaximumBackward0")
def maximum(x, y):
    """``np.maximum``. At a tie (``x == y``) each operand gets half of the gradient, as with
    ``jax.numpy.maximum`` and ``torch.maximum``: ``np.maximum(x, 0)`` has gradient 1/2 at 0,
    where :func:`relu` has PyTorch's 0."""
    return apply("maximum", [x, y])


@faced(numpy=(np.minimum,), tensor=("minimum",), torch=("minimum",), grad_fn="MinimumBackward0")
def minimum(x, y):
    """``np.minimum``; a tie splits the gradient in halves, as :func:`maximum`."""
    return apply("minimum", [x, y])


declare("div", float_rule, np.true_divide, [lambda g, out, x, y: g / y,
                                            lambda g, out, x, y: -g * out / y],
        "{0} / {1}", family="elementwise")
declare("pow", broadcast_rule, np.power,
        # x ** (y - 1) would be inf at x = 0 for y = 0 (0 * inf = nan): autograd's 0 there
        [lambda g, out, x, y: g * y * power(x, where(y != 0, y - 1, 1)),
         lambda g, out, x, y: g * out * log(_log_safe_base(x))],
        "{0} ** {1}", family="elementwise")


def _log_safe_base(x):
    """The base where ``log`` of it enters ``d(x ** y)/dy``: 1 where the term is 0 (a real
    base <= 0, as autograd; a complex base 0)."""
    return where(x != 0, x, 1) if x.dtype.kind == "c" else where(x > 0, x, 1)


@faced(torch_faces(np.true_divide, "div", operator="truediv"))
def true_divide(x, y):
    return apply("div", [x, y], floating(x, y))


@faced(torch_faces(np.power, "pow", operator="pow"))
def power(x, y):
    """``x ** y``; an integer power with a negative exponent raises, as in numpy."""
    if result_dtype(x, y).kind in "iu" and find_graph([x, y]) is not None:
        _check_integer_exponent(x, y)
    return apply("pow", [x, y])


def _check_integer_exponent(x, y):
    if isinstance(y, Tracer):
        raise error_here(f"power: an integer power {x!r} ** {y!r} with a traced exponent: "
                         "numpy raises for a negative exponent, whose sign symgrad cannot see "
                         "while tracing; make the base a float or the exponent a constant")
    if np.any(np.asarray(y) < 0):
        raise error_here(f"power: Integers to negative integer powers are not allowed "
                         f"({x!r} ** {y!r})")


# -- predicates and selection -------------------------------------------------------------
def _predicate(name, reference, template, torch_names):
    """A comparison: ``np.<less...>``, the operator ``__<name>__`` and PyTorch's
    ``x.<name>(y)``/``torch.<name>`` (no gradient, and a Tensor comparison records nothing)."""
    declare(name, predicate_rule, reference, [no_gradient, no_gradient], template,
            family="elementwise")
    return front(lambda x, y: apply(name, [x, y]),
                 Faces(numpy=(reference,), operator=name, tensor=torch_names, torch=torch_names))


less = _predicate("lt", np.less, "{0} < {1}", ("lt", "less"))
less_equal = _predicate("le", np.less_equal, "{0} <= {1}", ("le", "less_equal"))
greater = _predicate("gt", np.greater, "{0} > {1}", ("gt", "greater"))
greater_equal = _predicate("ge", np.greater_equal, "{0} >= {1}", ("ge", "greater_equal"))
equal = _predicate("eq", np.equal, "{0} == {1}", ("eq",))     # torch.equal is all-equal
not_equal = _predicate("ne", np.not_equal, "{0} != {1}", ("ne", "not_equal"))


def _select_rule(condition, x, y):
    if condition.dtype != np.bool_:
        raise TypeError(f"the condition must be boolean, got {condition.dtype.name}")
    return np.broadcast_shapes(condition.shape, x.shape, y.shape), x.dtype


declare("where", _select_rule, np.where,
        [no_gradient, lambda g, out, c, x, y: where(c, g, 0), lambda g, out, c, x, y: where(c, 0, g)],
        "{1} if {0} else {2}", family="elementwise")


@faced(numpy=(np.where,), torch=("where",), grad_fn="WhereBackward0")
def where(condition, x=None, y=None):
    """``np.where`` that traces: pick ``x`` where ``condition`` holds, else ``y``. The
    one-argument form (``np.nonzero``) of a traced condition has a data-dependent shape: an
    error says what to write instead.

    >>> import numpy as np, symgrad as sg
    >>> sg.where(np.array([True, False]), 1.0, 2.0)
    array([1., 2.])
    """
    from symgrad.core.ops.common import lift, result_dtype
    from symgrad.core.tracing import find_graph, bind
    if x is None or y is None:
        from symgrad.core.ops.common import dynamic_shape_error
        if x is not None or y is not None:
            raise error_here("either both or neither of x and y should be given")
        raise dynamic_shape_error(f"np.where({condition!r}) (np.nonzero)")
    dtype = result_dtype(x, y)
    graph = find_graph([condition, x, y])
    if graph is None:
        return np.where(condition, np.asarray(x, dtype), np.asarray(y, dtype))
    return bind("where", lift(graph, condition, np.bool_), lift(graph, x, dtype), lift(graph, y, dtype))


# -- dtype conversion -------------------------------------------------------------------
declare("cast", lambda x, dtype: (x.shape, np.dtype(dtype)),
        lambda x, dtype: x.astype(dtype),
        [lambda g, out, x, dtype: astype(g, x.dtype)],
        "np.{dtype}({0})", family="elementwise", params=("dtype",))


def astype(x, dtype):
    """``x.astype(dtype)``; a no-op when the dtype already matches."""
    from symgrad.core.tracing import Tracer, bind
    dtype = np.dtype(dtype)
    if not isinstance(x, Tracer):
        x = np.asarray(x)
        return (x.real if x.dtype.kind == "c" and dtype.kind != "c" else x).astype(dtype)
    if x.dtype.kind == "c" and dtype.kind != "c":     # numpy drops the imaginary part
        x = real_part(x)
    return x if x.dtype == dtype else bind("cast", x, dtype=dtype.name)


@faced(numpy=(np.clip,), method=("clip",), torch=("clip", "clamp"))
def clip(x, a_min=None, a_max=None, *, min=None, max=None):  # noqa: A002 - numpy's names
    """``np.clip``; the gradient flows to ``x`` inside the bounds, the bounds included (as
    ``torch.clamp``), and to a bound where ``x`` lies beyond it."""
    lower = a_min if min is None else min
    upper = a_max if max is None else max
    if lower is not None:
        x = where(less(x, lower), lower, x)
    if upper is not None:
        x = where(greater(x, upper), upper, x)
    return x
