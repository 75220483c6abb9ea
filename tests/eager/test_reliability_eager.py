"""Issue 15, the eager side: nothing half-updated after an error (optimizer steps, state
dict loading, failed ``sg.train`` runs), ``sg.train`` interruptible between chunks whatever
``progress`` says, eager tapes keyed by the types of their Python scalars and arrays (not
their values), and clear errors for the mistakes listed there."""
import re

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


# -- item 16: Python scalars and arrays in a tape are keyed by type, fed as inputs -------------
@pytest.fixture
def fresh_tape_cache(monkeypatch):
    """An empty tape cache for the test (structures other tests made are not counted)."""
    from symgrad.core.bounded_cache import BoundedCache
    from symgrad.eager import tape
    monkeypatch.setattr(tape, "_COMPILED", BoundedCache(tape.TAPE_CACHE_SIZE, tape.log_evicted_backward))
    return tape


@pytest.fixture
def compile_count(monkeypatch):
    """How many graphs the compiler compiles while the test runs."""
    import symgrad.compiler as compiler
    count = [0]
    real = compiler.compile_graph

    def counting(*args, **kwargs):
        count[0] += 1
        return real(*args, **kwargs)
    monkeypatch.setattr(compiler, "compile_graph", counting)
    return count


def linear_and_data():
    rng = np.random.default_rng(0)
    w, b = rng.standard_normal((1, 3)).astype(np.float32), np.float32(0.5)
    x, y = (rng.standard_normal(shape).astype(np.float32) for shape in ((8, 3), (8, 1)))
    return w, b, x, y


def test_loss_scaled_by_a_changing_python_scalar_compiles_its_backward_once(compile_count,
                                                                            fresh_tape_cache):
    torch = pytest.importorskip("torch")
    w, b, x, y = linear_and_data()
    model, reference = nn.Linear(3, 1), torch.nn.Linear(3, 1)
    model.load_state_dict({"weight": w, "bias": np.array([b])})
    reference.load_state_dict({"weight": torch.from_numpy(w), "bias": torch.tensor([b])})
    for step in range(12):
        for m, X, Y in ((model, sg.tensor(x), sg.tensor(y)),
                        (reference, torch.from_numpy(x), torch.from_numpy(y))):
            m.zero_grad()
            loss = ((m(X) - Y) ** 2).sum() * (1.0 / (step + 1)) + step
            loss.backward()
        for ours, theirs in zip(model.parameters(), reference.parameters()):
            np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-5, atol=1e-6)
    assert compile_count[0] == 1
    assert len(fresh_tape_cache._COMPILED) == 1


def test_python_and_numpy_scalars_are_weak_as_in_pytorch():
    x = sg.tensor([1.0, 2.0], requires_grad=True)
    for k in range(3):
        x.grad = None
        out = x * (k + 0.5) + np.float64(k) * x + (k + 1) * x
        assert out.dtype == sg.float32      # torch: a numpy scalar counts as a Python number
        out.sum().backward()
        assert x.grad.dtype == np.float32
        np.testing.assert_allclose(x.grad.numpy(), [3 * k + 1.5] * 2)


def test_tensor_times_ndarray_backward_matches_torch_with_the_array_as_a_tensor():
    torch = pytest.importorskip("torch")
    a = np.array([1.0, -2.0, 3.0])
    ours = sg.tensor([0.5, 1.0, 2.0], requires_grad=True)
    theirs = torch.tensor([0.5, 1.0, 2.0], requires_grad=True)
    for shift in range(3):
        ours.grad = theirs.grad = None
        out = ours * (a + shift) + (a - shift) / ours - np.ones(3) @ (ours * a)
        expected = (theirs * torch.from_numpy(a + shift) + torch.from_numpy(a - shift) / theirs
                    - torch.ones(3, dtype=torch.float64) @ (theirs * torch.from_numpy(a)))
        assert out.dtype == np.float64 and expected.dtype == torch.float64
        out.sum().backward()
        expected.sum().backward()
        np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-12)
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-6)


def test_clamp_with_array_and_tensor_bounds_backpropagates_as_torch():
    torch = pytest.importorskip("torch")
    values, upper = [-1.0, 0.5, 2.0], np.full(3, 1.5, np.float32)
    ours, theirs = sg.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
    our_min, their_min = sg.zeros(3, requires_grad=True), torch.zeros(3, requires_grad=True)
    for step in range(2):
        our_min.grad = their_min.grad = ours.grad = theirs.grad = None
        (ours.clamp(min=our_min, max=upper + step) * 3).sum().backward()
        (theirs.clamp(min=their_min, max=torch.from_numpy(upper + step)) * 3).sum().backward()
        np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())
        np.testing.assert_array_equal(our_min.grad.numpy(), their_min.grad.numpy())


