"""Compiled training loops (symgrad/training/loop.py, symgrad/training/minibatches.py, symgrad/training/state.py,
symgrad/training/progress.py, compiler/cpu/training_loop.py, compiler/passes/memory.py): the
compiled loop gives the eager loop's numbers."""
import os
import subprocess
import sys

import numpy as np
import pytest

import symgrad as sg
from workloads import mlp_data, mlp_loss, mlp_step
from symgrad import nn, optim
from symgrad.training.minibatches import plan_batches

from conftest import half_gradient_function

HERE = os.path.dirname(os.path.abspath(__file__))


# -- functional style ------------------------------------------------------------------------
def regression_step(w, x, y):
    loss, g = sg.value_and_grad(lambda w: (x * w - y) ** 2)(w)
    return w - 0.01 * g, loss


def test_w3_per_sample_sgd_matches_the_python_loop():
    x, y = np.array([1.0, 2.0, 3.0]), np.array([2.0, 4.0, 6.0])
    w, history = sg.train(regression_step, 1.0, data=(x, y), epochs=100, progress=False)
    expected_w, expected = 1.0, []
    for _ in range(100):
        for xi, yi in zip(x, y):
            expected.append((xi * expected_w - yi) ** 2)
            expected_w -= 0.01 * 2 * xi * (xi * expected_w - yi)
    np.testing.assert_allclose(history, expected, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(w, expected_w, rtol=1e-12)
    assert abs(float(w) * 4 - 8.0) < 1e-3


def test_full_batch_gradient_descent_matches_eager_steps():
    x, y, w1, w2 = mlp_data()
    params, history = sg.train(mlp_step, (w1, w2), data=(x, y), steps=30, progress=False)
    eager, expected = (w1, w2), []
    for _ in range(30):
        eager, loss = mlp_step(eager, x, y)
        expected.append(float(loss))
    np.testing.assert_allclose(history, expected, rtol=1e-10)
    for ours, theirs in zip(params, eager):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10)
    assert w1 is not params[0] and np.all(w1 == mlp_data()[2])   # the input is not modified


def test_minibatches_with_shuffle_follow_the_plan():
    x, y, w1, w2 = mlp_data(n=12)
    params, history = sg.train(mlp_step, (w1, w2), data=(x, y), epochs=3, batch_size=4,
                               shuffle=True, seed=7, progress=False)
    plan = plan_batches([x, y], None, 3, 4, True, 7)
    eager = (w1, w2)
    for step in range(plan.total_steps):
        eager, loss = mlp_step(eager, plan.batch(x, step), plan.batch(y, step))
        np.testing.assert_allclose(history[step], loss, rtol=1e-10)
    np.testing.assert_allclose(params[0], eager[0], rtol=1e-10)


def test_chunked_run_equals_one_run():
    x, y, w1, w2 = mlp_data()
    whole = sg.train(mlp_step, (w1, w2), data=(x, y), steps=120, progress=False)
    chunked = sg.train(mlp_step, (w1, w2), data=(x, y), steps=120, progress=True)
    np.testing.assert_array_equal(whole[1], chunked[1])
    np.testing.assert_array_equal(whole[0][0], chunked[0][0])


# -- PyTorch style -----------------------------------------------------------------------------
class TwoLayerNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear1 = nn.Linear(20, 8)
        self.linear2 = nn.Linear(8, 3)

    def forward(self, x):
        return self.linear2(self.linear1(x).clamp(min=0))


def make_step(make_optimizer, seed=3):
    sg.manual_seed(seed)
    model = TwoLayerNet()
    optimizer = make_optimizer(model.parameters())
    criterion = nn.MSELoss(reduction="sum")

    def step(x, y):
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
        return loss
    return model, optimizer, step


OPTIMIZERS = {
    "sgd": lambda p: optim.SGD(p, lr=1e-3),
    "sgd-momentum-nesterov": lambda p: optim.SGD(p, lr=1e-3, momentum=0.9, nesterov=True),
    "adam": lambda p: optim.Adam(p, lr=1e-3),
}


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_module_and_optimizer_state_after_train_equal_the_eager_loop(name):
    x, y = (sg.tensor(a) for a in mlp_data(np.float32)[:2])
    model, optimizer, step = make_step(OPTIMIZERS[name])
    expected = [step(x, y).item() for _ in range(25)]
    eager_params = [p.detach().numpy().copy() for p in model.parameters()]
    eager_state = [{k: np.array(getattr(v, "_value", v)) for k, v in s.items()}
                   for s in optimizer.state.values()]
    model, optimizer, step = make_step(OPTIMIZERS[name])
    history = sg.train(step, data=(x, y), steps=25, progress=False)
    np.testing.assert_allclose(history, expected, rtol=2e-5)
    for ours, theirs in zip(model.parameters(), eager_params):
        np.testing.assert_allclose(ours.detach().numpy(), theirs, rtol=2e-5, atol=1e-6)
    for ours, theirs in zip(optimizer.state.values(), eager_state):
        for key in theirs:
            np.testing.assert_allclose(np.asarray(ours[key]._value), theirs[key], rtol=1e-4, atol=1e-5)
    assert all(p.grad is not None for p in model.parameters())


