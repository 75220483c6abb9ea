"""optim.lr_scheduler (symgrad.optim.lr_scheduler.closed and .composite): every schedule
against PyTorch's (learning rates and cycled momentum step by step, two parameter groups),
state_dict round trips, errors, and schedules stepped inside sg.train's compiled loop equal
to the eager loop."""
import math

import numpy as np
import pytest

import symgrad as sg
from symgrad import nn, optim
from tests.optim.training_cases import (assert_train_matches_eager, make_model, make_step,
                                        regression_data)

PLATEAU_METRICS = [1, 0.9, 0.95, 0.95, 0.95, 0.8, 0.85, 0.9, 0.9, 0.9, 0.9, 0.9] * 3

SCHEDULES = {
    "StepLR": lambda L, o: L.StepLR(o, 3, 0.5),
    "MultiStepLR": lambda L, o: L.MultiStepLR(o, [2, 5, 5, 9], 0.5),
    "ExponentialLR": lambda L, o: L.ExponentialLR(o, 0.9),
    "CosineAnnealingLR": lambda L, o: L.CosineAnnealingLR(o, 7, 0.01),
    "LambdaLR": lambda L, o: L.LambdaLR(o, [lambda e: 0.95 ** e, lambda e: 1 / (1 + e)]),
    "MultiplicativeLR": lambda L, o: L.MultiplicativeLR(o, lambda e: 0.95),
    "LinearLR": lambda L, o: L.LinearLR(o, 0.25, 1.0, 6),
    "ConstantLR": lambda L, o: L.ConstantLR(o, 0.5, 4),
    "PolynomialLR": lambda L, o: L.PolynomialLR(o, 8, 2.0),
    "OneCycleLR": lambda L, o: L.OneCycleLR(o, [1.0, 0.5], total_steps=30),
    "OneCycleLR-3-linear": lambda L, o: L.OneCycleLR(o, 1.0, total_steps=30, three_phase=True,
                                                     anneal_strategy="linear"),
    "SequentialLR": lambda L, o: L.SequentialLR(o, [L.LinearLR(o, 0.1, 1.0, 4),
                                                    L.CosineAnnealingLR(o, 10)], [5]),
    "ReduceLROnPlateau": lambda L, o: L.ReduceLROnPlateau(o, patience=2, cooldown=1, factor=0.5),
}


def schedule_history(lib, tensors, make, steps=25):
    """Learning rates (and momenta) after each step of ``make``'s schedule."""
    opt = lib.optim.SGD([{"params": tensors[:1]}, {"params": tensors[1:], "lr": 0.05}], lr=0.1,
                        momentum=0.9)
    schedule = make(lib.optim.lr_scheduler, opt)
    plateau = type(schedule).__name__ == "ReduceLROnPlateau"
    history = []
    for step in range(steps):
        history.append(list(schedule.get_last_lr()) + [g["momentum"] for g in opt.param_groups])
        opt.step()
        schedule.step(PLATEAU_METRICS[step]) if plateau else schedule.step()
    return history, schedule


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_schedule_matches_pytorch(name):
    real = pytest.importorskip("torch")
    expected, _ = schedule_history(real, [real.zeros(2, requires_grad=True),
                                          real.zeros(1, requires_grad=True)], SCHEDULES[name])
    ours, _ = schedule_history(sg, [sg.zeros(2, requires_grad=True),
                                    sg.zeros(1, requires_grad=True)], SCHEDULES[name])
    np.testing.assert_allclose(np.array(ours, float), np.array(expected, float), rtol=1e-12)


@pytest.mark.parametrize("name", ["StepLR", "CosineAnnealingLR", "OneCycleLR", "SequentialLR",
                                  "ReduceLROnPlateau"])
def test_state_dict_round_trip_continues_identically(name):
    params = [sg.zeros(2, requires_grad=True), sg.zeros(1, requires_grad=True)]
    full, _ = schedule_history(sg, params, SCHEDULES[name], steps=20)
    params = [sg.zeros(2, requires_grad=True), sg.zeros(1, requires_grad=True)]
    _, first = schedule_history(sg, params, SCHEDULES[name], steps=8)
    saved, saved_groups = first.state_dict(), first.optimizer.state_dict()
    assert "optimizer" not in saved
    fresh = optim.SGD([{"params": params[:1]}, {"params": params[1:], "lr": 0.05}], lr=0.1,
                      momentum=0.9)
    resumed = SCHEDULES[name](optim.lr_scheduler, fresh)
    fresh.load_state_dict(saved_groups)
    resumed.load_state_dict(saved)
    plateau = name == "ReduceLROnPlateau"
    for step in range(8, 20):
        assert list(resumed.get_last_lr()) + [g["momentum"] for g in fresh.param_groups] == \
            pytest.approx(full[step], rel=1e-12)
        fresh.step()
        resumed.step(PLATEAU_METRICS[step]) if plateau else resumed.step()