def test_clamp_with_a_number_bound_that_changes_every_step_keeps_one_tape(compile_count,
                                                                         fresh_tape_cache):
    torch = pytest.importorskip("torch")
    values = np.linspace(-1, 1, 5, dtype=np.float32)
    ours, theirs = sg.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
    for step in range(4):
        ours.grad = theirs.grad = None
        low = -0.5 + 0.25 * step
        out, expected = ours.clamp(min=low, max=0.8), theirs.clamp(min=low, max=0.8)
        assert out.dtype == np.float32
        np.testing.assert_array_equal(out.detach().numpy(), expected.detach().numpy())
        (out * out).sum().backward()
        (expected * expected).sum().backward()
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-6)
    assert len(fresh_tape_cache._COMPILED) == 1 and compile_count[0] == 1


def test_tape_cache_is_bounded_and_logs_its_evictions(monkeypatch, fresh_tape_cache):
    import logging
    from symgrad.core.compile_log import LOG
    tape = fresh_tape_cache
    monkeypatch.setattr(tape._COMPILED, "size", 3)
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    LOG.addHandler(handler)
    level = LOG.level
    LOG.setLevel(logging.INFO)
    try:
        for n in range(2, 8):                               # a new structure (shape) each time
            x = sg.ones(n, requires_grad=True)
            (x * x).sum().backward()
            assert x.grad.tolist() == [2.0] * n
            assert len(tape._COMPILED) <= 3
    finally:
        LOG.removeHandler(handler)
        LOG.setLevel(level)
    evictions = [r.getMessage() for r in records if "evicting" in r.getMessage()]
    assert evictions and "TAPE_CACHE_SIZE" in evictions[-1]


def test_assignment_through_a_boolean_mask_records_and_matches_torch():
    torch = pytest.importorskip("torch")
    ours = sg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    theirs = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for mask in ([True, False, True], [False, True, False]):
        ours.grad = theirs.grad = None
        y, expected = ours * 2, theirs * 2
        y[np.array(mask)] = 0.5
        expected[torch.tensor(mask)] = 0.5
        assert y.grad_fn.name() == expected.grad_fn.name() == "IndexPutBackward0"
        (y * y).sum().backward()
        (expected * expected).sum().backward()
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy())


def test_assignments_symgrad_cannot_record_are_refused_and_change_nothing():
    x = sg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2
    with pytest.raises(IndexError, match="with an index array"):
        y[np.array([0, 2])] = 0.0
    with pytest.raises(IndexError, match="with 2 values"):
        y[np.array([True, False, True])] = sg.tensor([7.0, 8.0])
    with pytest.raises(IndexError, match=r"mask has shape \[2\], the tensor \[3\]"):
        y[np.array([True, False])] = 0.0
    assert y.tolist() == [2.0, 4.0, 6.0] and y.grad_fn.name() == "MulBackward0"
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0, 2.0]
    plain = sg.tensor([1.0, 2.0, 3.0])                     # no gradient: numpy's semantics
    plain[np.array([True, False, True])] = np.array([7.0, 8.0])
    assert plain.tolist() == [7.0, 2.0, 8.0]


# -- item 6: state found through self, closures, defaults and containers; restored on failure --
def regression_data():
    rng = np.random.default_rng(1)
    return tuple(rng.standard_normal(shape).astype(np.float32) for shape in ((16, 3), (16, 2)))


class Trainer:
    """The common shape of a PyTorch training script: state held by a plain object."""

    def __init__(self, fail_after=None):
        sg.manual_seed(0)
        self.model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
        self.opt = optim.Adam(self.model.parameters(), lr=0.05)
        self.criterion = nn.MSELoss()
        self.calls, self.fail_after = 0, fail_after

    def step(self, x, y):
        self.calls += 1
        self.opt.zero_grad()
        loss = self.criterion(self.model(x), y)
        loss.backward()
        self.opt.step()
        if self.calls == self.fail_after:
            raise RuntimeError("the step failed")
        return loss


def eager_losses(step, x, y, steps):
    return [step(sg.tensor(x), sg.tensor(y)).item() for _ in range(steps)]


