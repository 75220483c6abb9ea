"""One compile per program, not per batch size: the CPU code reads its arrays' extents at run
time (compiler/codegen/extents.py) and takes non-trivial float constants (a mean's 1 / count)
as arguments (compiler/cpu/sources.py), and the disk cache keys entries by ranks and dtypes
(compiler/disk_cache/store.py). Each test runs a program at one batch size, then at others:
those must compile no machine code (numba's compiles as symgrad's compile log reports them)
and give the reference backend's results."""
import contextlib
import logging

import numpy as np
import pytest

import symgrad as sg
from symgrad import nn

# distinct from every other extent of the programs below, so no batch size coincides with
# a feature count (a coincidence only costs a compile: see compiler/codegen/extents.py)
BATCHES = (4, 6, 11)


@contextlib.contextmanager
def numba_compiles(caplog):
    """Yields the list of numba compiles logged in the block (filled when it ends)."""
    compiles = []
    with caplog.at_level(logging.INFO, logger="symgrad.compile"):
        start = len(caplog.records)
        yield compiles
    compiles += [r.getMessage() for r in caplog.records[start:] if "with numba" in r.getMessage()]


@pytest.fixture
def cache_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("SYMGRAD_CACHE_DIR", str(tmp_path))
    return tmp_path


def data(batch, features=3, outputs=2, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed + batch)
    return (rng.standard_normal((batch, features)).astype(dtype),
            rng.standard_normal((batch, outputs)).astype(dtype))


def mlp_loss(params, x, y):
    hidden = np.tanh(x @ params["w1"])
    return np.mean((hidden @ params["w2"] - y) ** 2)


def mlp_params(dtype=np.float64):
    rng = np.random.default_rng(1)
    return {"w1": rng.standard_normal((3, 7)).astype(dtype) * 0.5,
            "w2": rng.standard_normal((7, 2)).astype(dtype) * 0.5}


def test_grad_at_a_new_batch_size_compiles_nothing(caplog, cache_folder):
    gradient = sg.value_and_grad(mlp_loss)
    reference = sg.value_and_grad(mlp_loss, backend="reference")
    params = mlp_params()
    gradient(params, *data(BATCHES[0]))
    with numba_compiles(caplog) as compiles:
        for batch in BATCHES[1:]:
            (value, grads), (expected_value, expected) = (f(params, *data(batch))
                                                          for f in (gradient, reference))
            np.testing.assert_allclose(value, expected_value, rtol=1e-12)
            for name in params:
                np.testing.assert_allclose(grads[name], expected[name], rtol=1e-12)
    assert compiles == []


def test_jit_reads_every_extent_at_run_time(caplog, cache_folder):
    """Reshapes, reductions along an axis, broadcasting and slices of a whole axis."""
    def normalized_rows(x, scale):
        centered = x - np.mean(x, axis=1, keepdims=True)
        flat = centered.reshape(-1) * scale
        return flat.reshape(x.shape).T[:, :x.shape[0]] / np.sum(x ** 2)
    compiled = sg.jit(normalized_rows)
    scale = np.linspace(0.5, 1.5, 3)
    compiled(data(BATCHES[0])[0], np.tile(scale, BATCHES[0]))
    with numba_compiles(caplog) as compiles:
        for batch in BATCHES[1:]:
            x = data(batch)[0]
            np.testing.assert_allclose(compiled(x, np.tile(scale, batch)),
                                       normalized_rows(x, np.tile(scale, batch)), rtol=1e-12)
    assert compiles == []


def functional_step(params, x, y):
    loss, grads = sg.value_and_grad(mlp_loss)(params, x, y)
    return {k: params[k] - 0.1 * grads[k] for k in params}, loss


