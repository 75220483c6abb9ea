"""sg.jvp, sg.linearize and autograd's make_jvp (symgrad/forward_mode.py): pytrees, nesting
with grad and jit, compiled code, the tangent_of tags of the graph views, and JAX's errors.
Every op's forward mode is checked in tests/core/test_forward_mode_ops.py."""
import numpy as np
import pytest

import symgrad as sg

from conftest import assert_same

REF = "reference"
X = np.random.default_rng(0).uniform(0.5, 1.5, (3, 2))
V = np.random.default_rng(1).standard_normal((3, 2))


def model(params, x):
    return {"loss": np.sum(np.tanh(x @ params["w"]) ** 2), "h": (np.exp(params["b"]) * 2,)}


PARAMS = {"w": np.ones((2, 2)) * 0.3, "b": np.array([0.1, -0.2])}
TANGENTS = {"w": np.array([[1.0, 0.5], [-0.5, 2.0]]), "b": np.array([1.0, 3.0])}


def numeric_jvp(fn, primals, tangents, eps=1e-6):
    plus = fn(*[p + eps * t for p, t in zip(primals, tangents)])
    minus = fn(*[p - eps * t for p, t in zip(primals, tangents)])
    return sg.tree_util.tree_map(lambda a, b: (a - b) / (2 * eps), plus, minus)


def test_jvp_of_pytrees_matches_numeric_directional_derivative(backend):
    def of_leaves(w, b):
        return model({"w": w, "b": b}, X)
    out, tangent = sg.jvp(model, (PARAMS, X), (TANGENTS, np.zeros_like(X)), backend=backend)
    assert_same(out, model(PARAMS, X))
    expected = numeric_jvp(of_leaves, (PARAMS["w"], PARAMS["b"]), (TANGENTS["w"], TANGENTS["b"]))
    assert_same(tangent, expected, rtol=1e-6, atol=1e-8)


def test_jvp_has_aux_and_python_scalars():
    out, tangent, aux = sg.jvp(lambda x, y: (x * y, {"note": "kept", "y": y}), (2.0, 3.0),
                               (1.0, 0.0), has_aux=True, backend=REF)
    assert (float(out), float(tangent)) == (6.0, 3.0)
    assert aux["note"] == "kept" and float(aux["y"]) == 3.0


def test_jvp_nests_inside_grad_and_jit(backend):
    def directional(x):
        return sg.jvp(lambda y: np.sum(np.sin(y) ** 2), (x,), (V,), backend=backend)[1]
    # d/dx of the directional derivative = the Hessian times V
    hessian_v = sg.grad(directional, backend=backend)(X)
    assert_same(hessian_v, 2 * np.cos(2 * X) * V, rtol=1e-9, atol=1e-12)
    assert_same(sg.jit(directional, backend=backend)(X), np.sum(np.sin(2 * X) * V))
    # grad inside jvp: forward over reverse
    _, hv = sg.jvp(sg.grad(lambda y: np.sum(np.sin(y) ** 2), backend=backend), (X,), (V,),
                   backend=backend)
    assert_same(hv, 2 * np.cos(2 * X) * V, rtol=1e-9, atol=1e-12)


def test_jvp_of_jvp_is_a_second_directional_derivative():
    def first(x):
        return sg.jvp(np.exp, (x,), (V,), backend=REF)[1]
    _, second = sg.jvp(first, (X,), (V,), backend=REF)
    assert_same(second, np.exp(X) * V * V, rtol=1e-9, atol=1e-12)


def test_linearize_and_make_jvp():
    out, f_jvp = sg.linearize(np.sin, X, backend=REF)
    assert_same(out, np.sin(X))
    assert_same(f_jvp(V), np.cos(X) * V)
    assert_same(f_jvp(2 * V), 2 * np.cos(X) * V)
    value, tangent = sg.make_jvp(lambda a, x: np.sum(a * np.sin(x)), 1)(2.0, X)(V)
    assert_same(tangent, np.sum(2.0 * np.cos(X) * V))


def test_jvp_compiles_once_per_signature():
    fn = lambda x: np.sum(np.exp(x) * x)   # noqa: E731
    first = sg.jvp(fn, (X,), (V,))
    second = sg.jvp(fn, (X + 1,), (V,))
    assert_same(first[1], np.sum((np.exp(X) * X + np.exp(X)) * V))
    assert_same(second[1], np.sum((np.exp(X + 1) * (X + 1) + np.exp(X + 1)) * V))


def test_tangent_nodes_are_tagged_with_their_forward_node():
    fn = lambda x: np.sum(np.sin(x) * x)   # noqa: E731
    graph = sg.trace(lambda x, v: sg.jvp(fn, (x,), (v,)), X, V)
    tagged = [n for n in graph.nodes() if "tangent_of" in graph[n]]
    assert tagged and all(graph.op(graph[n]["tangent_of"]) in {"sin", "mul", "sum", "identity"}
                          for n in tagged)
    assert "tangent of %" in graph.listing(show_sources=True)
    assert any(sg.viz.style.node_kind(graph, n) == "tangent" for n in graph.nodes())
    assert "tangent op (forward mode)" in sg.viz.to_dot(graph)     # the pictures' legend


@pytest.mark.parametrize("primals, tangents, error, words", [
    (1.0, 1.0, TypeError, "must be tuples or lists"),
    ((np.ones(2),), (np.ones(2), np.ones(2)), TypeError, "same tree structure"),
    ((np.ones(2),), (np.ones(3),), ValueError, "different primal and tangent shapes"),
    ((np.ones(2),), (np.ones(2, np.int64),), TypeError, "float tangent"),
])
def test_bad_jvp_arguments_get_jax_errors(primals, tangents, error, words):
    with pytest.raises(error, match=words) as raised:
        sg.jvp(np.sin, primals, tangents, backend=REF)
    assert isinstance(raised.value, sg.TracingError)
    assert "test_forward_mode.py" in str(raised.value)
