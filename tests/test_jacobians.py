"""Jacobians, Hessians and products (symgrad/jacobians.py, symgrad/products.py): jacfwd ==
jacrev, shapes out.shape + in.shape and pytree structure as in JAX, Hessians symmetric and
equal to finite differences, Hessian-vector products equal to H @ v, and the ideas of HIPS
autograd's tests/test_jacobian.py and test_wrappers.py."""
import numpy as np
import pytest

import symgrad as sg

from conftest import assert_same

REF = "reference"
RNG = np.random.default_rng(0)
X = RNG.uniform(-1, 1, 4)
A = RNG.standard_normal((3, 4))


def vector_fn(x):
    return np.tanh(A @ x) * np.sum(x ** 2)


def scalar_fn(x):
    return np.sum(np.sin(x) * np.exp(x[::-1])) + np.prod(x[:2])


def numeric_jacobian(fn, x, eps=1e-6):
    columns = []
    for j in range(x.size):
        step = np.zeros(x.size)
        step[j] = eps
        step = step.reshape(x.shape)
        columns.append((np.asarray(fn(x + step)) - np.asarray(fn(x - step))) / (2 * eps))
    return np.stack(columns, axis=-1).reshape(np.shape(fn(x)) + x.shape)


def test_jacfwd_equals_jacrev_equals_finite_differences(backend):
    forward = sg.jacfwd(vector_fn, backend=backend)(X)
    reverse = sg.jacrev(vector_fn, backend=backend)(X)
    assert forward.shape == reverse.shape == (3, 4)
    assert_same(forward, reverse, rtol=1e-10, atol=1e-12)
    assert_same(reverse, numeric_jacobian(vector_fn, X), rtol=1e-6, atol=1e-8)


def test_jacobian_pytrees_and_argnums_follow_jax():
    def fn(params, x):
        return {"y": params["w"] @ x, "s": (np.sum(params["b"] * x[:2]),)}
    params = {"w": A, "b": np.array([1.0, 2.0])}
    for transform in (sg.jacrev, sg.jacfwd):
        jac = transform(fn, argnums=(0, 1), backend=REF)(params, X)
        assert jac["y"][0]["w"].shape == (3, 3, 4) and jac["y"][1].shape == (3, 4)
        assert jac["s"][0][0]["b"].shape == (2,) and jac["s"][0][1].shape == (4,)
        assert_same(jac["y"][1], A)
        assert_same(jac["s"][0][0]["b"], X[:2])
        assert_same(jac["y"][0]["b"], np.zeros((3, 2)))


def test_hessian_is_symmetric_and_matches_finite_differences(backend):
    hessian = sg.hessian(scalar_fn, backend=backend)(X)
    assert hessian.shape == (4, 4)
    assert_same(hessian, hessian.T, rtol=1e-10, atol=1e-12)
    gradient = sg.grad(scalar_fn, backend=REF)
    assert_same(hessian, numeric_jacobian(gradient, X), rtol=1e-6, atol=1e-7)


def test_hessian_of_a_quadratic_form():
    h = RNG.standard_normal((5, 5))
    assert_same(sg.hessian(lambda x: x @ h @ x, backend=REF)(RNG.standard_normal(5)), h + h.T,
                rtol=1e-12, atol=1e-12)


def test_hvp_equals_hessian_times_vector_without_the_hessian(backend):
    v = RNG.standard_normal(4)
    hessian = sg.hessian(scalar_fn, backend=REF)(X)
    assert_same(sg.hvp(scalar_fn, (X,), (v,), backend=backend), hessian @ v, rtol=1e-10,
                atol=1e-12)
    assert_same(sg.hessian_vector_product(scalar_fn, backend=REF)(X, v), hessian @ v,
                rtol=1e-10, atol=1e-12)
    product, gradient = sg.make_hvp(scalar_fn, backend=REF)(X)
    assert_same(product(v), hessian @ v, rtol=1e-10, atol=1e-12)
    assert_same(gradient, sg.grad(scalar_fn, backend=REF)(X))
    # the product's graph holds no (n, n) array
    graph = sg.grad(sg.products._DotTangents(scalar_fn, 1), argnums=0).trace(X, v)
    assert all(graph[n]["shape"] != (4, 4) for n in graph.nodes())


def test_hessian_tensor_products_as_autograd():
    fun = lambda a: np.sum(np.sin(a))   # noqa: E731
    a, tensor = RNG.standard_normal((3, 2)), RNG.standard_normal((3, 2))
    hessian = sg.hessian(fun, backend=REF)(a)
    assert hessian.shape == (3, 2, 3, 2)
    assert_same(sg.hessian_vector_product(fun, backend=REF)(a, tensor),
                np.tensordot(hessian, tensor),
                rtol=1e-10, atol=1e-12)