def test_functional_train_at_a_new_batch_size_compiles_nothing(caplog, cache_folder):
    x, y = data(66)
    sg.train(functional_step, mlp_params(), data=(x, y), epochs=1, batch_size=BATCHES[0],
             progress=False)
    with numba_compiles(caplog) as compiles:
        for batch in BATCHES[1:]:
            params, history = sg.train(functional_step, mlp_params(), data=(x, y), epochs=1,
                                       batch_size=batch, progress=False)
            expected = mlp_params()
            for step in range(66 // batch):
                rows = slice(step * batch, (step + 1) * batch)
                expected, loss = functional_step(expected, x[rows], y[rows])
                np.testing.assert_allclose(history[step], loss, rtol=1e-10)
            for name in params:
                np.testing.assert_allclose(params[name], expected[name], rtol=1e-10)
    assert compiles == []


def pytorch_style(seed=0):
    sg.manual_seed(seed)
    model = nn.Sequential(nn.Linear(3, 7), nn.ReLU(), nn.Linear(7, 2))
    optimizer = sg.optim.SGD(model.parameters(), lr=0.1)
    criterion = nn.MSELoss()

    def step(x, y):
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
        return loss
    return model, step


def test_pytorch_style_train_at_a_new_batch_size_compiles_nothing(caplog, cache_folder):
    x, y = data(66, dtype=np.float32)
    model, step = pytorch_style()
    sg.train(step, data=(x, y), epochs=1, batch_size=BATCHES[0], progress=False)
    with numba_compiles(caplog) as compiles:
        for batch in BATCHES[1:]:
            model, step = pytorch_style()
            history = sg.train(step, data=(x, y), epochs=1, batch_size=batch, progress=False)
            eager_model, eager_step = pytorch_style()
            for k in range(66 // batch):
                rows = slice(k * batch, (k + 1) * batch)
                loss = eager_step(sg.tensor(x[rows]), sg.tensor(y[rows]))
                np.testing.assert_allclose(history[k], loss.item(), rtol=1e-4)
            for name, value in eager_model.state_dict().items():
                np.testing.assert_allclose(model.state_dict()[name].numpy(), value.numpy(),
                                           rtol=1e-4, atol=1e-6)
    # the eager steps compiled their own backward at the first batch size only
    assert len(compiles) <= 1 and "train_loop" not in "".join(compiles)


def reference_mlp_grads(weights, x, y):
    """Gradients of pytorch_style's loss by the reference backend (numpy door)."""
    def loss(w1, b1, w2, b2):
        hidden = np.maximum(x @ w1.T + b1, 0)
        return np.mean((hidden @ w2.T + b2 - y) ** 2)
    return sg.grad(loss, argnums=(0, 1, 2, 3), backend="reference")(*weights)


def test_eager_backward_of_a_last_partial_batch_compiles_nothing(caplog, cache_folder):
    x, y = data(17, dtype=np.float32)
    batch, rest = BATCHES[1], 17 - 2 * BATCHES[1]       # the last 5 rows: no other test's
    last = (sg.tensor(x[-rest:]), sg.tensor(y[-rest:]))
    model, step = pytorch_style()
    for k in range(2):                      # a tape structure is compiled on its second use
        step(sg.tensor(x[k * batch:(k + 1) * batch]), sg.tensor(y[k * batch:(k + 1) * batch]))
    step(*last)
    weights = [p.detach().numpy().copy() for p in model.parameters()]
    with numba_compiles(caplog) as compiles:
        step(*last)
    assert "compiling eager backward" in caplog.text       # the compiled backward ran
    expected = reference_mlp_grads(weights, x[-rest:], y[-rest:])
    for parameter, gradient in zip(model.parameters(), expected):
        np.testing.assert_allclose(parameter.grad.numpy(), gradient, rtol=1e-4, atol=1e-6)
    assert compiles == []


def test_a_batch_size_equal_to_a_feature_count_compiles_again_and_is_right(caplog, cache_folder):
    gradient = sg.grad(mlp_loss)
    params = mlp_params()
    gradient(params, *data(BATCHES[0]))
    with numba_compiles(caplog) as compiles:
        grads = gradient(params, *data(7))          # 7: the hidden width
    expected = sg.grad(mlp_loss, backend="reference")(params, *data(7))
    for name in params:
        np.testing.assert_allclose(grads[name], expected[name], rtol=1e-12)
    assert len(compiles) == 1


def test_a_convolutional_step_at_a_new_batch_size_compiles_nothing(caplog, cache_folder):
    """Convolution, pooling and flattening: flat loops over images and the batched
    products of a bias gradient (samples times channels) read their sizes at run time."""
    import symgrad.nn.functional as F

    def conv_step(seed=0):
        sg.manual_seed(seed)
        conv, linear = nn.Conv2d(1, 2, 3), nn.Linear(2 * 2 * 2, 3)
        optimizer = sg.optim.SGD([*conv.parameters(), *linear.parameters()], lr=0.1)

        def step(x, y):
            optimizer.zero_grad()
            hidden = F.max_pool2d(F.relu(conv(x)), 2)
            loss = F.mse_loss(linear(hidden.reshape(x.shape[0], -1)), y)
            loss.backward()
            optimizer.step()
            return loss
        return step
    rng = np.random.default_rng(3)
    x = rng.standard_normal((44, 1, 7, 7)).astype(np.float32)     # 5 x 5 after the conv
    y = rng.standard_normal((44, 3)).astype(np.float32)
    # batches of 8 and more run on numba's threads (compiler/cpu/sample_loop.py): other code
    sg.train(conv_step(), data=(x, y), epochs=1, batch_size=9, progress=False)
    with numba_compiles(caplog) as compiles:
        history = sg.train(conv_step(), data=(x, y), epochs=1, batch_size=13, progress=False)
    eager_step = conv_step()
    expected = [eager_step(sg.tensor(x[k:k + 13]), sg.tensor(y[k:k + 13])).item()
                for k in range(0, 39, 13)]
    np.testing.assert_allclose(history, expected, rtol=1e-4)
    assert compiles == []
