"""optim: SGD and Adam against hand-written numpy formulas (and PyTorch when installed),
parameter groups, state_dict, zero_grad, and the bad-argument errors."""

import numpy as np
import pytest

import symgrad as torch
from symgrad import nn, optim
from symgrad.optim.adam import adam_update
from symgrad.optim.sgd import sgd_update

STEPS = 6


def value(t):
    return t.detach().numpy()


def make_params(seed=0, shapes=((4, 3), (3,))):
    rng = np.random.default_rng(seed)
    return [nn.Parameter(rng.standard_normal(s).astype(np.float32)) for s in shapes]


def grads_for(step, params, seed=100):
    rng = np.random.default_rng(seed + step)
    return [rng.standard_normal(p.shape).astype(np.float32) for p in params]


def run(optimizer_class, params, steps=STEPS, **kwargs):
    """Feed the same pseudo-random gradients to an optimizer; return the parameter values."""
    opt = optimizer_class(params, **kwargs)
    history = []
    for step in range(steps):
        for p, g in zip(params, grads_for(step, params)):
            p.grad = torch.tensor(g)
        opt.step()
        history.append([value(p).copy() for p in params])
    return opt, history


# -- numpy references, written from PyTorch's documented algorithms ---------------------------
def sgd_reference(params, steps, lr, momentum=0.0, dampening=0.0, weight_decay=0.0,
                  nesterov=False, maximize=False):
    ws = [value(p).astype(np.float64) for p in params]
    bufs = [None] * len(ws)
    history = []
    for step in range(steps):
        for i, g in enumerate(grads_for(step, params)):
            g = g.astype(np.float64)
            if maximize:
                g = -g
            if weight_decay:
                g = g + weight_decay * ws[i]
            if momentum:
                bufs[i] = g.copy() if bufs[i] is None else \
                    momentum * bufs[i] + (1 - dampening) * g
                g = g + momentum * bufs[i] if nesterov else bufs[i]
            ws[i] = ws[i] - lr * g
        history.append([w.copy() for w in ws])
    return history


def adam_reference(params, steps, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                   amsgrad=False, decoupled=False, maximize=False):
    beta1, beta2 = betas
    ws = [value(p).astype(np.float64) for p in params]
    m = [np.zeros_like(w) for w in ws]
    v = [np.zeros_like(w) for w in ws]
    vmax = [np.zeros_like(w) for w in ws]
    history = []
    for step in range(1, steps + 1):
        for i, g in enumerate(grads_for(step - 1, params)):
            g = g.astype(np.float64)
            if maximize:
                g = -g
            if weight_decay and decoupled:
                ws[i] = ws[i] * (1 - lr * weight_decay)
            elif weight_decay:
                g = g + weight_decay * ws[i]
            m[i] = beta1 * m[i] + (1 - beta1) * g
            v[i] = beta2 * v[i] + (1 - beta2) * g * g
            m_hat = m[i] / (1 - beta1 ** step)
            if amsgrad:
                vmax[i] = np.maximum(vmax[i], v[i])
                v_hat = vmax[i] / (1 - beta2 ** step)
            else:
                v_hat = v[i] / (1 - beta2 ** step)
            # PyTorch adds eps to sqrt(v) / sqrt(bias correction 2), i.e. to sqrt(v_hat)
            ws[i] = ws[i] - lr * m_hat / (np.sqrt(v_hat) + eps)
        history.append([w.copy() for w in ws])
    return history


def assert_history(actual, expected, rtol=2e-5, atol=2e-6):
    for step, (got, want) in enumerate(zip(actual, expected)):
        for a, e in zip(got, want):
            np.testing.assert_allclose(a, e, rtol=rtol, atol=atol, err_msg=f"step {step}")


SGD_CASES = [
    dict(lr=0.1),
    dict(lr=0.05, momentum=0.9),
    dict(lr=0.05, momentum=0.9, dampening=0.3),
    dict(lr=0.05, momentum=0.9, nesterov=True),
    dict(lr=0.1, weight_decay=0.01),
    dict(lr=0.05, momentum=0.5, weight_decay=0.1, nesterov=True),
    dict(lr=0.1, momentum=0.9, maximize=True),
]


@pytest.mark.parametrize("kwargs", SGD_CASES, ids=lambda k: ",".join(f"{a}={b}" for a, b in k.items()))
def test_sgd_matches_numpy_formula(kwargs):
    params = make_params()
    expected = sgd_reference(params, STEPS, **kwargs)
    _, history = run(optim.SGD, params, **kwargs)
    assert_history(history, expected)