def assert_same_training_state(model, opt, other_model, other_opt):
    for ours, theirs in zip(model.parameters(), other_model.parameters()):
        np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(),
                                   rtol=2e-5, atol=1e-6)
    for ours, theirs in zip(opt.state.values(), other_opt.state.values()):
        for key in theirs:
            np.testing.assert_allclose(np.asarray(ours[key]._value), np.asarray(theirs[key]._value),
                                       rtol=1e-4, atol=1e-6)


def test_a_trainer_method_step_trains_as_the_eager_loop_does():
    x, y = regression_data()
    eager, compiled = Trainer(), Trainer()
    expected = eager_losses(eager.step, x, y, 20)
    history = sg.train(compiled.step, data=(x, y), steps=20, progress=False)
    np.testing.assert_allclose(history, expected, rtol=2e-5)
    assert_same_training_state(compiled.model, compiled.opt, eager.model, eager.opt)


@pytest.mark.parametrize("warm", [0, 2], ids=["fresh", "with-optimizer-state"])
def test_a_trainer_step_that_fails_after_its_eager_first_step_leaves_everything_as_before(warm):
    x, y = regression_data()
    trainer = Trainer()
    eager_losses(trainer.step, x, y, warm)
    params = values_of(trainer.model.parameters())
    grads = [p.grad for p in trainer.model.parameters()]
    state, groups = state_values(trainer.opt), [dict(g) for g in trainer.opt.param_groups]
    trainer.fail_after = trainer.calls + 2          # the eager first step runs, the trace fails
    with pytest.raises(RuntimeError, match="the step failed"):
        sg.train(trainer.step, data=(x, y), steps=5, progress=False)
    assert trainer.calls == warm + 2
    assert_all_equal(trainer.model.parameters(), params)
    assert all(p.grad is grad for p, grad in zip(trainer.model.parameters(), grads))
    assert_state_equal(trainer.opt, state)
    assert trainer.opt.param_groups == groups


def closure_over_a_dict(models, optimizers):
    def step(x, y):
        optimizers["main"].zero_grad()
        loss = ((models["net"](x) - y) ** 2).mean()
        loss.backward()
        optimizers["main"].step()
        return loss
    return step


def default_arguments(model, optimizer):
    def step(x, y, model=model, optimizer=optimizer):
        optimizer.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        optimizer.step()
        return loss
    return step


def partial_of_a_function(model, optimizer):
    import functools

    def step(model, optimizer, x, y):
        optimizer.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        optimizer.step()
        return loss
    return functools.partial(step, model, optimizer)


class SelfTrainingNet(nn.Module):
    """A module that holds its own optimizer as a plain attribute."""

    def __init__(self, model, optimizer):
        super().__init__()
        self.net = model
        self.optimizer = optimizer

    def training_step(self, x, y):
        self.optimizer.zero_grad()
        loss = ((self.net(x) - y) ** 2).mean()
        loss.backward()
        self.optimizer.step()
        return loss


STEP_SHAPES = {
    "dict-of-modules": lambda m, o: closure_over_a_dict({"net": m}, {"main": o}),
    "default-arguments": default_arguments,
    "functools-partial": partial_of_a_function,
    "module-method": lambda m, o: SelfTrainingNet(m, o).training_step,
}


def model_and_optimizer():
    sg.manual_seed(2)
    model = nn.Linear(3, 2)
    return model, optim.SGD(model.parameters(), lr=0.05, momentum=0.9)


@pytest.mark.parametrize("shape", list(STEP_SHAPES))
def test_state_reached_through_containers_defaults_and_partials_trains_as_eager(shape):
    x, y = regression_data()
    eager_model, eager_opt = model_and_optimizer()
    expected = eager_losses(STEP_SHAPES[shape](eager_model, eager_opt), x, y, 10)
    model, opt = model_and_optimizer()
    step = STEP_SHAPES[shape](model, opt)
    history = sg.train(step, data=(x, y), steps=10, progress=False)
    np.testing.assert_allclose(history, expected, rtol=2e-5)
    assert_same_training_state(model, opt, eager_model, eager_opt)


