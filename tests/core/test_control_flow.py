"""sg.fori_loop / scan / while_loop / cond / switch (symgrad/core/ops/control_nodes.py, the
CPU's compiler/cpu/control_flow.py and function_source.py): values against Python loops,
gradients against the unrolled program and numeric ones, compiled == reference, bad input;
forward mode through a while loop without max_trips (symgrad/core/ops/control_forward.py, by
symgrad/core/transposition.py) against finite differences."""
import numpy as np
import pytest

import symgrad as sg

REF = {"backend": "reference"}


def body(i, c, w):
    return np.sin(c) * w + 0.1 * i


def looped(w, x):
    return np.sum(sg.fori_loop(0, 4, lambda i, c: body(i, c, w), x))


def unrolled(w, x):
    c = x
    for i in range(4):
        c = body(i, c, w)
    return np.sum(c)


W, X = np.array([0.7, -0.4]), np.array([0.3, 1.2])


def test_fori_loop_values_and_gradients_equal_the_unrolled_ones():
    assert np.allclose(sg.jit(looped, **REF)(W, X), unrolled(W, X))
    for argnum in (0, 1):
        assert np.allclose(sg.grad(looped, argnum, **REF)(W, X), sg.grad(unrolled, argnum, **REF)(W, X))
    sg.check_grad(looped, W, X, backend="reference")


def test_second_order_and_jvp_through_fori_loop():
    f = lambda x: sg.fori_loop(0, 3, lambda i, c: np.sin(c) * x, x)   # noqa: E731

    def g(x):
        c = x
        for _ in range(3):
            c = np.sin(c) * x
        return c
    assert np.allclose(sg.grad(sg.grad(f, **REF), **REF)(0.7), sg.grad(sg.grad(g, **REF), **REF)(0.7))
    _, tangent = sg.jvp(f, (0.7,), (1.0,))
    assert np.allclose(tangent, sg.grad(g, **REF)(0.7))


def test_scan_with_pytrees_reverse_and_gradients():
    def f(w, xs):
        def step(carry, x):
            h, n = carry
            h = np.tanh(h * w["a"] + x)
            return (h, n + 1), {"h": h, "s": np.sum(h)}
        (h, n), ys = sg.scan(step, (np.zeros(2), 0), xs, reverse=True)
        return np.sum(h) + np.sum(ys["h"]) + np.sum(ys["s"] ** 2), n

    def g(w, xs):
        h, total = np.zeros(2), 0.0
        for x in xs[::-1]:
            h = np.tanh(h * w["a"] + x)
            total = total + np.sum(h) + np.sum(h) ** 2
        return np.sum(h) + total
    w, xs = {"a": np.array([0.5, -0.3])}, np.random.default_rng(0).normal(size=(3, 2))
    value, n = sg.jit(f, **REF)(w, xs)
    assert np.allclose(value, g(w, xs)) and int(n) == 3
    grads = sg.grad(lambda w, xs: f(w, xs)[0], (0, 1), **REF)(w, xs)
    expected = sg.grad(g, (0, 1), **REF)(w, xs)
    assert np.allclose(grads[0]["a"], expected[0]["a"]) and np.allclose(grads[1], expected[1])


def test_while_loop_and_its_gradient_with_max_trips():
    f = lambda x: sg.while_loop(lambda c: c < 10.0, lambda c: c * x, 1.0, max_trips=20)  # noqa: E731
    assert sg.jit(f, **REF)(1.5) == f(1.5) == 1.5 ** 6
    assert np.isclose(sg.grad(f, **REF)(1.5), 6 * 1.5 ** 5)
    with pytest.raises(sg.TracingError, match="max_trips") as error:
        sg.grad(lambda x: sg.while_loop(lambda c: c < 10.0, lambda c: c * x, 1.0), **REF)(1.5)
    assert "test_control_flow.py" in str(error.value)


def test_cond_and_switch_take_one_branch_and_clamp_the_index():
    c = lambda x: sg.cond(np.sum(x) > 0, lambda a: np.sin(a) * 2, np.cos, x)  # noqa: E731
    x = np.array([0.3, -0.1])
    assert np.allclose(sg.jit(c, **REF)(x), 2 * np.sin(x))
    assert np.allclose(sg.grad(lambda x: np.sum(c(x)), **REF)(-x), np.sin(x))
    branches = [lambda a: a + 1.0, lambda a: a * a, np.exp]
    s = sg.jit(lambda i, x: sg.switch(i, branches, x), **REF)
    for i, k in ((-3, 0), (1, 1), (9, 2)):
        assert np.allclose(s(i, x), branches[k](x))


def test_compiled_equals_reference():
    """One compile each: a gradient through a scan, a while, a switch in a loop."""
    def f(w, x):
        def step(i, c):
            return sg.cond(i % 2 == 0, lambda a: np.tanh(a * w), lambda a: a + w, c)
        c = sg.fori_loop(0, 5, step, x)
        return np.sum(sg.while_loop(lambda d: np.sum(d) < 50.0, lambda d: d * 2.0, c * c + 1.0,
                                    max_trips=10))
    source = sg.jit(f).compiled(W, X).source
    assert "for step" in source and "while " in source and "if k" in source
    assert "for step" in sg.grad(f).compiled(W, X).source   # the gradient: reverse loops
    assert np.allclose(sg.jit(f)(W, X), sg.jit(f, **REF)(W, X))
    assert np.allclose(sg.grad(f)(W, X), sg.grad(f, **REF)(W, X))


