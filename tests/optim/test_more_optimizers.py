"""RAdam (symgrad/optim/rectified.py), ASGD, Rprop and LBFGS against PyTorch (same gradients or the
same closure), their state_dict round trips and errors; PyTorch's implementation switches
(foreach, fused, capturable) accepted by every optimizer; the new rule optimizers inside
sg.train."""
import numpy as np
import pytest

import symgrad as sg
from symgrad import nn, optim
from tests.optim.test_optim import _torch_run, assert_history, grads_for, make_params, run
from tests.optim.training_cases import assert_train_matches_eager

CASES = [
    ("RAdam", dict(lr=0.01)),
    ("RAdam", dict(lr=0.01, weight_decay=0.1, betas=(0.8, 0.9))),
    ("RAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("ASGD", dict(lr=0.05)),
    ("ASGD", dict(lr=0.05, lambd=0.01, alpha=0.5, t0=3, weight_decay=0.1, maximize=True)),
    ("Rprop", dict(lr=0.01)),
    ("Rprop", dict(lr=0.05, etas=(0.3, 1.5), step_sizes=(1e-3, 0.2), maximize=True)),
    ("Adam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, foreach=False)),
    ("SGD", dict(lr=0.05, momentum=0.9, foreach=True, fused=False)),
]


@pytest.mark.parametrize("name,kwargs", CASES)
def test_against_pytorch(name, kwargs):
    real = pytest.importorskip("torch")
    params = make_params()
    expected = _torch_run(real, name, params, 12, **kwargs)
    _, history = run(getattr(optim, name), params, steps=12, **kwargs)
    assert_history(history, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name,kwargs", CASES[:7:2])
def test_state_names_and_round_trip(name, kwargs):
    real = pytest.importorskip("torch")
    cls = getattr(optim, name)
    _, full = run(cls, make_params(), steps=6, **kwargs)
    params = make_params()
    opt, _ = run(cls, params, steps=3, **kwargs)
    theirs = [real.tensor(p.detach().numpy(), requires_grad=True) for p in params]
    their_opt = getattr(real.optim, name)(theirs, **kwargs)
    for t in theirs:
        t.grad = real.ones_like(t)
    their_opt.step()
    saved = opt.state_dict()
    assert sorted(saved["state"][0]) == sorted(their_opt.state_dict()["state"][0])
    assert set(saved["param_groups"][0]) == set(their_opt.state_dict()["param_groups"][0])
    resumed_params = [sg.tensor(p.detach().numpy().copy(), requires_grad=True) for p in params]
    resumed = cls(resumed_params, **kwargs)
    resumed.load_state_dict(saved)
    for step in range(3, 6):
        for p, g in zip(resumed_params, grads_for(step, params)):
            p.grad = sg.tensor(g)
        resumed.step()
    for ours, expected in zip(resumed_params, full[-1]):
        np.testing.assert_allclose(ours.detach().numpy(), expected, rtol=1e-6, atol=1e-7)


def _rosenbrock_run(module, line_search_fn, steps=3, dtype="float64", **kwargs):
    w = module.tensor(np.array([-1.5, 2.0, 0.5], dtype), requires_grad=True)
    opt = module.optim.LBFGS([w], line_search_fn=line_search_fn, **kwargs)
    losses = []

    def closure():
        opt.zero_grad()
        loss = (100 * (w[1:] - w[:-1] ** 2) ** 2 + (1 - w[:-1]) ** 2).sum()
        loss.backward()
        return loss
    for _ in range(steps):
        losses.append(float(opt.step(closure).detach()))
    state = opt.state[w]
    return w.detach().numpy(), losses, state["func_evals"], state["n_iter"]


@pytest.mark.parametrize("line_search_fn,kwargs", [
    (None, dict(lr=0.1)), ("strong_wolfe", dict()),
    ("strong_wolfe", dict(history_size=3, max_iter=7)),
    # one step: at lr=0.5 the iterates amplify rounding (1e-14 -> 1e-6 in three steps)
    (None, dict(lr=0.5, history_size=2, tolerance_change=1e-5, steps=1))])
def test_lbfgs_matches_pytorch(line_search_fn, kwargs):
    real = pytest.importorskip("torch")
    ours = _rosenbrock_run(sg, line_search_fn, **kwargs)
    theirs = _rosenbrock_run(real, line_search_fn, **kwargs)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-9)
    assert ours[2:] == theirs[2:]


def test_lbfgs_float32_close_to_pytorch_and_converges():
    real = pytest.importorskip("torch")
    ours = _rosenbrock_run(sg, "strong_wolfe", steps=10, dtype="float32")
    theirs = _rosenbrock_run(real, "strong_wolfe", steps=10, dtype="float32")
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(ours[0], [1.0, 1.0, 1.0], atol=1e-3)


def test_lbfgs_state_dict_round_trip():
    first = _rosenbrock_run(sg, "strong_wolfe", steps=4)
    w = sg.tensor(np.array([-1.5, 2.0, 0.5]), requires_grad=True)
    opt = optim.LBFGS([w], line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = (100 * (w[1:] - w[:-1] ** 2) ** 2 + (1 - w[:-1]) ** 2).sum()
        loss.backward()
        return loss
    for _ in range(2):
        opt.step(closure)
    saved = opt.state_dict()
    opt = optim.LBFGS([w], line_search_fn="strong_wolfe")
    opt.load_state_dict(saved)
    for _ in range(2):
        opt.step(closure)
    np.testing.assert_allclose(w.detach().numpy(), first[0], rtol=1e-12)


def test_lbfgs_errors():
    params = make_params()
    with pytest.raises(ValueError, match="LBFGS doesn't support per-parameter options"):
        optim.LBFGS([{"params": params[:1]}, {"params": params[1:]}])
    with pytest.raises(TypeError, match="missing 1 required positional argument: 'closure'"):
        optim.LBFGS(params).step()
    opt = optim.LBFGS(params, line_search_fn="backtracking")

    def closure():
        loss = (params[0] ** 2).sum()
        loss.backward()
        return loss
    with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
        opt.step(closure)


def test_lbfgs_inside_sg_train_raises_a_clear_error():
    model = nn.Linear(2, 1)
    opt = optim.LBFGS(model.parameters())
    x, y = sg.ones(4, 2), sg.zeros(4, 1)

    def step(x, y):
        def closure():
            opt.zero_grad()
            loss = ((model(x) - y) ** 2).mean()
            loss.backward()
            return loss
        return opt.step(closure)
    with pytest.raises(Exception, match="LBFGS.step\\(\\) cannot run inside sg.train"):
        sg.train(step, data=(x, y), steps=2, progress=False)


@pytest.mark.parametrize("make,message", [
    (lambda p: optim.Rprop(p, etas=(1.5, 2.0)), "Invalid eta values: 1.5, 2.0"),
    (lambda p: optim.RAdam(p, betas=(0.9, 1.0)), "Invalid beta parameter at index 1: 1.0"),
    (lambda p: optim.ASGD(p, lr=-1), "Invalid learning rate: -1"),
    (lambda p: optim.Adam(p, differentiable=True), "differentiable=True"),
])
def test_bad_hyperparameters(make, message):
    with pytest.raises((ValueError, NotImplementedError), match=message.replace("(", r"\(")):
        make(make_params())


def test_rule_optimizers_inside_sg_train_equal_the_eager_loop():
    assert_train_matches_eager(lambda m: [optim.RAdam(m[0].parameters(), lr=0.01),
                                          optim.ASGD(m[2].parameters(), lr=0.05, t0=4),
                                          ], steps=8)
    assert_train_matches_eager(lambda m: optim.Rprop(m.parameters(), lr=0.01), steps=8)
