"""sg.custom_vjp, sg.custom_jvp and autograd's primitive + defvjp/defjvp
(symgrad/custom_rules.py, symgrad/extend.py): the user's rule is what runs, eagerly on the
reference backend and in compiled code; check_grad validates a rule; higher order and
forward mode go through it; bad rules get a TracingError naming the user's lines."""
import functools

import numpy as np
import pytest

import symgrad as sg
from symgrad.extend import defjvp, defvjp, defvjp_argnum, primitive

from conftest import assert_same

REF = "reference"
X = np.array([0.3, -0.5, 1.2])


def sin_with_rule(rule_scale):
    """sin whose custom VJP is ``rule_scale`` times the true one."""
    @sg.custom_vjp
    def f(x):
        return np.sin(x)

    def fwd(x):
        return np.sin(x), np.cos(x)

    def bwd(cos_x, g):
        return (rule_scale * cos_x * g,)
    f.defvjp(fwd, bwd)
    return f


def test_custom_vjp_rule_is_used_in_reference_and_compiled_code(backend):
    true, doubled = sin_with_rule(1.0), sin_with_rule(2.0)
    assert_same(sg.grad(lambda x: np.sum(true(x)), backend=backend)(X), np.cos(X))
    # a deliberately different rule changes the result, compiled too
    assert_same(sg.grad(lambda x: np.sum(doubled(x)), backend=backend)(X), 2 * np.cos(X))
    assert_same(sg.jit(doubled, backend=backend)(X), np.sin(X))
    assert_same(doubled(X), np.sin(X))            # outside any trace: the plain function


def test_check_grad_validates_a_custom_rule():
    sg.check_grad(sin_with_rule(1.0), X, backend=REF)
    with pytest.raises(AssertionError, match="order-1 gradient check"):
        sg.check_grad(sin_with_rule(2.0), X, backend=REF)


def test_custom_vjp_of_several_arguments_outputs_and_nondiff_argnums():
    @functools.partial(sg.custom_vjp, nondiff_argnums=(0,))
    def scaled(power, x, y):
        return {"p": x ** power * y, "s": np.sum(y)}

    def fwd(power, x, y):
        return scaled(power, x, y), (x, y)

    def bwd(power, residuals, g):
        x, y = residuals
        return power * x ** (power - 1) * y * g["p"], x ** power * g["p"] + g["s"]
    scaled.defvjp(fwd, bwd)

    def loss(x, y):
        out = scaled(3, x, y)
        return np.sum(out["p"]) + 2 * out["s"]
    dx, dy = sg.grad(loss, argnums=(0, 1), backend=REF)(X, X[::-1].copy())
    assert_same(dx, 3 * X ** 2 * X[::-1])
    assert_same(dy, X ** 3 + 2)
    sg.check_grad(loss, X, X[::-1].copy(), backend=REF)   # second order: through bwd's ops


def test_custom_vjp_with_zero_cotangent_and_keyword_arguments():
    @sg.custom_vjp
    def f(x, y=2.0):
        return x * y
    f.defvjp(lambda x, y=2.0: (f(x, y), y), lambda y, g: (g * y, None))
    assert_same(sg.grad(lambda x, y: np.sum(f(x, y=y)), argnums=(0, 1), backend=REF)(X, X),
                (X, np.zeros(3)))


def test_custom_jvp_rule_runs_in_reverse_and_forward_mode(backend):
    @sg.custom_jvp
    def safe_log1pexp(x):
        return np.log1p(np.exp(x))

    @safe_log1pexp.defjvp
    def rule(primals, tangents):
        (x,), (t,) = primals, tangents
        return safe_log1pexp(x), t * 2 / (1 + np.exp(-x))    # twice the true derivative

    expected = 2 / (1 + np.exp(-X))
    assert_same(sg.grad(lambda x: np.sum(safe_log1pexp(x)), backend=backend)(X), expected)
    assert_same(sg.jvp(safe_log1pexp, (X,), (np.ones(3),), backend=backend)[1], expected)


def test_custom_jvp_defjvps_and_second_order():
    @sg.custom_jvp
    def product(x, y):
        return x * y
    product.defjvps(lambda t, ans, x, y: t * y, lambda t, ans, x, y: x * t)
    sg.check_grad(lambda x, y: product(np.sin(x), y), X, X + 1, backend=REF)