def test_errors():
    opt = optim.SGD([sg.zeros(1, requires_grad=True)], lr=0.1)
    L = optim.lr_scheduler
    with pytest.raises(TypeError, match="list is not an Optimizer"):
        L.StepLR([], 2)
    with pytest.raises(KeyError, match="param 'initial_lr' is not specified in param_groups"):
        L.StepLR(opt, 2, last_epoch=3)
    with pytest.raises(ValueError, match="Expected 1 lr_lambdas, but got 2"):
        L.LambdaLR(opt, [lambda e: 1, lambda e: 1])
    with pytest.raises(ValueError, match="You must define either total_steps OR"):
        L.OneCycleLR(opt, 1.0)
    with pytest.raises(ValueError, match="Factor should be < 1.0."):
        L.ReduceLROnPlateau(opt, factor=2.0)
    with pytest.raises(ValueError, match="number of milestones to be equal to 0"):
        L.SequentialLR(opt, [L.StepLR(opt, 2), L.StepLR(opt, 2)], [])
    once = L.OneCycleLR(opt, 1.0, total_steps=1)
    with pytest.raises(ValueError, match="Tried to step 2 times. The specified number of "
                                         "total steps is 1"):
        once.step()
        once.step()


# -- inside sg.train ---------------------------------------------------------------------
def decay_groups(model, **kwargs):
    """nanoGPT's AdamW groups: matrices decay, biases don't."""
    return optim.AdamW([{"params": [p for p in model.parameters() if p.dim() >= 2],
                         "weight_decay": 0.1},
                        {"params": [p for p in model.parameters() if p.dim() < 2],
                         "weight_decay": 0.0}], **kwargs)


@pytest.mark.parametrize("make_optimizer,make_schedule", [
    (lambda m: decay_groups(m, lr=0.01), lambda o: optim.lr_scheduler.CosineAnnealingLR(o, 5, 1e-3)),
    (lambda m: optim.Adam(m.parameters(), lr=0.1),          # cycles Adam's beta1 too
     lambda o: optim.lr_scheduler.OneCycleLR(o, 0.05, total_steps=20)),
    (lambda m: optim.SGD(m.parameters(), lr=0.1, momentum=0.5),
     lambda o: optim.lr_scheduler.SequentialLR(o, [optim.lr_scheduler.LinearLR(o, 0.1, 1.0, 4),
                                                   optim.lr_scheduler.MultiStepLR(o, [3, 6])],
                                               [5])),
], ids=["cosine-adamw-groups", "onecycle-adam", "sequential-sgd"])
def test_schedule_stepped_in_the_compiled_step_equals_the_eager_loop(make_optimizer, make_schedule):
    eager, compiled = assert_train_matches_eager(make_optimizer, after_step=make_schedule)
    assert sorted(compiled[2].state_dict()) == sorted(eager[2].state_dict())
    assert compiled[2].get_last_lr() == pytest.approx(eager[2].get_last_lr(), rel=1e-12)
    assert compiled[2].last_epoch == eager[2].last_epoch == 12
    assert compiled[2]._step_count == eager[2]._step_count
    def betas(optimizer):
        return [beta for g in optimizer.param_groups for beta in g.get("betas", ())]
    assert betas(compiled[1]) == pytest.approx(betas(eager[1]), rel=1e-12)


def plateau_run(compiled, steps=14):
    x, y = regression_data()
    model = nn.Linear(3, 1)
    with sg.no_grad():
        model.weight.copy_(sg.tensor([[0.5, 0.1, -0.3]]))
        model.bias.zero_()
    opt = optim.SGD(model.parameters(), lr=0.3)
    plateau = optim.lr_scheduler.ReduceLROnPlateau(opt, mode="max", patience=2, cooldown=1,
                                                   factor=0.5, min_lr=0.02)

    def step(x, y):
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        plateau.step(loss)
        return loss
    if compiled:
        history = sg.train(step, data=(x, y), steps=steps, progress=False)
    else:
        history = [step(x, y).item() for _ in range(steps)]
    return np.asarray(history), plateau, model


