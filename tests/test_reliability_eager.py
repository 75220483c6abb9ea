"""Issue 15, the eager side: nothing half-updated after an error (optimizer steps, state
dict loading, failed ``sg.train`` runs), ``sg.train`` interruptible between chunks whatever
``progress`` says, eager tapes keyed by the types of their Python scalars and arrays (not
their values), and clear errors for the mistakes listed there."""
import numpy as np
import pytest

import symgrad as sg
from symgrad import nn, optim


def values_of(tensors):
    return [np.array(t._value, copy=True) for t in tensors]


def assert_all_equal(tensors, before):
    for tensor, old in zip(tensors, before):
        np.testing.assert_array_equal(tensor._value, old)


# -- item 5: a wrong .grad is refused at assignment, and step() checks before writing --------
def test_assigned_grad_of_another_size_dtype_or_type_is_refused_with_torchs_message():
    torch = pytest.importorskip("torch")
    ours, theirs = sg.zeros(3, requires_grad=True), torch.zeros(3, requires_grad=True)
    cases = [(sg.zeros(4), torch.zeros(4)), (np.zeros(3), np.zeros(3)), ([1.0], [1.0])]
    for our_grad, their_grad in cases:
        with pytest.raises((RuntimeError, TypeError)) as expected:
            theirs.grad = their_grad
        with pytest.raises(expected.type) as got:
            ours.grad = our_grad
        assert str(got.value) == str(expected.value)
    with pytest.raises(RuntimeError, match="gradient with dtype 'float64' to a tensor with "
                                           "dtype 'float32'"):
        ours.grad = sg.zeros(3, dtype=np.float64)
    assert ours.grad is None
    ours.grad = sg.ones(3)
    assert ours.grad.tolist() == [1.0, 1.0, 1.0]


class PlainSGD(optim.Optimizer):
    """An optimizer written as a user would: its step is checked by the base class too."""

    def __init__(self, params, lr=0.1):
        super().__init__(params, dict(lr=lr))

    def step(self, closure=None):
        loss = closure() if closure is not None else None
        for group in self.param_groups:
            for param in group["params"]:
                if param.grad is not None:
                    param._value -= group["lr"] * param.grad._value
        return loss


OPTIMIZERS = {
    "sgd": lambda p: optim.SGD(p, lr=0.1),
    "sgd-momentum": lambda p: optim.SGD(p, lr=0.1, momentum=0.9),
    "adam": lambda p: optim.Adam(p, lr=0.1),
    "adamw": lambda p: optim.AdamW(p, lr=0.1),
    "subclass": lambda p: PlainSGD(p, lr=0.1),
}


def optimizer_with_gradients(name):
    params = [sg.tensor([0.0, 1.0, 2.0], requires_grad=True),
              sg.tensor([[1.0, 1.0], [1.0, 1.0]], requires_grad=True)]
    optimizer = OPTIMIZERS[name](params)
    for param in params:
        param.grad = sg.ones(*param.shape)
    optimizer.step()                    # state exists (momentum, Adam's moments)
    for param in params:
        param.grad = sg.ones(*param.shape)
    return params, optimizer


def state_values(optimizer):
    return [{key: np.array(getattr(value, "_value", value)) for key, value in state.items()}
            for state in optimizer.state.values()]


def assert_state_equal(optimizer, before):
    after = state_values(optimizer)
    assert len(after) == len(before)
    for ours, old in zip(after, before):
        assert ours.keys() == old.keys()
        for key in old:
            np.testing.assert_array_equal(ours[key], old[key])


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_step_with_a_gradient_changed_after_assignment_updates_nothing(name):
    params, optimizer = optimizer_with_gradients(name)
    before, state = values_of(params), state_values(optimizer)
    params[1].grad.data = np.ones(5, np.float32)            # the last parameter's is wrong
    with pytest.raises(RuntimeError, match=r"param_groups\[0\]\['params'\]\[1\] is "
                                           r"float32\[2, 2\] on cpu but its gradient is "
                                           r"float32\[5\] on cpu; no parameter was updated"):
        optimizer.step()
    assert_all_equal(params, before)
    assert_state_equal(optimizer, state)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_step_whose_closure_leaves_a_wrong_gradient_updates_nothing(name):
    params, optimizer = optimizer_with_gradients(name)
    before, state = values_of(params), state_values(optimizer)

    def closure():
        params[0].grad.data = np.ones(3, np.float64)
        return 1.0
    with pytest.raises(RuntimeError, match="float32.3. on cpu but its gradient is float64.3."):
        optimizer.step(closure)
    assert_all_equal(params, before)
    assert_state_equal(optimizer, state)


def test_step_with_a_bad_hyperparameter_in_a_later_group_updates_no_group():
    first, second = sg.ones(2, requires_grad=True), sg.ones(2, requires_grad=True)
    optimizer = optim.SGD([{"params": [first]}, {"params": [second]}], lr=0.1)
    first.grad, second.grad = sg.ones(2), sg.ones(2)
    optimizer.param_groups[1]["lr"] = "0.1"
    with pytest.raises(TypeError, match="learning rate must be a number, got str"):
        optimizer.step()
    assert first.tolist() == second.tolist() == [1.0, 1.0]


def test_step_with_state_of_another_shape_updates_nothing():
    params, optimizer = optimizer_with_gradients("adam")
    before = values_of(params)
    optimizer.state[params[1]]["exp_avg"] = sg.zeros(7)
    with pytest.raises(RuntimeError, match=r"has shape \[2, 2\] but its optimizer state "
                                           r"'exp_avg' has shape \[7\]"):
        optimizer.step()
    assert_all_equal(params, before)


def test_optimizer_load_state_dict_that_does_not_fit_changes_nothing():
    params, optimizer = optimizer_with_gradients("adam")
    state, groups = state_values(optimizer), [dict(g) for g in optimizer.param_groups]
    wrong_shape = optimizer.state_dict()
    wrong_shape["state"][1]["exp_avg"] = np.zeros(5, np.float32)
    with pytest.raises(ValueError, match=r"'exp_avg' of parameter 1 has shape \(5,\)"):
        optimizer.load_state_dict(wrong_shape)
    bad_lr = optimizer.state_dict()
    bad_lr["param_groups"][0]["lr"] = -1.0
    with pytest.raises(ValueError, match="Invalid learning rate: -1.0"):
        optimizer.load_state_dict(bad_lr)
    assert_state_equal(optimizer, state)
    assert optimizer.param_groups == groups


def test_module_load_state_dict_with_a_value_that_cannot_be_cast_changes_nothing():
    model = nn.Linear(2, 1)
    before = values_of(model.parameters())
    state = {"weight": np.full((1, 2), 5.0), "bias": np.array(["x"])}
    with pytest.raises(ValueError):
        model.load_state_dict(state)
    assert_all_equal(model.parameters(), before)
