"""The user-facing transformations: grad, value_and_grad, jit, vjp, trace, evaluate, and the
``sg.<name>`` functions of both doors (symgrad/public_functions.py).

Most tests run on the reference backend (the numpy interpreter); the ``backend`` fixture
repeats a test on the compiled numba backend too.
"""
import os

import numpy as np
import pytest

import symgrad as sg
from symgrad.core.graph import Graph

from conftest import assert_same

REF = "reference"


def mlp_loss(w1, w2, x, y):
    """The README's example: plain numpy, unmodified."""
    h = np.maximum(x @ w1, 0)
    return np.sum((h @ w2 - y) ** 2)


def mlp_data(dtype=np.float64):
    rng = np.random.default_rng(0)
    return [rng.standard_normal(shape).astype(dtype) for shape in [(5, 4), (4, 3), (6, 5), (6, 3)]]


def mlp_grads_by_hand(w1, w2, x, y):
    h = x @ w1
    h_relu = np.maximum(h, 0)
    grad_y = 2 * (h_relu @ w2 - y)
    grad_h = grad_y @ w2.T
    grad_h[h < 0] = 0
    return x.T @ grad_h, h_relu.T @ grad_y


# -- grad --------------------------------------------------------------------------------------
def test_grad_argnums_tuple_matches_hand_derivation(backend):
    args = mlp_data()
    dw1, dw2 = sg.grad(mlp_loss, argnums=(0, 1), backend=backend)(*args)
    hand_dw1, hand_dw2 = mlp_grads_by_hand(*args)
    np.testing.assert_allclose(dw1, hand_dw1, rtol=1e-10)
    np.testing.assert_allclose(dw2, hand_dw2, rtol=1e-10)


def test_grad_argnums_int_returns_one_gradient():
    args = mlp_data()
    dw2 = sg.grad(mlp_loss, argnums=1, backend=REF)(*args)
    assert isinstance(dw2, np.ndarray) and dw2.shape == (4, 3)
    np.testing.assert_allclose(dw2, mlp_grads_by_hand(*args)[1], rtol=1e-10)
    dx = sg.grad(mlp_loss, argnums=-2, backend=REF)(*args)    # negative like Python indexing
    assert dx.shape == (6, 5)


def test_grad_accepts_a_one_element_output():
    g = sg.grad(lambda w, x: x @ w, backend=REF)(np.array([2.0, 3.0]), np.array([[1.0, -1.0]]))
    assert_same(g, np.array([1.0, -1.0]))


def test_grad_as_decorator():
    @sg.grad
    def slope(x):
        return np.sum(x ** 3)

    assert slope.__name__ == "slope"
    assert_same(slope(np.array([1.0, 2.0])), np.array([3.0, 12.0]))


def test_grad_decorator_with_options():
    @sg.grad(argnums=1, backend=REF)
    def loss(x, w):
        return np.sum((x @ w) ** 2)

    x, w = np.ones((2, 3)), np.ones(3)
    assert_same(loss(x, w), 2 * (x @ w) @ x)


def test_value_and_grad(backend):
    args = mlp_data()
    value, (dw1, dw2) = sg.value_and_grad(mlp_loss, argnums=(0, 1), backend=backend)(*args)
    assert_same(value, np.asarray(mlp_loss(*args)), rtol=1e-12)
    np.testing.assert_allclose(dw1, mlp_grads_by_hand(*args)[0], rtol=1e-10)


def test_has_aux_returns_auxiliary_outputs_undifferentiated():
    def loss(w, x):
        prediction = x @ w
        return np.sum(prediction ** 2), {"prediction": prediction, "norm": np.sum(w * w)}

    w, x = np.array([1.0, -2.0]), np.array([[1.0, 0.0], [1.0, 1.0]])
    g, aux = sg.grad(loss, has_aux=True, backend=REF)(w, x)
    assert_same(g, 2 * (x @ w) @ x)
    assert_same(aux, {"prediction": x @ w, "norm": np.asarray(5.0)})
    (value, aux2), g2 = sg.value_and_grad(loss, has_aux=True, backend=REF)(w, x)
    assert_same(value, np.asarray(np.sum((x @ w) ** 2)))
    assert_same((aux2, g2), (aux, g))


