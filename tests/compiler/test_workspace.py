"""Intermediates carved from a workspace kept between calls (compiler/cpu/workspace.py):
results agree with the reference, returned arrays never share the workspace's memory, and
a later call leaves earlier results as they were."""
import numpy as np

import symgrad as sg
from symgrad.compiler.cpu.workspace import WORKSPACE_BYTES, WorkspacePlan


def rnn_like_loss(params, inputs):
    hidden = np.zeros((4, 5))
    total = 0.0
    for x in inputs:
        hidden = np.tanh(np.dot(np.hstack((x, hidden)), params["w"]))
        total = total + np.sum(np.exp(hidden) * params["v"])
    return total


def test_gradient_through_the_workspace_matches_the_reference_and_is_fresh_each_call():
    rng = np.random.default_rng(0)
    params = {"w": rng.standard_normal((8, 5)) * 0.3, "v": rng.standard_normal(5)}
    inputs = rng.standard_normal((3, 4, 3))
    gradient = sg.grad(rnn_like_loss)
    first = gradient(params, inputs)
    compiled = gradient.compiled(params, inputs)
    assert compiled.workspace_sizes and "carve(" in compiled.source
    kept = {k: v.copy() for k, v in first.items()}
    second = gradient({k: v * 2 for k, v in params.items()}, inputs)
    want = sg.grad(rnn_like_loss, backend="reference")(params, inputs)
    workspaces = compiled.workspaces.take()
    compiled.workspaces.give(workspaces)
    for key in first:
        np.testing.assert_array_equal(first[key], kept[key])
        np.testing.assert_allclose(first[key], want[key], rtol=1e-12, atol=1e-12)
        assert not any(np.shares_memory(first[key], w) for w in workspaces)
        assert not np.shares_memory(first[key], second[key])


def test_returned_views_of_intermediates_are_copied_out_of_the_workspace():
    f = sg.jit(lambda x: (np.exp(x).reshape(6), np.tanh(x).T, np.exp(x) + 1))
    x = np.arange(6.0).reshape(2, 3) / 6
    a, b, c = f(x)
    a2, b2, c2 = f(x + 1)
    np.testing.assert_allclose(a, np.exp(x).reshape(6))
    np.testing.assert_allclose(b, np.tanh(x).T)
    np.testing.assert_allclose(c, np.exp(x) + 1)
    assert not np.shares_memory(a, a2) and not np.shares_memory(c, c2)


def test_a_plan_carves_until_its_budget_and_rounds_to_64_bytes():
    plan = WorkspacePlan()
    assert plan.carve_line("v1", (3,), "float64") == "v1, offset_float64 = carve(workspace_float64, offset_float64, (3,))"
    assert plan.sizes() == [(np.dtype("float64"), 8)]
    assert plan.carve_line("v2", (WORKSPACE_BYTES // 8,), "float64") is None
    assert plan.carve_line("v3", (), "float64") is None
