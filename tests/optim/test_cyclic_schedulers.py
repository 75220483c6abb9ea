"""CyclicLR, CosineAnnealingWarmRestarts and ChainedScheduler against PyTorch (learning rates
and cycled momentum step by step, two parameter groups), state_dict round trips, errors,
and each stepped inside sg.train's compiled loop equal to the eager loop."""
import numpy as np
import pytest

import symgrad as sg
from symgrad import optim
from tests.optim.test_lr_scheduler import schedule_history
from tests.optim.training_cases import assert_train_matches_eager


class Halving:
    """A callable scale_fn object (its attributes are saved in the state_dict)."""

    def __init__(self):
        self.base = 0.5

    def __call__(self, x):
        return self.base ** x


SCHEDULES = {
    "CyclicLR": lambda L, o: L.CyclicLR(o, [0.01, 0.02], [0.1, 0.3], step_size_up=3,
                                        step_size_down=5),
    "CyclicLR-triangular2": lambda L, o: L.CyclicLR(o, 0.01, 0.1, step_size_up=2,
                                                    mode="triangular2"),
    "CyclicLR-exp_range": lambda L, o: L.CyclicLR(o, 0.01, 0.1, step_size_up=4,
                                                  mode="exp_range", gamma=0.9,
                                                  base_momentum=0.7, max_momentum=0.95),
    "CyclicLR-scale_fn": lambda L, o: L.CyclicLR(o, 0.01, 0.1, step_size_up=2,
                                                 scale_fn=Halving(), scale_mode="iterations",
                                                 cycle_momentum=False),
    "CosineAnnealingWarmRestarts": lambda L, o: L.CosineAnnealingWarmRestarts(o, 3, 1, 0.001),
    "CosineAnnealingWarmRestarts-mult": lambda L, o: L.CosineAnnealingWarmRestarts(o, 2, 2),
    "ChainedScheduler": lambda L, o: L.ChainedScheduler([L.ExponentialLR(o, 0.9),
                                                         L.StepLR(o, 4, 0.5),
                                                         L.ConstantLR(o, 0.5, 3)]),
}


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_schedule_matches_pytorch(name):
    real = pytest.importorskip("torch")
    expected, theirs = schedule_history(real, [real.zeros(2, requires_grad=True),
                                               real.zeros(1, requires_grad=True)],
                                        SCHEDULES[name])
    ours, mine = schedule_history(sg, [sg.zeros(2, requires_grad=True),
                                       sg.zeros(1, requires_grad=True)], SCHEDULES[name])
    np.testing.assert_allclose(np.array(ours, float), np.array(expected, float), rtol=1e-12)
    their_state = theirs.state_dict()
    their_state.pop("_get_lr_called_within_step", None)
    assert set(mine.state_dict()) == set(their_state)


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_state_dict_round_trip_continues_identically(name):
    params = [sg.zeros(2, requires_grad=True), sg.zeros(1, requires_grad=True)]
    full, _ = schedule_history(sg, params, SCHEDULES[name], steps=20)
    params = [sg.zeros(2, requires_grad=True), sg.zeros(1, requires_grad=True)]
    _, first = schedule_history(sg, params, SCHEDULES[name], steps=8)
    saved, saved_groups = first.state_dict(), first.optimizer.state_dict()
    fresh = optim.SGD([{"params": params[:1]}, {"params": params[1:], "lr": 0.05}], lr=0.1,
                      momentum=0.9)
    resumed = SCHEDULES[name](optim.lr_scheduler, fresh)
    fresh.load_state_dict(saved_groups)
    resumed.load_state_dict(saved)
    for step in range(8, 20):
        assert list(resumed.get_last_lr()) + [g["momentum"] for g in fresh.param_groups] == \
            pytest.approx(full[step], rel=1e-12)
        fresh.step()
        resumed.step()


def test_warm_restarts_step_to_an_epoch_matches_pytorch():
    real = pytest.importorskip("torch")
    rates = []
    for lib in (sg, real):
        opt = lib.optim.SGD([lib.zeros(1, requires_grad=True)], lr=1.0)
        schedule = lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, 2, 3, 0.1)
        for epoch in (0.5, 1.25, 7.0, 20.5, 3):
            schedule.step(epoch)
            rates.append(schedule.get_last_lr()[0])
    np.testing.assert_allclose(rates[:5], rates[5:], rtol=1e-12)


@pytest.mark.parametrize("build", [
    lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=0),
    lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=0),
    lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=2, eta_min="0"),
    lambda L, o: L.CyclicLR(o, 0.1, 1.0, mode="x", cycle_momentum=False),
    lambda L, o: L.CyclicLR(o, [0.1, 0.2], 1.0),
    lambda L, o: L.ChainedScheduler([]),
    lambda L, o: L.ChainedScheduler([L.ReduceLROnPlateau(o)]),
])
def test_errors_match_pytorch(build):
    real = pytest.importorskip("torch")
    messages = []
    for lib in (sg, real):
        opt = lib.optim.SGD([lib.zeros(1, requires_grad=True)], lr=1.0)
        with pytest.raises(Exception) as error:
            build(lib.optim.lr_scheduler, opt)
        messages.append((type(error.value).__name__, str(error.value)))
    assert messages[0] == messages[1]


def test_cyclic_needs_momentum():
    opt = optim.Adagrad([sg.zeros(1, requires_grad=True)])
    with pytest.raises(ValueError, match="optimizer must support momentum or beta1"):
        optim.lr_scheduler.CyclicLR(opt, 0.1, 1.0)


@pytest.mark.parametrize("make_optimizer,make_schedule", [
    (lambda m: optim.SGD(m.parameters(), lr=0.1, momentum=0.5),
     lambda o: optim.lr_scheduler.CyclicLR(o, 0.01, 0.1, step_size_up=3, mode="triangular2")),
    (lambda m: optim.Adam(m.parameters(), lr=0.1),            # cycles Adam's beta1 too
     lambda o: optim.lr_scheduler.CyclicLR(o, 0.001, 0.05, step_size_up=2, mode="exp_range",
                                           gamma=0.95)),
    (lambda m: optim.SGD(m.parameters(), lr=0.1),
     lambda o: optim.lr_scheduler.CosineAnnealingWarmRestarts(o, 3, 2, 0.01)),
    (lambda m: optim.SGD(m.parameters(), lr=0.1),
     lambda o: optim.lr_scheduler.ChainedScheduler([optim.lr_scheduler.ExponentialLR(o, 0.9),
                                                    optim.lr_scheduler.StepLR(o, 3, 0.5)])),
], ids=["cyclic-sgd", "cyclic-adam", "warm-restarts", "chained"])
def test_schedule_stepped_in_the_compiled_step_equals_the_eager_loop(make_optimizer,
                                                                     make_schedule):
    eager, compiled = assert_train_matches_eager(make_optimizer, steps=10,
                                                 after_step=make_schedule)
    assert compiled[2].get_last_lr() == pytest.approx(eager[2].get_last_lr(), rel=1e-12)
    assert compiled[2].state_dict().keys() == eager[2].state_dict().keys()
    def momenta(optimizer):
        return [group.get("momentum", group.get("betas", (None,))[0])
                for group in optimizer.param_groups]
    assert momenta(compiled[1]) == pytest.approx(momenta(eager[1]), rel=1e-12)