def test_jit_forward_only(backend):
    args = mlp_data()
    fast = sg.jit(mlp_loss, backend=backend)
    assert_same(fast(*args), np.asarray(mlp_loss(*args)), rtol=1e-12)


def test_jit_decorator_returns_pytree_of_outputs(backend):
    @sg.jit(backend=backend)
    def stats(x):
        return {"mean": x.mean(axis=0), "range": (x.max(), x.min())}

    x = np.arange(6.0).reshape(3, 2)
    assert_same(stats(x), {"mean": x.mean(axis=0), "range": (np.asarray(5.0), np.asarray(0.0))})


# -- vjp ---------------------------------------------------------------------------------------
def test_vjp_pulls_back_a_seed_through_a_non_scalar_output(backend):
    def f(x, w):
        return np.tanh(x @ w)

    x, w = np.array([[0.1, 0.2], [0.3, -0.4], [0.5, 0.6]]), np.array([[1.0, -1.0], [0.5, 2.0]])
    out, pullback = sg.vjp(f, x, w, backend=backend)
    assert_same(out, f(x, w))
    seed = np.array([[1.0, 0.0], [0.0, 2.0], [3.0, 1.0]])
    gx, gw = pullback(seed)
    local = seed * (1 - np.tanh(x @ w) ** 2)
    np.testing.assert_allclose(gx, local @ w.T, rtol=1e-12)
    np.testing.assert_allclose(gw, x.T @ local, rtol=1e-12)


def test_vjp_with_ones_seed_equals_grad_of_sum():
    x = np.array([0.5, 1.0, 2.0])
    out, pullback = sg.vjp(lambda x: np.sin(x) * x, x, backend=REF)
    (gx,) = pullback(np.ones_like(out))
    assert_same(gx, sg.grad(lambda x: np.sum(np.sin(x) * x), backend=REF)(x))


def test_vjp_with_several_outputs_and_a_python_scalar():
    x = np.array([1.0, 2.0, 3.0])
    out, pullback = sg.vjp(lambda x, s: (x * s, np.sum(x)), x, 2.0, backend=REF)
    assert_same(out, (x * 2.0, np.asarray(6.0)))
    gx, gs = pullback((np.array([1.0, 0.0, 1.0]), np.asarray(10.0)))
    assert_same(gx, np.array([12.0, 10.0, 12.0]))
    assert_same(gs, np.asarray(4.0))


# -- higher order ----------------------------------------------------------------------------
def test_grad_of_grad_of_cube_is_6x(backend):
    second = sg.grad(sg.grad(lambda x: x ** 3, backend=backend), backend=backend)
    for x in [0.5, 2.0, -3.0]:
        assert_same(second(x), np.asarray(6 * x))
    assert_same(second(np.float64(2.0)), np.asarray(12.0))


def test_third_derivative_of_sin():
    third = sg.grad(sg.grad(sg.grad(np.sin, backend=REF), backend=REF), backend=REF)
    assert_same(third(0.7), np.asarray(-np.cos(0.7)))


def test_hessian_diagonal_of_a_vector_function_via_sum():
    def f(x):
        return np.sum(np.exp(x) * x ** 2)

    def df_sum(x):       # sum of the gradient: its gradient is the Hessian's row sums
        return np.sum(sg.grad(f)(x))

    x = np.array([0.1, 0.5, -1.0])
    expected = np.exp(x) * (x ** 2 + 4 * x + 2)   # f is separable: the Hessian is diagonal
    assert_same(sg.grad(df_sum, backend=REF)(x), expected, rtol=1e-12)


def test_inner_grad_does_not_differentiate_the_outer_variable():
    # d/dx [x * d/dy (x * y)] = d/dx [x * x] = 2x (no perturbation confusion)
    def outer(x):
        return x * sg.grad(lambda y: x * y)(1.0)

    assert_same(sg.grad(outer, backend=REF)(3.0), np.asarray(6.0))