ADAM_CASES = [
    dict(lr=1e-3),
    dict(lr=0.1, betas=(0.8, 0.99), eps=1e-6),
    dict(lr=0.01, weight_decay=0.1),
    dict(lr=0.01, amsgrad=True),
    dict(lr=0.01, maximize=True),
]


@pytest.mark.parametrize("kwargs", ADAM_CASES, ids=lambda k: ",".join(f"{a}={b}" for a, b in k.items()))
def test_adam_matches_numpy_formula(kwargs):
    params = make_params()
    expected = adam_reference(params, STEPS, **kwargs)
    _, history = run(optim.Adam, params, **kwargs)
    assert_history(history, expected)


def test_adamw_matches_numpy_formula():
    params = make_params()
    expected = adam_reference(params, STEPS, lr=0.01, weight_decay=0.1, decoupled=True)
    _, history = run(optim.AdamW, params, lr=0.01, weight_decay=0.1)
    assert_history(history, expected)


def test_adam_first_step_moves_each_weight_by_lr():
    # bias correction makes the first Adam step -lr * sign(grad) (up to eps)
    params = make_params()
    before = [value(p).copy() for p in params]
    run(optim.Adam, params, steps=1, lr=0.01)
    for p, b, g in zip(params, before, grads_for(0, params)):
        np.testing.assert_allclose(value(p), b - 0.01 * np.sign(g), rtol=1e-5, atol=1e-6)


def test_in_place_fast_path_equals_functional_update():
    """The numpy in-place path and the pure-function path (used for traced values) agree."""
    params = make_params()
    w, g = value(params[0]).copy(), grads_for(0, params)[0]
    new_w, buf = sgd_update(w, g, None, lr=0.1, momentum=0.9, weight_decay=0.01, nesterov=True)
    new_w, buf = sgd_update(new_w, g, buf, lr=0.1, momentum=0.9, weight_decay=0.01,
                            nesterov=True)
    p = nn.Parameter(w.copy())
    opt = optim.SGD([p], lr=0.1, momentum=0.9, weight_decay=0.01, nesterov=True)
    for _ in range(2):
        p.grad = torch.tensor(g)
        opt.step()
    np.testing.assert_allclose(value(p), new_w, rtol=1e-6)
    np.testing.assert_allclose(value(opt.state[p]["momentum_buffer"]), buf, rtol=1e-6)

    m = v = np.zeros_like(w)
    out = w
    for step in (1, 2):
        out, m, v, _ = adam_update(out, g, m, v, None, step, lr=0.01, weight_decay=0.1)
    p = nn.Parameter(w.copy())
    opt = optim.Adam([p], lr=0.01, weight_decay=0.1)
    for _ in range(2):
        p.grad = torch.tensor(g)
        opt.step()
    np.testing.assert_allclose(value(p), out, rtol=1e-6)
    np.testing.assert_allclose(value(opt.state[p]["exp_avg_sq"]), v, rtol=1e-6)


def test_step_updates_in_place_and_keeps_identity():
    p = nn.Parameter(np.ones(3, np.float32))
    storage = p._value
    opt = optim.SGD([p], lr=0.5)
    (p * p).sum().backward()
    opt.step()
    assert p._value is storage                       # same array, written in place
    assert p.is_leaf and p.requires_grad and p.grad_fn is None
    assert value(p).tolist() == [0.0, 0.0, 0.0]


def test_step_skips_parameters_without_gradient():
    a, b = make_params()
    before = value(b).copy()
    opt = optim.Adam([a, b], lr=0.1)
    a.grad = torch.ones(*a.shape)
    opt.step()
    np.testing.assert_array_equal(value(b), before)
    assert b not in opt.state and len(opt.state) == 1


def test_closure_is_called_with_grad_enabled():
    p = nn.Parameter(np.array([3.0], np.float32))
    opt = optim.SGD([p], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    with torch.no_grad():
        loss = opt.step(closure)
    assert loss.item() == 9.0 and value(p).tolist() == [1.5]


def test_zero_grad():
    params = make_params()
    opt = optim.SGD(params, lr=0.1)
    for p in params:
        p.grad = torch.ones(*p.shape)
    grad = params[0].grad
    opt.zero_grad(set_to_none=False)
    assert params[0].grad is grad and not value(grad).any()
    opt.zero_grad()
    assert all(p.grad is None for p in params)


def test_training_a_module_reduces_the_loss():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 1))
    x = torch.randn(32, 3)
    y = (x * torch.tensor([1.0, -2.0, 0.5])).sum(dim=1, keepdim=True)
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    losses = []
    for _ in range(60):
        loss = nn.functional.mse_loss(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.1 * losses[0]


# -- parameter groups ----------------------------------------------------------------------------
def test_param_groups_use_their_own_hyperparameters():
    a, b = make_params()
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 1.0}], lr=0.1, momentum=0.5)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 1.0]
    assert opt.param_groups[1]["momentum"] == 0.5
    assert opt.param_groups[0]["params"] == [a] or opt.param_groups[0]["params"][0] is a
    a0, b0 = value(a).copy(), value(b).copy()
    a.grad, b.grad = torch.ones(*a.shape), torch.ones(*b.shape)
    opt.step()
    np.testing.assert_allclose(value(a), a0 - 0.1)
    np.testing.assert_allclose(value(b), b0 - 1.0)


