"""Helpers of the layer tests (tests/nn/test_*.py): PyTorch when installed, and one model
trained eagerly and in sg.train from the same seed."""
import numpy as np
import pytest

import symgrad as sg


def real_torch():
    """PyTorch, or the test is skipped."""
    return pytest.importorskip("torch")


def value(t):
    return np.asarray(t.detach().numpy())


def to_torch(real, array, requires_grad=False):
    return real.tensor(np.asarray(array), requires_grad=requires_grad)


def load_into_torch(real, ours, theirs):
    """Copy our module's state (parameters and buffers) into the PyTorch module ``theirs``."""
    state = {k: real.tensor(value(v)) for k, v in ours.state_dict().items()}
    theirs.load_state_dict(state)
    return theirs


def train_eagerly_and_compiled(make_model, batch, loss_of, steps=3, lr=0.1, seed=0):
    """[(losses, final state_dict as arrays)] of SGD steps of ``loss_of(model, *batch)``, run
    eagerly and then in sg.train, each from ``sg.manual_seed(seed)`` (the same initial
    weights, the same dropout masks)."""
    results = []
    for compiled in (False, True):
        sg.manual_seed(seed)
        model = make_model()
        opt = sg.optim.SGD(model.parameters(), lr=lr)

        def step(*arrays):
            opt.zero_grad()
            loss = loss_of(model, *arrays)
            loss.backward()
            opt.step()
            return loss
        if compiled:
            history = sg.train(step, data=batch, steps=steps, progress=False)
        else:
            history = [step(*[sg.tensor(b) for b in batch]).item() for _ in range(steps)]
        results.append((np.asarray(history), {k: value(v) for k, v in model.state_dict().items()}))
    return results


def assert_compiled_equals_eager(make_model, batch, loss_of, steps=3, rtol=1e-5, atol=1e-6):
    (eager_losses, eager_state), (losses, state) = train_eagerly_and_compiled(
        make_model, batch, loss_of, steps)
    np.testing.assert_allclose(losses, eager_losses, rtol=rtol, atol=atol)
    assert list(state) == list(eager_state)
    for key in state:
        np.testing.assert_allclose(state[key], eager_state[key], rtol=rtol, atol=atol, err_msg=key)
    return eager_state
