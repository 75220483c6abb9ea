"""sg.vmap (symgrad/vmap.py): JAX's in_axes/out_axes/axis_size semantics, composition with
grad, jit and itself, the ``batched`` tags of listings, and clear errors for bad in_axes."""
import numpy as np
import pytest

import symgrad as sg

from conftest import assert_same

REF = "reference"
RNG = np.random.default_rng(0)
W, X = RNG.uniform(-1, 1, (3, 2)), RNG.uniform(-1, 1, (5, 3))


def loss(w, x):
    return np.sum(np.tanh(x @ w) ** 2)


def test_in_axes_out_axes_and_negative_axes():
    x = RNG.uniform(size=(3, 4, 5))
    assert_same(sg.vmap(lambda a: a * 2, in_axes=-1, out_axes=1, backend=REF)(x),
                np.moveaxis(x, -1, 1) * 2)
    tree = {"a": x, "b": x[0]}
    out = sg.vmap(lambda t: t["a"].sum() + t["b"].sum(), in_axes=({"a": 0, "b": None},),
                  backend=REF)(tree)
    assert_same(out, x.sum(axis=(1, 2)) + x[0].sum())
    assert_same(sg.vmap(lambda: np.ones(2), axis_size=3, backend=REF)(), np.ones((3, 2)))


def test_nested_vmap_equals_a_double_loop():
    a, b = RNG.uniform(size=(2, 3, 4)), RNG.uniform(size=(3, 4))
    f = lambda u, v: np.sum(u * v) + np.max(u)
    out = sg.vmap(sg.vmap(f), in_axes=(0, None), backend=REF)(a, b)
    assert_same(out, np.array([[f(a[i, j], b[j]) for j in range(3)] for i in range(2)]))


def test_per_example_gradients_are_one_compiled_graph():
    per_example = sg.vmap(sg.grad(loss), in_axes=(None, 0))
    expected = np.stack([sg.grad(loss, backend=REF)(W, x) for x in X])
    assert_same(per_example(W, X), expected)
    graph = sg.trace(per_example, W, X)
    assert "getitem" not in {graph.op(n) for n in graph.nodes()}   # no per-example slices
    # products with the shared weights are single GEMMs, the weight gradients' outer
    # products one broadcast multiply: no stack of per-example products
    assert not [n for n in graph.nodes() if graph.op(n) == "matmul" and len(graph[n]["shape"]) > 2]
    assert "batched over 5" in graph.listing(show_sources=True)


def test_grad_of_vmap_and_vmap_inside_jit():
    batch_loss = lambda w, x: np.sum(sg.vmap(loss, in_axes=(None, 0))(w, x))
    assert_same(sg.grad(batch_loss, backend=REF)(W, X), sg.grad(
        lambda w, x: sum(loss(w, row) for row in x), backend=REF)(W, X))
    sg.check_grad(batch_loss, W, X, order=2, backend=REF)
    assert_same(sg.jit(lambda w, x: sg.vmap(loss, in_axes=(None, 0))(w, x) * 2)(W, X),
                2 * np.array([loss(W, x) for x in X]))


@pytest.mark.parametrize("in_axes, args, message", [
    ((0, 0, 0), (W, X), "tuple of entries corresponding to the positional arguments"),
    ((None, 2), (W, X), "rank should be at least 3"),
    (0, (W, X), "inconsistent sizes"),
    (({"a": 0},), ((W,),), "tree prefix"),
])
def test_bad_in_axes_name_the_users_line(in_axes, args, message):
    with pytest.raises(sg.TracingError, match=message) as error:
        sg.vmap(loss if len(args) == 2 else (lambda t: t[0]), in_axes, backend=REF)(*args)
    assert "test_vmap.py" in str(error.value)


def test_torch_func_names():
    import symgrad.func as func
    f = lambda x: np.sum(np.sin(x))
    x = np.array([0.1, 0.2])
    assert_same(func.vmap(func.grad(f, backend=REF), in_dims=0, backend=REF)(np.stack([x, 2 * x])),
                np.cos(np.stack([x, 2 * x])))
    gradient, value = func.grad_and_value(f, backend=REF)(x)
    assert_same((gradient, value), (np.cos(x), f(x)))
    assert_same(func.jacrev(np.sin, backend=REF)(x), func.jacfwd(np.sin, backend=REF)(x))
    assert_same(func.hessian(f, backend=REF)(x), np.diag(-np.sin(x)))
    assert_same(func.jvp(np.sin, (x,), (np.ones(2),), backend=REF)[1], np.cos(x))
    assert_same(func.vjp(np.sin, x, backend=REF)[1](np.ones(2)), (np.cos(x),))