def test_add_param_group_and_lr_changes():
    a, b = make_params()
    opt = optim.Adam([a], lr=0.01)
    opt.add_param_group({"params": b, "betas": (0.5, 0.9)})
    assert opt.param_groups[1]["lr"] == 0.01 and opt.param_groups[1]["betas"] == (0.5, 0.9)
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})
    for group in opt.param_groups:               # a learning-rate schedule, as users write it
        group["lr"] = 0.5
    b0 = value(b).copy()
    b.grad = torch.ones(*b.shape)
    opt.step()
    np.testing.assert_allclose(value(b), b0 - 0.5, rtol=1e-5)


def test_repr():
    opt = optim.SGD(make_params(), lr=0.1, momentum=0.9)
    text = repr(opt)
    assert text.startswith("SGD (\nParameter Group 0\n") and "    lr: 0.1\n" in text
    assert "    momentum: 0.9\n" in text


# -- state dict ------------------------------------------------------------------------------
@pytest.mark.parametrize("cls,kwargs", [(optim.SGD, dict(lr=0.1, momentum=0.9)),
                                        (optim.Adam, dict(lr=0.05, amsgrad=True))])
def test_state_dict_roundtrip_continues_identically(cls, kwargs):
    params = make_params()
    opt, _ = run(cls, params, steps=3, **kwargs)
    state = opt.state_dict()
    assert sorted(state) == ["param_groups", "state"]
    assert state["param_groups"][0]["params"] == [0, 1]
    assert sorted(state["state"]) == [0, 1]
    assert all(isinstance(v, torch.Tensor) for s in state["state"].values() for v in s.values())

    copies = [nn.Parameter(value(p).copy()) for p in params]
    fresh = cls(copies, **{**kwargs, "lr": 123.0})
    fresh.load_state_dict(state)
    assert fresh.param_groups[0]["lr"] == kwargs["lr"]
    for step in range(3, 6):
        for ps, o in ((params, opt), (copies, fresh)):
            for p, g in zip(ps, grads_for(step, ps)):
                p.grad = torch.tensor(g)
            o.step()
    for p, q in zip(params, copies):
        np.testing.assert_array_equal(value(p), value(q))
    # the saved state is a copy: stepping on did not change it
    assert not np.array_equal(state["state"][0][next(iter(state["state"][0]))],
                              opt.state_dict()["state"][0][next(iter(state["state"][0]))])


def test_load_state_dict_errors():
    opt = optim.SGD(make_params(), lr=0.1)
    other = optim.SGD([{"params": make_params()[:1]}, {"params": make_params()[1:]}], lr=0.1)
    with pytest.raises(ValueError, match="different number of parameter groups"):
        opt.load_state_dict(other.state_dict())
    small = optim.SGD(make_params()[:1], lr=0.1)
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
        opt.load_state_dict(small.state_dict())
    with pytest.raises(ValueError, match="'state' and 'param_groups'"):
        opt.load_state_dict({"lr": 1})


# -- bad arguments ---------------------------------------------------------------------------
def test_empty_parameter_list():
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        optim.Adam(nn.ReLU().parameters())


def test_non_leaf_tensor():
    w = torch.ones(3, requires_grad=True)
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor.*MulBackward0"):
        optim.SGD([w * 2], lr=0.1)


def test_non_tensor_parameters():
    with pytest.raises(TypeError, match="optimizer can only optimize Tensors.*numpy.ndarray"):
        optim.SGD([np.ones(3)], lr=0.1)
    with pytest.raises(TypeError, match="iterable of Tensors or dicts.*Parameter"):
        optim.SGD(nn.Parameter(torch.ones(1)), lr=0.1)
    with pytest.raises(TypeError, match="iterable of Tensors or dicts, but got int"):
        optim.SGD(3, lr=0.1)
    with pytest.raises(TypeError, match="ordering of tensors in sets"):
        optim.SGD([{"params": {nn.Parameter(torch.ones(1))}}], lr=0.1)
    with pytest.raises(TypeError, match="dtype int64"):
        optim.SGD([torch.tensor([1, 2])], lr=0.1)