def test_vector_and_tensor_jacobian_products_as_autograd():
    fun = lambda a: np.roll(np.sin(a), 1)   # noqa: E731  (an asymmetric Jacobian)
    a = RNG.standard_normal((3, 2, 2))
    jacobian = sg.jacobian(fun, backend=REF)(a)
    for tensor in (RNG.standard_normal((3, 2, 2)), RNG.standard_normal((3, 2))):
        expected = np.tensordot(tensor, jacobian, axes=tensor.ndim)
        assert_same(sg.vector_jacobian_product(fun, backend=REF)(a, tensor), expected,
                    rtol=1e-10, atol=1e-12)


def test_autograd_jacobian_ideas():
    fun = lambda x: np.sum(np.sin(x), axis=1, keepdims=True)   # noqa: E731
    a = RNG.standard_normal((1, 3))
    assert np.allclose(sg.grad(fun, backend=REF)(a), sg.jacobian(fun, backend=REF)(a))
    val = 0.7
    assert_same(sg.jacobian(lambda x: np.array([x, x ** 2, x ** 3]), backend=REF)(val),
                np.array([1.0, 2 * val, 3 * val ** 2]))
    scalar_funs = [lambda x: np.sum(x ** 3), lambda x: np.prod(np.sin(x) + np.sin(x)),
                   lambda x: sg.grad(lambda y: np.exp(y) * np.tanh(x[0]))(x[1])]
    x = RNG.standard_normal(5)
    jac = sg.jacobian(lambda x: np.array([f(x) for f in scalar_funs]), backend=REF)(x)
    assert np.allclose(jac, np.vstack([sg.grad(f, backend=REF)(x) for f in scalar_funs]))
    higher = lambda x: np.sin(np.outer(x, x)) + np.cos(np.dot(x, x))   # noqa: E731
    x = RNG.standard_normal(2)
    assert sg.jacobian(higher, backend=REF)(x).shape == (2, 2, 2)
    assert sg.jacobian(sg.jacobian(higher), backend=REF)(x).shape == (2, 2, 2, 2)
    first = sg.jacobian(higher, backend=REF)
    sg.check_grad(lambda x: np.sum(np.sin(first(x))), x, backend=REF)
    second = sg.jacobian(sg.jacobian(higher), backend=REF)
    sg.check_grad(lambda x: np.sum(np.sin(second(x))), x, order=1, backend=REF)


def test_autograd_wrappers():
    sg.check_grad(sg.elementwise_grad(lambda a: a + np.sin(a) + np.cosh(a), backend=REF),
                  RNG.standard_normal(4), backend=REF)
    b = RNG.standard_normal(6)
    elementwise = sg.elementwise_grad(lambda a, b: a + np.sin(a) + np.cosh(b), 1, backend=REF)
    assert_same(elementwise(0.9, b), np.sinh(b))
    assert_same(sg.grad_named(lambda x, y: x * y ** 2, "y", backend=REF)(2.0, 3.0),
                np.asarray(12.0))
    gradient, aux = sg.grad_and_aux(lambda x: (np.sum(x ** 2), "aux"), backend=REF)(np.ones(2))
    assert_same(gradient, 2 * np.ones(2)) and aux == "aux"
    assert_same(sg.deriv(np.sin, backend=REF)(np.zeros(3)), np.ones(3))
    pullback, value = sg.make_vjp(lambda a, x: a * np.sin(x), 1, backend=REF)(2.0, np.zeros(2))
    assert_same(pullback(np.ones(2)), 2 * np.ones(2))
    f = lambda w: np.tanh(A @ w)   # noqa: E731
    jac = sg.jacobian(f, backend=REF)(X)
    v = RNG.standard_normal(4)
    assert_same(sg.make_ggnvp(f, backend=REF)(X)(v), jac.T @ jac @ v, rtol=1e-10, atol=1e-12)


def test_jacobians_compose_with_jit_grad_and_has_aux():
    jac_norm = sg.jit(lambda x: np.sum(sg.jacrev(vector_fn)(x) ** 2))
    assert np.isclose(jac_norm(X), np.sum(sg.jacrev(vector_fn, backend=REF)(X) ** 2))
    sg.check_grad(lambda x: np.sum(sg.jacfwd(vector_fn)(x) ** 2), X, order=1, backend=REF)
    jac, aux = sg.jacrev(lambda x: (x * 2, {"n": x.sum()}), has_aux=True, backend=REF)(X)
    assert_same(jac, 2 * np.eye(4)) and np.isclose(aux["n"], X.sum())


@pytest.mark.parametrize("transform", [sg.jacrev, sg.jacfwd])
def test_jacobian_of_integer_outputs_and_empty_arguments(transform):
    jac = transform(lambda x: (np.argmax(x), x[:0] * 2), backend=REF)(X)
    assert jac[0].shape == (4,) and not jac[0].any()
    assert jac[1].shape == (0, 4)