def test_reduce_lr_on_plateau_traced_on_the_loss_equals_the_eager_loop():
    expected, eager, eager_model = plateau_run(False)
    history, compiled, model = plateau_run(True)
    assert eager.get_last_lr()[0] < 0.3 / 4                # it did reduce, several times
    np.testing.assert_allclose(history, expected, rtol=1e-5)
    assert compiled.get_last_lr() == pytest.approx(eager.get_last_lr(), rel=1e-12)
    for key in ("last_epoch", "num_bad_epochs", "cooldown_counter"):
        assert getattr(compiled, key) == getattr(eager, key)
    assert compiled.best == pytest.approx(eager.best, rel=1e-6)
    np.testing.assert_allclose(model.weight.detach().numpy(), eager_model.weight.detach().numpy(),
                               rtol=1e-5)


def per_epoch_run(compiled, epochs=5, batches=4):
    """StepLR stepped after each epoch: by train(epoch_end=) or a PyTorch-style loop."""
    x, y = regression_data(rows=16)
    model = make_model()
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    schedule = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    criterion = nn.MSELoss()

    def step(x, y):
        opt.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        opt.step()
        return loss
    if compiled:
        history = sg.train(step, data=(x, y), epochs=epochs, batch_size=4, progress=False,
                           epoch_end=schedule.step)
    else:
        history = []
        for _ in range(epochs):
            for b in range(batches):
                history.append(step(x[4 * b:4 * b + 4], y[4 * b:4 * b + 4]).item())
            schedule.step()
    return np.asarray(history), schedule, model


def test_schedule_stepped_per_epoch_by_epoch_end_equals_the_eager_loop():
    expected, eager, eager_model = per_epoch_run(False)
    history, compiled, model = per_epoch_run(True)
    np.testing.assert_allclose(history, expected, rtol=1e-5)
    assert compiled.last_epoch == eager.last_epoch == 5
    assert compiled.get_last_lr() == eager.get_last_lr() == [0.025]
    for ours, theirs in zip(model.parameters(), eager_model.parameters()):
        np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-5,
                                   atol=1e-6)


def test_epoch_end_errors():
    x, y = regression_data()
    with pytest.raises(TypeError, match="epoch_end must be a function, got int"):
        sg.train(lambda x, y: x.sum(), data=(x, y), steps=2, epoch_end=3, progress=False)
    with pytest.raises(TypeError, match="epoch_end= is for PyTorch-style steps"):
        sg.train(lambda w, x, y: (w, np.sum(x)), np.ones(1), data=(x.numpy(), y.numpy()),
                 steps=2, epoch_end=print, progress=False)


def test_one_cycle_longer_than_its_total_steps_is_refused_before_the_compiled_loop():
    x, y = regression_data()
    cycle = {}

    def schedule(opt):
        cycle["schedule"] = optim.lr_scheduler.OneCycleLR(opt, 0.1, total_steps=5)
        return cycle["schedule"]
    *_, step = make_step(lambda m: optim.SGD(m.parameters(), lr=0.1, momentum=0.9),
                         after_step=schedule)
    with pytest.raises(ValueError, match="Tried to step 8 times. The specified number of total "
                                         "steps is 5"):
        sg.train(step, data=(x, y), steps=8, progress=False)
    assert cycle["schedule"].last_epoch == 0           # put back as it was before train


@pytest.mark.parametrize("per_epoch", [False, True])
def test_lambda_schedules_with_any_python_inside_sg_train(per_epoch):
    """The lambdas (math.cos, if, min: not traceable) are tabled before the loop."""
    def warmup(epoch):
        return min(1.0, (epoch + 1) / 3) if epoch < 4 else math.cos(epoch / 10)

    def run(compiled):
        x, y = regression_data()
        model, opt, schedule, step = make_step(
            lambda m: optim.SGD(m.parameters(), lr=0.1),
            after_step=None if per_epoch else lambda o: optim.lr_scheduler.LambdaLR(o, warmup))
        if per_epoch:
            schedule = optim.lr_scheduler.MultiplicativeLR(opt, lambda e: 0.9 if e % 2 else 1.0)
        if compiled:
            sg.train(step, data=(x, y), epochs=3, batch_size=4, progress=False,
                     epoch_end=schedule.step if per_epoch else None)
        else:
            for epoch in range(3):
                for b in range(4):
                    step(x[4 * b:4 * b + 4], y[4 * b:4 * b + 4])
                if per_epoch:
                    schedule.step()
        return model, schedule
    (eager_model, eager), (model, compiled) = run(False), run(True)
    assert compiled.get_last_lr() == pytest.approx(eager.get_last_lr(), rel=1e-12)
    assert compiled.last_epoch == eager.last_epoch
    assert "_planned" not in compiled.state_dict()
    for ours, theirs in zip(model.parameters(), eager_model.parameters()):
        np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-5,
                                   atol=1e-6)