# -- arguments: pytrees and Python scalars ---------------------------------------------------
def test_pytree_arguments_give_gradients_of_the_same_structure(backend):
    def loss(params, batch):
        x, y = batch
        h = np.tanh(x @ params["layers"][0]["w"] + params["layers"][0]["b"])
        out = h @ params["layers"][1]["w"] * params["scale"]
        return np.mean((out - y) ** 2)

    rng = np.random.default_rng(1)
    params = {"layers": [{"w": rng.standard_normal((3, 4)), "b": np.zeros(4)},
                         {"w": rng.standard_normal((4, 2))}],
              "scale": 0.5}
    batch = (rng.standard_normal((5, 3)), rng.standard_normal((5, 2)))
    g = sg.grad(loss, backend=backend)(params, batch)
    assert isinstance(g, dict) and isinstance(g["layers"], list) and len(g["layers"]) == 2
    assert g["layers"][0]["w"].shape == (3, 4) and g["layers"][0]["b"].shape == (4,)
    assert g["layers"][1]["w"].shape == (4, 2) and np.shape(g["scale"]) == ()
    # against central differences in one coordinate of each leaf
    eps = 1e-6
    for path in [("layers", 0, "w"), ("layers", 0, "b"), ("layers", 1, "w")]:
        leaf = params[path[0]][path[1]][path[2]]
        index = (0,) * leaf.ndim
        saved = leaf[index]
        leaf[index] = saved + eps
        up = loss(params, batch)
        leaf[index] = saved - eps
        down = loss(params, batch)
        leaf[index] = saved
        assert g[path[0]][path[1]][path[2]][index] == pytest.approx((up - down) / (2 * eps),
                                                                    rel=1e-6)

    gb = sg.grad(loss, argnums=1, backend=REF)(params, batch)
    assert isinstance(gb, tuple) and [a.shape for a in gb] == [(5, 3), (5, 2)]


def test_python_scalar_arguments():
    def f(x, scale, power):
        return np.sum(scale * x ** power)

    x = np.array([1.0, 2.0])
    assert_same(sg.grad(f, backend=REF)(x, 3.0, 2), 6.0 * x)
    assert_same(sg.grad(f, argnums=1, backend=REF)(x, 3.0, 2), np.asarray(5.0))
    assert_same(sg.grad(lambda s: s * s, backend=REF)(1.5), np.asarray(3.0))
    assert_same(sg.jit(f, backend=REF)(x, 3.0, 3), np.asarray(27.0))


def test_non_array_arguments_are_static():
    def f(x, mode):
        return np.sum(np.exp(x)) if mode == "exp" else np.sum(x * x)

    g = sg.grad(f, backend=REF)
    x = np.array([0.0, 1.0])
    assert_same(g(x, "exp"), np.exp(x))
    assert_same(g(x, "square"), 2 * x)


# -- caching per signature -------------------------------------------------------------------
def test_same_signature_does_not_retrace_a_new_one_does(backend):
    calls = []

    def loss(w, x):
        calls.append(w.shape)
        return np.sum((x @ w) ** 2)

    g = sg.grad(loss, backend=backend)
    w, x = np.ones(3), np.ones((4, 3))
    first = g(w, x)
    second = g(w * 2, x + 1)          # new values, same shapes and dtypes: cached
    assert len(calls) == 1
    assert_same(second, 2 * ((x + 1) @ (w * 2)) @ (x + 1))
    assert_same(first, 2 * (x @ w) @ x)
    g(w, np.ones((5, 3)))              # new shape: traced again
    assert len(calls) == 2
    g(w.astype(np.float32), x.astype(np.float32))   # new dtype: traced again
    assert len(calls) == 3
    g(w, np.ones((5, 3)))
    assert len(calls) == 3


def test_python_scalar_values_share_one_trace():
    calls = []

    def f(x, s):
        calls.append(1)
        return np.sum(x * s)

    jitted = sg.jit(f, backend=REF)
    assert_same(jitted(np.ones(2), 2.0), np.asarray(4.0))
    assert_same(jitted(np.ones(2), 5.0), np.asarray(10.0))
    assert len(calls) == 1
    jitted(np.ones(2), 5)                # an int is another signature
    assert len(calls) == 2


