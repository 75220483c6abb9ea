"""symgrad.optim.adaptive (RMSprop, Adagrad, Adadelta) and symgrad.optim.adam_variants
(Adamax, NAdam) on symgrad.optim.rule (their updates against PyTorch are in
test_optim.test_against_pytorch): state names and state_dict round trips, bad
hyperparameters, and inside sg.train's compiled loop equal to the eager loop."""
import numpy as np
import pytest

import symgrad as torch
from symgrad import optim
from tests.optim.test_optim import ADAPTIVE_CASES as CASES, grads_for, make_params, run
from tests.optim.training_cases import assert_train_matches_eager


@pytest.mark.parametrize("name,kwargs", [CASES[1], CASES[4], CASES[6], CASES[8], CASES[11]])
def test_state_names_and_state_dict_match_pytorch(name, kwargs):
    real = pytest.importorskip("torch")
    params = make_params()
    theirs = [real.tensor(p.detach().numpy(), requires_grad=True) for p in params]
    their_opt = getattr(real.optim, name)(theirs, **kwargs)
    for t in theirs:
        t.grad = real.ones_like(t)
    their_opt.step()
    opt, _ = run(getattr(optim, name), params, steps=1, **kwargs)
    ours, expected = opt.state_dict(), their_opt.state_dict()
    assert sorted(ours["state"][0]) == sorted(expected["state"][0])
    assert set(expected["param_groups"][0]) >= set(ours["param_groups"][0])
    for key, value in expected["state"][0].items():
        assert tuple(ours["state"][0][key].shape) == tuple(value.shape)


@pytest.mark.parametrize("name,kwargs", [CASES[1], CASES[4], CASES[6], CASES[8], CASES[11]])
def test_state_dict_round_trip_continues_identically(name, kwargs):
    cls = getattr(optim, name)
    _, full = run(cls, make_params(), steps=6, **kwargs)
    params = make_params()
    opt, _ = run(cls, params, steps=3, **kwargs)
    saved = opt.state_dict()
    resumed_params = [torch.tensor(p.detach().numpy().copy(), requires_grad=True) for p in params]
    resumed = cls(resumed_params, **kwargs)
    resumed.load_state_dict(saved)
    for step in range(3, 6):
        for p, g in zip(resumed_params, grads_for(step, params)):
            p.grad = torch.tensor(g)
        resumed.step()
    for ours, theirs in zip(resumed_params, full[-1]):
        np.testing.assert_allclose(ours.detach().numpy(), theirs, rtol=1e-6, atol=1e-7)


def test_adagrad_has_state_before_its_first_step_as_in_pytorch():
    params = make_params()
    opt = optim.Adagrad(params, initial_accumulator_value=0.5)
    assert sorted(opt.state[params[0]]) == ["step", "sum"]
    np.testing.assert_array_equal(opt.state[params[0]]["sum"].numpy(), np.full((4, 3), 0.5))


@pytest.mark.parametrize("make,message", [
    (lambda p: optim.RMSprop(p, alpha=-0.1), "Invalid alpha value: -0.1"),
    (lambda p: optim.RMSprop(p, momentum=-1), "Invalid momentum value: -1"),
    (lambda p: optim.Adagrad(p, lr_decay=-1), "Invalid lr_decay value: -1"),
    (lambda p: optim.Adagrad(p, initial_accumulator_value=-1),
     "Invalid initial_accumulator_value value: -1"),
    (lambda p: optim.Adadelta(p, rho=1.5), "Invalid rho value: 1.5"),
    (lambda p: optim.Adamax(p, betas=(1.0, 0.9)), "Invalid beta parameter at index 0: 1.0"),
    (lambda p: optim.NAdam(p, momentum_decay=-1), "Invalid momentum_decay value: -1"),
    (lambda p: optim.NAdam(p, eps=-1), "Invalid epsilon value: -1"),
])
def test_bad_hyperparameters(make, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        make(make_params())


def _one_each(model, classes):
    return [cls([param], **kwargs) for param, (cls, kwargs) in zip(model.parameters(), classes)]


@pytest.mark.parametrize("classes", [
    [(optim.RMSprop, dict(lr=0.01, momentum=0.9, centered=True)), (optim.Adagrad, dict(lr=0.1)),
     (optim.NAdam, dict(lr=0.01, weight_decay=0.01)), (optim.Adamax, dict(lr=0.01))],
    [(optim.Adadelta, dict(lr=0.5)), (optim.Adam, dict(lr=0.01, amsgrad=True)),
     (optim.RMSprop, dict(lr=0.01, weight_decay=0.1)),
     (optim.NAdam, dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True))],
], ids=["rmsprop-adagrad-nadam-adamax", "adadelta-amsgrad-rmsprop-nadamw"])
def test_compiled_loop_equals_the_eager_loop(classes):
    """Each parameter of the model has its own optimizer: one compile checks four."""
    assert_train_matches_eager(lambda model: _one_each(model, classes), rtol=2e-5, atol=2e-6)