def test_adam_in_float64_matches_the_eager_loop_to_float64_precision():
    """Adam's bias corrections are float64 in both loops, as torch's Python floats are."""
    x, y = (sg.tensor(a) for a in mlp_data(np.float64)[:2])
    runs = []
    for compiled in (False, True):
        model, _, step = make_step(OPTIMIZERS["adam"])
        model.double()
        history = (sg.train(step, data=(x, y), steps=10, progress=False) if compiled
                   else [step(x, y).item() for _ in range(10)])
        runs.append((history, [p.detach().numpy().copy() for p in model.parameters()]))
    (expected, eager_params), (history, params) = runs
    assert params[0].dtype == np.float64
    np.testing.assert_allclose(history, expected, rtol=1e-12)
    for ours, theirs in zip(params, eager_params):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)


def test_parameter_buffers_are_updated_in_place():
    x, y = (sg.tensor(a) for a in mlp_data(np.float32)[:2])
    model, _, step = make_step(OPTIMIZERS["sgd"])
    buffers = [p._value for p in model.parameters()]
    before = [b.copy() for b in buffers]
    sg.train(step, data=(x, y), steps=5, progress=False)
    assert all(p._value is b for p, b in zip(model.parameters(), buffers))
    assert all(not np.array_equal(b, old) for b, old in zip(buffers, before))
    assert len(sg.compiled_loops(step)[-1].in_place) >= 4   # the four parameters: no copies


def test_custom_function_backward_runs_inside_the_compiled_loop():
    HalfGradient = half_gradient_function()
    w = sg.tensor([1.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1)

    def step():
        opt.zero_grad()
        loss = HalfGradient.apply(w * w).sum()
        loss.backward()
        opt.step()
        return loss
    sg.train(step, steps=3, progress=False)
    expected = 1.0
    for _ in range(3):
        expected -= 0.1 * 0.5 * 2 * expected
    np.testing.assert_allclose(w.detach().numpy(), [expected], rtol=1e-6)


def test_steady_state_steps_allocate_nothing():
    """numba's allocation counter: 10 steps and 110 steps make the same allocations."""
    script = os.path.join(HERE, "allocation_probe.py")
    env = dict(os.environ, NUMBA_NRT_STATS="1")
    out = subprocess.run([sys.executable, script], capture_output=True, text=True, env=env,
                         check=True).stdout
    short, long = (int(n) for n in out.split())
    assert short == long


# -- bad input ---------------------------------------------------------------------------------
def test_data_with_different_sample_counts_is_rejected():
    with pytest.raises(ValueError, match=r"first dimension.*\[3\], \[4\]"):
        sg.train(regression_step, 1.0, data=(np.ones(3), np.ones(4)), epochs=1)


def test_batch_larger_than_dataset_is_rejected():
    with pytest.raises(ValueError, match="batch_size=5 must be between 1 and the number of samples"):
        sg.train(regression_step, 1.0, data=(np.ones(3), np.ones(3)), epochs=1, batch_size=5)


def test_non_scalar_loss_is_rejected_and_parameters_stay():
    x, y = (sg.tensor(a) for a in mlp_data(np.float32)[:2])
    model, optimizer, _ = make_step(OPTIMIZERS["sgd"])
    before = [p.detach().numpy().copy() for p in model.parameters()]

    def step(x, y):
        optimizer.zero_grad()
        loss = ((model(x) - y) ** 2)
        loss.sum().backward()
        optimizer.step()
        return loss
    with pytest.raises(sg.TracingError, match=r"loss must be a scalar, got shape \[16, 3\]"):
        sg.train(step, data=(x, y), steps=3, progress=False)
    for p, old in zip(model.parameters(), before):
        np.testing.assert_array_equal(p.detach().numpy(), old)


def test_state_created_inside_the_compiled_step_is_rejected():
    w = sg.tensor([1.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1, momentum=0.9)
    calls = []

    def step():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        if calls:                               # the traced step swaps the optimizer's state
            opt.state[w]["momentum_buffer"] = sg.Tensor(w.grad._value * 1)
        calls.append(1)
        opt.step()
        return loss
    with pytest.raises(sg.TracingError, match="cannot carry between steps"):
        sg.train(step, steps=3, progress=False)
    assert w.tolist() == [1.0]


def test_compiled_loop_is_reused_for_new_data_and_a_new_shape_recompiles():
    x, y, w1, w2 = mlp_data()
    sg.train(mlp_step, (w1, w2), data=(x, y), steps=2, progress=False)
    (first,) = sg.compiled_loops(mlp_step)[-1:]
    sg.train(mlp_step, (w1, w2), data=(x + 1.0, y), steps=2, progress=False)
    assert sg.compiled_loops(mlp_step)[-1] is first
    x8, y8, _, _ = mlp_data(n=8)
    sg.train(mlp_step, (w1, w2), data=(x8, y8), steps=2, progress=False)
    assert sg.compiled_loops(mlp_step)[-1] is not first
    assert first in sg.compiled_loops(mlp_step)


def test_traced_step_nodes_name_their_module_and_slots_their_parameter():
    x, y = (sg.tensor(a) for a in mlp_data(np.float32)[:2])
    _, _, step = make_step(OPTIMIZERS["sgd"])
    sg.train(step, data=(x, y), steps=2, progress=False)
    graph = sg.compiled_loops(step)[-1].graph
    modules = {graph[n].get("module") for n in graph.nodes()}
    assert {"linear1", "linear2"} <= modules
    names = [graph[n]["name"] for n in graph.inputs]
    assert "linear1.weight" in names and "linear1.weight.grad" in names
    assert "cluster_module_linear1" in sg.viz.to_dot(graph)