def test_pytree_structure_is_part_of_the_signature():
    calls = []

    def f(params):
        calls.append(1)
        return sum(np.sum(p) for p in params.values())

    jitted = sg.jit(f, backend=REF)
    jitted({"a": np.ones(2)})
    jitted({"a": np.zeros(2)})
    jitted({"b": np.ones(2)})
    jitted({"a": np.ones(2), "b": np.ones(2)})
    assert len(calls) == 3


# -- graphs ------------------------------------------------------------------------------------
def traced_body(x, w):
    h = np.exp(x @ w)                # the line recorded on the exp and matmul nodes
    return np.sum(h)


EXP_LINE = traced_body.__code__.co_firstlineno + 1


def test_trace_returns_a_graph_of_the_expected_ops():
    x, w = np.ones((2, 3)), np.ones(3)
    graph = sg.trace(traced_body, x, w)
    assert isinstance(graph, Graph)
    order = graph.topological_order()
    assert [graph.op(n) for n in order] == ["input", "input", "reshape", "matmul", "reshape",
                                            "exp", "sum"]
    assert [graph[n]["name"] for n in graph.inputs] == ["x", "w"]
    (out,) = graph.outputs
    assert graph[out]["shape"] == () and graph[out]["dtype"] == "float64"
    matmul = next(n for n in order if graph.op(n) == "matmul")
    assert graph[matmul]["shape"] == (2, 1)
    assert graph.nx.number_of_nodes() == len(graph)       # networkx underneath


def test_edge_keys_are_argument_positions():
    graph = sg.trace(lambda a, b: a - b, np.ones(2), np.ones(2))
    (sub,) = graph.outputs
    assert graph.operands(sub) == graph.inputs
    flipped = sg.trace(lambda a, b: b - a, np.ones(2), np.ones(2))
    assert flipped.operands(flipped.outputs[0]) == flipped.inputs[::-1]


def test_structural_hash_is_stable_and_tracks_structure():
    x, w = np.ones((2, 3)), np.ones(3)
    first = sg.trace(traced_body, x, w).structural_hash()
    assert first == sg.trace(traced_body, x, w).structural_hash()
    assert first == sg.trace(traced_body, x + 1, w * 3).structural_hash()   # values don't matter
    assert first != sg.trace(traced_body, np.ones((4, 3)), w).structural_hash()
    assert first != sg.trace(traced_body, x.astype(np.float32), w.astype(np.float32)) \
        .structural_hash()
    assert first != sg.trace(lambda x, w: np.sum(np.sin(x @ w)), x, w).structural_hash()


def test_evaluate_is_the_reference_interpreter():
    x, w = np.arange(6.0).reshape(2, 3) / 10, np.array([1.0, -1.0, 0.5])
    graph = sg.trace(traced_body, x, w)
    (value,) = sg.evaluate(graph, [x, w])
    assert_same(value, np.asarray(traced_body(x, w)))


def test_forward_nodes_record_the_user_source_line():
    graph = sg.trace(traced_body, np.ones((2, 3)), np.ones(3))
    for node in graph.nodes():
        if graph.op(node) in ("matmul", "exp"):
            filename, _, line = graph[node]["source"].rpartition(":")
            assert os.path.basename(filename) == "test_api.py"
            assert int(line) == EXP_LINE