# -- item 15: the compiled loop runs in short chunks whatever `progress` says ------------------
@pytest.fixture
def compiled_chunks(monkeypatch):
    """The step counts of the compiled loop's calls, each chunk a single step (a clock that
    says every chunk took CHUNK_SECONDS); ``interrupt_at[k] = error`` raises ``error`` before
    call ``k`` (a KeyboardInterrupt as a Ctrl-C that arrived while the chunk before it ran
    would, another error as a failure in the middle of the loop)."""
    import contextlib

    import symgrad.compiler as compiler
    from symgrad.training import progress
    ticks = iter(range(10 ** 6))
    monkeypatch.setattr(progress, "_clock", lambda: next(ticks) * progress.CHUNK_SECONDS)
    counts, interrupt_at = [], {}
    real = compiler.CompiledLoop.bound

    @contextlib.contextmanager
    def counted(self, *args):
        with real(self, *args) as run_steps:
            def run(start, count):
                if len(counts) in interrupt_at:
                    raise interrupt_at[len(counts)]
                counts.append(count)
                run_steps(start, count)
            yield run
    monkeypatch.setattr(compiler.CompiledLoop, "bound", counted)
    return counts, interrupt_at


def test_chunk_size_follows_the_pace_of_the_chunk_before():
    from symgrad.training.progress import CHUNK_SECONDS, GROWTH, _next_count
    assert _next_count(1, CHUNK_SECONDS / 1000) == GROWTH            # grows at most 4x
    assert _next_count(1000, CHUNK_SECONDS) == 1000
    assert _next_count(1000, 4 * CHUNK_SECONDS) == 250
    assert _next_count(1, 10.0) == 1


def test_loop_without_a_progress_bar_runs_in_chunks(compiled_chunks):
    counts, _ = compiled_chunks
    x, y = regression_data()
    trainer = Trainer()
    history = sg.train(trainer.step, data=(x, y), steps=6, progress=False)
    assert counts == [1] * 5                        # the first step runs eagerly
    expected = eager_losses(Trainer().step, x, y, 6)
    np.testing.assert_allclose(history, expected, rtol=2e-5)


def test_ctrl_c_between_chunks_keeps_the_state_of_the_last_whole_step(compiled_chunks, capsys):
    counts, interrupt_at = compiled_chunks
    interrupt_at[3] = KeyboardInterrupt
    x, y = regression_data()
    trainer = Trainer()
    history = sg.train(trainer.step, data=(x, y), steps=10, progress=False)
    assert len(history) == 4 and counts == [1, 1, 1]
    assert "training interrupted: 4 of 10 steps done" in capsys.readouterr().out
    eager = Trainer()
    np.testing.assert_allclose(history, eager_losses(eager.step, x, y, 4), rtol=2e-5)
    assert_same_training_state(trainer.model, trainer.opt, eager.model, eager.opt)


def test_an_error_in_the_middle_of_the_compiled_loop_puts_the_state_back(compiled_chunks):
    _, interrupt_at = compiled_chunks
    interrupt_at[3] = MemoryError("out of memory")
    x, y = regression_data()
    trainer = Trainer()
    eager_losses(trainer.step, x, y, 2)
    params = values_of(trainer.model.parameters())
    state, calls = state_values(trainer.opt), trainer.calls
    with pytest.raises(MemoryError, match="out of memory"):
        sg.train(trainer.step, data=(x, y), steps=10, progress=False)
    assert trainer.calls > calls                   # its eager first step ran
    assert_all_equal(trainer.model.parameters(), params)
    assert_state_equal(trainer.opt, state)


@pytest.mark.parametrize("dtype", [np.float16, np.complex128])
def test_data_and_params_of_an_unsupported_dtype_are_refused_before_tracing(dtype):
    x = np.ones(3, dtype)
    with pytest.raises(sg.errors.TracingTypeError, match=rf"train: data\[0\] \(shape \[3\]\) has "
                                                  rf"dtype {np.dtype(dtype).name}"):
        sg.train(functional_step, 1.0, data=(x,), steps=2, progress=False)
    with pytest.raises(sg.errors.TracingTypeError, match=rf"params leaf 0 .* {np.dtype(dtype).name}"):
        sg.train(functional_step, np.ones(3, dtype), data=(np.ones(3),), steps=2,
                 progress=False)


# -- item 10: clear errors for sg.train's arguments and for reading values inside a step ------
def functional_step(w, x):
    loss, g = sg.value_and_grad(lambda w: np.sum((x * w) ** 2))(w)
    return w - 0.01 * g, loss


@pytest.mark.parametrize("counts, message", [
    (dict(steps=2.5), r"steps must be a positive int, got 2.5 \(float\)"),
    (dict(steps=True), r"steps must be a positive int, got True \(bool\)"),
    (dict(epochs=1.5), r"epochs must be a positive int, got 1.5 \(float\)"),
    (dict(epochs=1, batch_size=2.0), r"batch_size must be a positive int, got 2.0 \(float\)"),
])
def test_non_integer_step_counts_are_refused(counts, message):
    with pytest.raises(TypeError, match=message):
        sg.train(functional_step, np.ones(3), data=(np.ones((4, 3)),), progress=False, **counts)


