"""sg.train's interpreter tier (symgrad/training/tiered_loop.py): steps run on the
interpreter until the loop is compiled in the background, then compiled from the same
state. The switch is made deterministic by holding the k-th interpreted step until the
background compile is done: then exactly k steps were interpreted and the rest compiled."""
import numpy as np
import pytest

import symgrad as sg
from symgrad import optim
from symgrad.tiers import wait_for_background_compiles
from symgrad.training import tiered_loop
from symgrad.training.tiered_loop import TieredLoop
from test_training_loop import make_step
from workloads import mlp_data

pytestmark = pytest.mark.numba

X = np.linspace(-1.0, 1.0, 24).reshape(8, 3)
Y = np.sin(X.sum(axis=1, keepdims=True))


def switch_after(monkeypatch, interpreted_steps, interrupt=False):
    """Count interpreted steps; hold the last one until the loop is compiled (or raise
    Ctrl-C at it, with ``interrupt``). Returns the list of counted steps."""
    counted = []
    real = tiered_loop.evaluate

    def evaluate(graph, inputs):
        counted.append(len(counted))
        if interrupt and len(counted) == interpreted_steps:
            raise KeyboardInterrupt
        outputs = real(graph, inputs)
        if len(counted) == interpreted_steps:
            assert wait_for_background_compiles(timeout=120)
        return outputs
    monkeypatch.setattr(tiered_loop, "evaluate", evaluate)
    return counted


def functional_step():
    def step(w, x, y):
        loss, g = sg.value_and_grad(lambda w: np.sum((np.tanh(x @ w) - y) ** 2))(w)
        return w - 0.1 * g, loss
    return step


def test_functional_steps_switch_from_interpreter_to_compiled_with_equal_results(
        compile_in_background, monkeypatch):
    counted, step = switch_after(monkeypatch, 3), functional_step()
    w0 = np.array([[0.3], [-0.2], [0.1]])
    w, history = sg.train(step, w0, data=(X, Y), epochs=3, batch_size=2,
                          shuffle=True, progress=False)
    assert isinstance(sg.compiled_loops(step)[-1], TieredLoop) and len(counted) == 3
    assert compile_in_background == ["process"]      # the loop, once, by a compile process
    monkeypatch.setenv("SYMGRAD_COMPILE_IN_BACKGROUND", "0")
    w_compiled, history_compiled = sg.train(functional_step(), w0, data=(X, Y), epochs=3,
                                            batch_size=2, shuffle=True, progress=False)
    np.testing.assert_allclose(history, history_compiled, rtol=1e-10)
    np.testing.assert_allclose(w, w_compiled, rtol=1e-10)
    assert "def train_loop" in sg.compiled_loops(step)[-1].source


def adam_run(steps):
    model, _, step = make_step(lambda p: optim.Adam(p, lr=0.01))
    x, y = mlp_data(np.float32)[:2]
    history = sg.train(step, data=(x, y), steps=steps, progress=False)
    return history, [p.detach().numpy().copy() for p in model.parameters()]


def test_pytorch_style_steps_switch_tiers_with_the_same_optimizer_state(compile_in_background,
                                                                       monkeypatch):
    counted = switch_after(monkeypatch, 4)
    history, params = adam_run(10)     # Adam's step count is scalar state: 0-d views
    assert len(counted) == 4 and len(history) == 10
    monkeypatch.setenv("SYMGRAD_COMPILE_IN_BACKGROUND", "0")
    history_compiled, params_compiled = adam_run(10)
    np.testing.assert_allclose(history, history_compiled, rtol=1e-5)
    for p, q in zip(params, params_compiled):
        np.testing.assert_allclose(p, q, rtol=1e-5, atol=1e-7)


def test_ctrl_c_during_interpreted_steps_keeps_the_finished_ones(compile_in_background,
                                                                monkeypatch, capsys):
    switch_after(monkeypatch, 3, interrupt=True)
    step, w0 = functional_step(), np.array([[0.3], [-0.2], [0.1]])
    w, history = sg.train(step, w0, data=(X, Y), steps=6, progress=False)
    assert "training interrupted: 2 of 6 steps done" in capsys.readouterr().out
    assert len(history) == 2
    (loop,) = sg.compiled_loops(step)
    assert loop.wait_until_compiled(timeout=120)        # the background compile went on
    counted = switch_after(monkeypatch, 100)
    w_again, history_again = sg.train(step, w0, data=(X, Y), steps=2, progress=False)
    assert counted == [] and sg.compiled_loops(step) == [loop]   # compiled at once, no new compile
    np.testing.assert_allclose(history_again, history, rtol=1e-10)
    np.testing.assert_allclose(w_again, w, rtol=1e-10)
    assert compile_in_background == ["process"]