def test_autograd_primitive_defvjp_and_defjvp(backend):
    @primitive
    def logsumexp(x):
        top = np.max(x)
        return top + np.log(np.sum(np.exp(x - top)))
    defvjp(logsumexp, lambda ans, x: lambda g: g * np.exp(x - ans))
    assert_same(sg.grad(logsumexp, backend=backend)(X), np.exp(X) / np.sum(np.exp(X)))
    sg.check_grad(logsumexp, X, backend=REF)

    @primitive
    def mul(x, y):
        return x * y
    defvjp(mul, None, lambda ans, x, y: lambda g: 10 * x * g)      # no gradient to x
    assert_same(sg.grad(lambda x, y: np.sum(mul(x, y)), argnums=(0, 1), backend=REF)(X, X),
                (np.zeros(3), 10 * X))

    @primitive
    def square(x):
        return x * x
    defjvp(square, lambda t, ans, x: 2 * x * t)
    assert_same(sg.grad(lambda x: np.sum(square(x)), backend=REF)(X), 2 * X)


def test_autograd_defvjp_argnum_and_deprecated_defgrad():
    @primitive
    def add3(x, y, z):
        return x + 2 * y + 3 * z
    defvjp_argnum(add3, lambda argnum, ans, args, kwargs: lambda g: (argnum + 1) * g)
    grads = sg.grad(lambda *a: np.sum(add3(*a)), argnums=(0, 1, 2), backend=REF)(X, X, X)
    assert_same(grads, (np.ones(3), 2 * np.ones(3), 3 * np.ones(3)))

    @primitive
    def new_mul(x, y):
        return x * y
    with pytest.warns(DeprecationWarning):
        new_mul.defgrad(lambda ans, x, y: lambda g: y * g)
        new_mul.defgrad(lambda ans, x, y: lambda g: x * g, argnum=1)
    sg.check_grad(lambda a, b: np.sum(new_mul(a, b)), np.ones((2, 2)), X[:2] + np.zeros((2, 2)),
                  backend=REF)


def test_bad_custom_rules_name_the_rule_and_the_call():
    wrong_shape = sg.custom_vjp(lambda x: x * 2)
    wrong_shape.defvjp(lambda x: (x * 2, None), lambda r, g: (g[:1],))   # THE BAD RULE
    with pytest.raises(ValueError, match=r"cotangent of shape \[1\] for the argument of shape "
                                         r"\[3\]") as raised:
        sg.grad(lambda x: np.sum(wrong_shape(x)), backend=REF)(X)     # THE CALL
    message = str(raised.value)
    assert isinstance(raised.value, sg.TracingError)
    assert "THE BAD RULE" in message and "THE CALL" in message

    not_a_tuple = sg.custom_vjp(lambda x, y: x * y)
    not_a_tuple.defvjp(lambda x, y: (x * y, None), lambda r, g: g)
    with pytest.raises(TypeError, match="tuple of 2 cotangent") as raised:
        sg.grad(lambda x: np.sum(not_a_tuple(x, x)), backend=REF)(X)
    assert isinstance(raised.value, sg.TracingError) and "test_custom_rules.py" in str(raised.value)

    wrong_structure = sg.custom_vjp(lambda p: p["a"] * 2)
    wrong_structure.defvjp(lambda p: (p["a"] * 2, None), lambda r, g: ((g * 2,),))
    with pytest.raises(TypeError, match="structure") as raised:
        sg.grad(lambda x: np.sum(wrong_structure({"a": x})), backend=REF)(X)
    assert isinstance(raised.value, sg.TracingError) and "test_custom_rules.py" in str(raised.value)

    wrong_dtype = sg.custom_vjp(lambda x: x * 2)
    wrong_dtype.defvjp(lambda x: (x * 2, None), lambda r, g: (g.astype(np.int64),))
    with pytest.raises(sg.TracingError, match="cotangent of dtype int64 for the argument of "
                                              "dtype float64") as raised:
        sg.grad(lambda x: np.sum(wrong_dtype(x)), backend=REF)(X)
    assert isinstance(raised.value, TypeError) and "test_custom_rules.py" in str(raised.value)

    bad_fwd = sg.custom_vjp(np.sin)
    bad_fwd.defvjp(lambda x: np.sin(x), lambda r, g: (g,))
    with pytest.raises(TypeError, match=r"must return a pair \(output, residuals\)"):
        sg.grad(lambda x: np.sum(bad_fwd(x)), backend=REF)(X)

    undefined = sg.custom_vjp(np.sin)
    with pytest.raises(AttributeError, match="No VJP defined"):
        sg.jit(undefined, backend=REF)(X)


def test_stop_gradient_blocks_derivatives_also_in_pytrees(backend):
    def loss(x):
        tree = sg.lax.stop_gradient({"a": x, "n": 3})
        return np.sum(x * tree["a"]) * tree["n"]
    assert_same(sg.grad(loss, backend=backend)(X), 3 * X)
    assert_same(sg.stop_gradient(X), X)