def test_duplicate_parameters():
    p = make_params()[0]
    with pytest.raises(ValueError, match="duplicate parameters"):
        optim.SGD([p, p], lr=0.1)


@pytest.mark.parametrize("make,message", [
    (lambda ps: optim.SGD(ps, lr=-0.1), "Invalid learning rate: -0.1"),
    (lambda ps: optim.SGD(ps, lr=0.1, momentum=-1), "Invalid momentum value: -1"),
    (lambda ps: optim.SGD(ps, lr=0.1, weight_decay=-1e-4), "Invalid weight_decay value"),
    (lambda ps: optim.SGD(ps, lr=0.1, nesterov=True),
     "Nesterov momentum requires a momentum and zero dampening"),
    (lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True),
     "Nesterov momentum requires a momentum and zero dampening"),
    (lambda ps: optim.SGD(ps, lr=float("nan")), "Invalid learning rate: nan"),
    (lambda ps: optim.Adam(ps, lr=-1e-3), "Invalid learning rate"),
    (lambda ps: optim.Adam(ps, eps=-1e-8), "Invalid epsilon value"),
    (lambda ps: optim.Adam(ps, betas=(1.0, 0.999)), "Invalid beta parameter at index 0: 1.0"),
    (lambda ps: optim.Adam(ps, betas=(0.9, -0.1)), "Invalid beta parameter at index 1"),
    (lambda ps: optim.Adam(ps, betas=0.9), "betas must be a pair"),
    (lambda ps: optim.Adam(ps, weight_decay=-1), "Invalid weight_decay value"),
    (lambda ps: optim.SGD([{"params": ps, "lr": -1.0}], lr=0.1), "Invalid learning rate: -1.0"),
])
def test_bad_hyperparameters(make, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        make(make_params())


def test_lr_must_be_a_number():
    with pytest.raises(TypeError, match="learning rate must be a number, got str"):
        optim.SGD(make_params(), lr="0.1")


# -- against PyTorch -------------------------------------------------------------------------
def _torch_run(real, cls_name, params, steps, **kwargs):
    tensors = [real.tensor(value(p), requires_grad=True) for p in params]
    opt = getattr(real.optim, cls_name)(tensors, **kwargs)
    history = []
    for step in range(steps):
        for t, g in zip(tensors, grads_for(step, params)):
            t.grad = real.from_numpy(g)
        opt.step()
        history.append([t.detach().numpy().copy() for t in tensors])
    return history


ADAPTIVE_CASES = [
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, momentum=0.9, centered=True, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, maximize=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05, initial_accumulator_value=0.2, weight_decay=0.1)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.8, weight_decay=0.1, maximize=True)),
    ("Adamax", dict(lr=0.01)),
    ("Adamax", dict(lr=0.01, weight_decay=0.1, betas=(0.8, 0.99))),
    ("NAdam", dict(lr=0.01)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, momentum_decay=0.01)),
    ("Adam", dict(lr=0.01, amsgrad=True, maximize=True)),
]


@pytest.mark.parametrize("cls_name,kwargs", ADAPTIVE_CASES + [
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.2)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, weight_decay=0.05, amsgrad=True)),
    ("AdamW", dict(lr=0.01, weight_decay=0.05)),
])
def test_against_pytorch(cls_name, kwargs):
    real = pytest.importorskip("torch")
    params = make_params()
    expected = _torch_run(real, cls_name, params, 10, **kwargs)
    _, history = run(getattr(optim, cls_name), params, steps=10, **kwargs)
    assert_history(history, expected, rtol=1e-5, atol=1e-6)


def test_against_pytorch_state_names():
    """``optimizer.state[p]`` uses PyTorch's names, so code that reads it ports unchanged."""
    real = pytest.importorskip("torch")
    for cls_name, kwargs in [("Adam", dict(lr=0.1, amsgrad=True)), ("SGD", dict(lr=0.1, momentum=0.9))]:
        params = make_params()
        theirs = real.tensor(value(params[0]), requires_grad=True)
        their_opt = getattr(real.optim, cls_name)([theirs], **kwargs)
        theirs.grad = real.ones_like(theirs)
        their_opt.step()
        opt, _ = run(getattr(optim, cls_name), params[:1], steps=1, **kwargs)
        assert sorted(opt.state[params[0]]) == sorted(their_opt.state[theirs])
        ours_state = opt.state_dict()
        their_state = their_opt.state_dict()
        assert sorted(ours_state["state"][0]) == sorted(their_state["state"][0])
        assert set(their_state["param_groups"][0]) >= set(ours_state["param_groups"][0])