def test_gradient_graph_nodes_carry_grad_of():
    x, w = np.ones((2, 3)), np.ones(3)
    graph = sg.grad(traced_body, argnums=1, backend=REF).trace(x, w)
    assert isinstance(graph, Graph)
    by_op = {}
    for node in graph.nodes():
        by_op.setdefault(graph.op(node), []).append(node)
    (exp,) = by_op["exp"]
    assert "grad_of" not in graph[exp]
    gradient_nodes = [n for n in graph.nodes() if "grad_of" in graph[n]]
    # d/dh of exp is g * exp(x @ w): a mul produced by the exp node's VJP
    assert any(graph.op(n) == "mul" and graph[n]["grad_of"] == exp for n in gradient_nodes)
    # the gradient of the matmul is another matmul, tagged with the forward matmul
    forward_matmul = next(n for n in by_op["matmul"] if "grad_of" not in graph[n])
    assert any(graph.op(n) == "matmul" and graph[n]["grad_of"] == forward_matmul
               for n in gradient_nodes)
    # every tag names a forward node of the same graph
    assert all(graph[n]["grad_of"] in graph and "grad_of" not in graph[graph[n]["grad_of"]]
               for n in gradient_nodes)
    (out,) = graph.outputs
    assert graph[out]["shape"] == (3,)
    assert_same(sg.evaluate(graph, [x, w])[0], np.exp(x @ w) @ x)


def test_graph_listing_is_readable():
    text = str(sg.trace(lambda x: np.exp(x) * 2.0, np.ones(3)))
    assert "exp x" in text and "mul" in text and "f64[3]" in text


# -- check_grad ----------------------------------------------------------------------------------
def test_check_grad_reports_the_largest_error_of_each_order():
    report = sg.check_grad(lambda x, y: np.tanh(x @ y), np.array([[0.1, -0.2], [0.3, 0.4]]),
                           np.array([0.5, -1.0]), order=2, backend=REF)
    assert report.order == 2 and report.max_error < 1e-5
    assert str(report).startswith("order-2 gradient check: largest error")


class WrongCubeRule:
    """A user-given derivative with a mistake: 2x² instead of 3x²."""

    def __call__(self, position, g, out, value, x):
        return g * 2 * x * x

    def __eq__(self, other):
        return isinstance(other, WrongCubeRule)

    def __hash__(self):
        return hash(WrongCubeRule)


def wrong_cube(x):
    if not isinstance(x, sg.Tracer):
        return x ** 3
    from symgrad.core.tracing import bind
    return bind("custom_vjp", x ** 3, x, rule=WrongCubeRule())


def test_check_grad_finds_a_wrong_derivative_and_says_where():
    x = np.array([0.5, 2.0, 1.0])
    with pytest.raises(AssertionError) as info:
        sg.check_grad(lambda x: np.sum(wrong_cube(x)), x, backend=REF)
    message = str(info.value)
    assert "order-1 gradient check" in message
    assert "argument 0 index (1,)" in message          # the largest error: x = 2.0
    analytic, numeric = (float(message.split(word)[1].split(",")[0].strip(" )"))
                         for word in ("symgrad", "numeric"))
    assert analytic / numeric == pytest.approx(2 / 3, rel=1e-5)


def test_transforming_the_same_function_again_reuses_the_compiled_function():
    def loss(w):
        return np.sum(w * w)
    assert sg.grad(loss) is sg.grad(loss)
    assert sg.value_and_grad(loss, argnums=0) is sg.value_and_grad(loss, argnums=0)
    assert sg.grad(loss, backend="reference") is not sg.grad(loss)
    first = sg.grad(loss)
    first(np.ones(3))
    assert len(sg.grad(loss).cache) == 1


def test_the_reference_backend_runs_without_importing_the_compiler_or_numba():
    import subprocess
    import sys
    code = ("import sys, numpy as np, symgrad as sg\n"
            "g = sg.grad(lambda x: np.sum(np.tanh(x) ** 2), backend='reference')(np.ones(3))\n"
            "print(round(float(g[0]), 6), 'numba' in sys.modules, 'symgrad.compiler' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    expected = round(float(2 * np.tanh(1.0) * (1 - np.tanh(1.0) ** 2)), 6)
    assert out.stdout.split() == [str(expected), "False", "False"]


def test_check_grad_fails_on_a_nan_gradient():
    def sqrt_at_zero(x):            # d/dx sqrt(x) at 0 is inf; times 0 gives NaN
        return np.sum(np.sqrt(x * x) * 0.0 + np.sqrt(x) * 0.0)
    with pytest.raises(AssertionError, match="largest error inf"):
        sg.check_grad(sqrt_at_zero, np.array([0.0, 1.0]), order=1)