def test_listing_and_picture_show_bodies_as_nested_graphs():
    graph = sg.trace(lambda x: sg.fori_loop(0, 3, lambda i, c: np.sin(c) * x, x), 1.0)
    assert "body = { lambda" in graph.listing() and "sin" in graph.listing()
    assert 'subgraph "cluster_n' in sg.viz.to_dot(graph)


@pytest.mark.parametrize("fn, message", [
    (lambda x: sg.fori_loop(0, 3, lambda i, c: np.concatenate([c, c]), x), r"float64\[4\] out"),
    (lambda x: sg.fori_loop(0, 3, lambda i, c: c.astype(np.float32), x), r"float32\[2\] out"),
    (lambda x: sg.cond(x[0] > 0, lambda a: a, lambda a: a[:1], x), "same structure, shapes"),
    (lambda x: sg.scan(lambda c, y: c, 0.0, x), "pair"),
    (lambda x: sg.while_loop(lambda c: c, lambda c: c + 1, 0.0), "boolean scalar"),
    (lambda x: sg.switch(x[0], [lambda a: a], x), "integer scalar"),
])
def test_bad_input_names_the_line(fn, message):
    with pytest.raises(sg.TracingError, match=message) as error:
        sg.jit(fn, **REF)(np.ones(2))
    assert "test_control_flow.py" in str(error.value)


def test_python_loops_outside_a_trace_and_lax_names():
    assert sg.lax.fori_loop(0, 4, lambda i, t: t + i, 0) == 6
    assert sg.lax.while_loop(lambda n: n < 10, lambda n: n * 2, 1) == 16
    carry, ys = sg.lax.scan(lambda c, x: (c + x, c), 0.0, np.arange(3.0))
    assert carry == 3.0 and np.allclose(ys, [0, 0, 1])


def test_a_train_step_with_a_loop_inside():
    w = np.array([0.5, 0.5])
    x, y = np.ones((8, 2)), np.zeros(8)

    def loss(w, x, y):
        h = sg.fori_loop(0, 2, lambda i, h: np.tanh(h), x @ w)
        return np.mean((h - y) ** 2)
    step = sg.jit(lambda w, x, y: w - 0.1 * sg.grad(loss)(w, x, y))
    new = step(w, x, y)
    assert np.all(new < w) and np.allclose(new, w - 0.1 * sg.grad(loss, **REF)(w, x, y))


def test_sg_train_compiles_a_step_with_a_loop_inside():
    def loss(w, x, y):
        return (sg.fori_loop(0, 2, lambda i, h: np.tanh(h), x * w) - y) ** 2

    def step(w, x, y):
        value, g = sg.value_and_grad(loss)(w, x, y)
        return w - 0.1 * g, value
    x, y = np.array([1.0, 2.0, 3.0]), np.array([0.5, 0.6, 0.7])
    w, history = sg.train(step, 1.0, data=(x, y), epochs=2, progress=False)
    expected = 1.0
    for _ in range(2):
        for xi, yi in zip(x, y):
            expected = expected - 0.1 * sg.grad(loss, **REF)(expected, xi, yi)
    assert np.isclose(float(w), float(expected)) and len(history) == 6


def unbounded(x):
    """A while loop with no max_trips: its trip count depends on x."""
    return sg.while_loop(lambda c: np.sum(c[1]) < 10.0,
                         lambda c: (c[0] + 1, np.sin(c[1]) * x + c[1] * 1.3), (0, x))[1]


def central_difference(f, x, t, eps=1e-6):
    return (f(x + eps * t) - f(x - eps * t)) / (2 * eps)


def test_forward_mode_through_a_while_loop_without_max_trips():
    x, t = np.array([0.5, 1.0]), np.array([1.0, -0.3])
    out, tangent = sg.jvp(unbounded, (x,), (t,), **REF)
    assert np.allclose(out, unbounded(x)) and np.allclose(tangent, central_difference(unbounded, x, t))
    assert np.allclose(sg.jacfwd(unbounded, **REF)(x), np.stack(
        [central_difference(unbounded, x, e) for e in np.eye(2)], axis=1))
    directional = lambda a: sg.jvp(unbounded, (a,), (t,), **REF)[1]  # noqa: E731
    assert np.allclose(sg.jvp(directional, (x,), (t,), **REF)[1],
                       central_difference(directional, x, t, 1e-5), rtol=1e-5)
    xs = np.stack([x, 2 * x])
    assert np.allclose(sg.vmap(directional, **REF)(xs), [directional(row) for row in xs])
    nested = lambda a: sg.fori_loop(0, 2, lambda i, c: sg.while_loop(  # noqa: E731
        lambda d: np.sum(d) < 5.0, lambda d: d * 1.5 + a, c), a)
    assert np.allclose(sg.jvp(nested, (x,), (t,), **REF)[1], central_difference(nested, x, t))
    assert np.allclose(sg.jvp(unbounded, (x,), (t,))[1], tangent)        # compiled
    with pytest.raises(sg.TracingError, match="max_trips"):
        sg.grad(lambda a: np.sum(unbounded(a)), **REF)(x)