@pytest.mark.parametrize("counts", [dict(steps=0), dict(epochs=-1), dict(epochs=1, batch_size=0)])
def test_step_counts_below_one_are_refused(counts):
    with pytest.raises(ValueError, match="must be a positive int, got"):
        sg.train(functional_step, np.ones(3), data=(np.ones((4, 3)),), progress=False, **counts)


def test_numpy_integer_step_counts_are_accepted():
    _, history = sg.train(functional_step, np.ones(3), data=(np.ones((4, 3)),),
                          steps=np.int64(3), progress=False)
    assert len(history) == 3


@pytest.mark.parametrize("wrap", [lambda a: a, sg.tensor], ids=["ndarray", "Tensor"])
def test_a_single_data_array_is_the_steps_one_batch_argument(wrap):
    x = np.arange(12.0).reshape(4, 3)
    for counts in (dict(steps=3), dict(epochs=2, batch_size=2)):
        single = sg.train(functional_step, np.ones(3), data=wrap(x), progress=False, **counts)
        one_tuple = sg.train(functional_step, np.ones(3), data=(x,), progress=False, **counts)
        np.testing.assert_array_equal(single[1], one_tuple[1])
        np.testing.assert_array_equal(single[0], one_tuple[0])


def test_data_that_is_neither_a_tuple_nor_an_array_is_refused():
    with pytest.raises(TypeError, match="data= must be a tuple of arrays .* got dict"):
        sg.train(functional_step, np.ones(3), data={"x": np.ones((4, 3))}, steps=2)


@pytest.mark.parametrize("counts", [dict(steps=2), dict(epochs=1), dict(epochs=1, batch_size=2)])
def test_data_without_samples_is_refused_naming_its_shape(counts):
    with pytest.raises(ValueError, match=r"data\[1\] has shape \[0, 3\]: no samples"):
        sg.train(functional_step, np.ones(3), data=(np.ones((4, 3)), np.zeros((0, 3))), **counts)


def test_data_passed_positionally_is_refused_with_a_hint():
    with pytest.raises(TypeError, match="got 2 arguments after the step.*data="):
        sg.train(functional_step, np.ones(3), np.ones((4, 3)), steps=2)


VALUE_READS = {
    "float()": lambda loss: float(loss), ".item()": lambda loss: loss.item(),
    "int()": lambda loss: int(loss), ".tolist()": lambda loss: loss.tolist(),
    ".numpy()": lambda loss: loss.detach().numpy(),
}


@pytest.mark.parametrize("read", list(VALUE_READS))
def test_reading_a_value_inside_a_compiled_step_names_the_line_and_restores_state(read):
    x, y = regression_data()
    model, opt = model_and_optimizer()
    before = values_of(model.parameters())

    def step(x, y):
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        VALUE_READS[read](loss)
        return loss
    message = (re.escape(read) + r" reads the value of a tensor, but inside a compiled "
               r"training step(.|\n)*at .*test_reliability_eager.py:\d+")
    with pytest.raises(sg.TracingError, match=message):
        sg.train(step, data=(x, y), steps=3, progress=False)
    assert_all_equal(model.parameters(), before)


# -- siblings: in-place resets of GPU tensors stay on the GPU -----------------------------------
def test_zero_grad_without_set_to_none_keeps_gpu_gradients_on_the_gpu():
    import importlib.util
    import os
    import subprocess
    import sys
    if importlib.util.find_spec("numba_cuda") is None:
        pytest.skip("numba-cuda is not installed (pip install -e '.[cuda]')")
    script = (
        "import symgrad as sg\n"
        "model = sg.nn.Linear(2, 1)\n"
        "for p in model.parameters(): p.grad = sg.ones(*p.shape)\n"
        "model.cuda(); model.zero_grad(set_to_none=False)\n"
        "grads = [p.grad for p in model.parameters()]\n"
        "print([str(g.device) for g in grads], model.weight.grad.cpu().tolist())\n"
        "t = sg.ones(3).cuda(); t.fill_(2.0); print(str(t.device), t.cpu().tolist())\n")
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env,
                         check=True).stdout.split("\n")
    assert out[0] == "['cuda:0', 'cuda:0'] [[0.0, 0.0]]"
    assert out[1] == "cuda:0 [2.0, 2.0, 2.0]"
