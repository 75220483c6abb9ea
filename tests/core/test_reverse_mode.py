"""Reverse mode as a graph transform (symgrad/core/reverse_mode.py)."""
import numpy as np

import symgrad as sg
from symgrad.core.reverse_mode import grad_graph, relevant_nodes


def test_grad_graph_keeps_the_forward_and_tags_gradient_nodes():
    forward = sg.trace(lambda x, w: np.sum(np.tanh(x @ w)), np.ones((2, 3)), np.ones((3, 4)))
    gradient = grad_graph(forward, wrt=[1])
    assert set(forward.nodes()) <= set(gradient.nodes())
    added = set(gradient.nodes()) - set(forward.nodes())
    tagged = {n for n in added if "grad_of" in gradient[n]}
    assert tagged and all(gradient[n]["grad_of"] in forward.nodes() for n in tagged)
    assert gradient[gradient.outputs[0]]["shape"] == (3, 4)


def test_grad_graph_with_seeds_is_a_vjp():
    forward = sg.trace(lambda x: x * x, np.ones(3))
    gradient = grad_graph(forward, wrt=[0], seeds=True)
    x, seed = np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 2.0])
    (result,) = sg.evaluate(gradient, [x, seed])
    np.testing.assert_allclose(result, 2 * x * seed)


def test_relevant_nodes_skip_what_does_not_depend_on_wrt():
    graph = sg.trace(lambda x, y: np.sum(np.exp(y) * x), np.ones(2), np.ones(2))
    x, y = graph.inputs
    relevant = relevant_nodes(graph, graph.outputs, [x], since=0)
    assert y not in relevant and not any(graph.op(n) == "exp" for n in relevant)


def test_unused_argument_gets_zeros():
    gx, gy = sg.grad(lambda x, y: np.sum(x * 2.0), argnums=(0, 1))(np.ones(2), np.ones(3))
    np.testing.assert_array_equal(gy, np.zeros(3))
    np.testing.assert_array_equal(gx, [2.0, 2.0])


def test_inner_grad_does_not_differentiate_outer_nodes():
    """d/dx [x * d/dy (x*y)] = d/dx [x * x] = 2x (no perturbation confusion)."""
    def outer(x):
        return x * sg.grad(lambda y: x * y)(x)
    np.testing.assert_allclose(sg.grad(outer)(3.0), 6.0)


def test_third_derivative():
    f = lambda x: x ** 4  # noqa: E731
    np.testing.assert_allclose(sg.grad(sg.grad(sg.grad(f)))(2.0), 24 * 2.0)
