"""A small model trained eagerly and by ``sg.train``: the compiled loop must leave the same
weights (and optimizer state) as the eager loop. Shared by the optim and nn.utils tests."""
import numpy as np

import symgrad as sg
from symgrad import nn


def regression_data(rows=16, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, 3)).astype(np.float32)
    y = (x @ np.array([[1.0], [-2.0], [0.5]], np.float32) + 0.1).astype(np.float32)
    return sg.tensor(x), sg.tensor(y)


def make_model(seed=3):
    sg.manual_seed(seed)
    return nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))


def make_step(make_optimizer, after_backward=None, after_step=None, seed=3):
    """(model, optimizer, extra, step); ``make_optimizer(model)`` gives one optimizer or a
    list (each stepped); ``after_backward(model)`` runs between ``backward`` and
    ``optimizer.step`` (gradient clipping), ``after_step(optimizer)`` after it (schedulers:
    it returns the object the step then steps)."""
    model = make_model(seed)
    optimizer = make_optimizer(model)
    optimizers = optimizer if isinstance(optimizer, list) else [optimizer]
    extra = after_step(optimizer) if after_step else None
    criterion = nn.MSELoss()

    def step(x, y):
        for each in optimizers:
            each.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        if after_backward is not None:
            after_backward(model)
        for each in optimizers:
            each.step()
        if extra is not None:
            extra.step()
        return loss
    return model, optimizer, extra, step


def _optimizers(optimizer):
    return optimizer if isinstance(optimizer, list) else [optimizer]


def assert_train_matches_eager(make_optimizer, steps=12, after_backward=None, after_step=None,
                               rtol=1e-5, atol=1e-6):
    """Train ``steps`` steps eagerly and with ``sg.train`` from the same weights; returns the
    two (model, optimizer, extra) triples after checking losses, weights and state."""
    x, y = regression_data()
    eager = make_step(make_optimizer, after_backward, after_step)
    expected = [eager[3](x, y).item() for _ in range(steps)]
    compiled = make_step(make_optimizer, after_backward, after_step)
    history = sg.train(compiled[3], data=(x, y), steps=steps, progress=False)
    np.testing.assert_allclose(history, expected, rtol=rtol, atol=atol)
    for ours, theirs in zip(compiled[0].parameters(), eager[0].parameters()):
        np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(),
                                   rtol=rtol, atol=atol)
    for our_optimizer, their_optimizer in zip(_optimizers(compiled[1]), _optimizers(eager[1])):
        for ours, theirs in zip(our_optimizer.state.values(), their_optimizer.state.values()):
            assert sorted(ours) == sorted(theirs)
            for key in theirs:
                np.testing.assert_allclose(np.asarray(ours[key]._value),
                                           np.asarray(theirs[key]._value),
                                           rtol=10 * rtol, atol=10 * atol)
        for ours, theirs in zip(our_optimizer.param_groups, their_optimizer.param_groups):
            assert abs(ours["lr"] - theirs["lr"]) <= 1e-12 + 1e-9 * abs(theirs["lr"])
    return eager, compiled
