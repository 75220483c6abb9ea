"""The seed programs in examples/ (W1 three ways, W2, W3, W5, W6): their numbers checked
against numpy references from the same initial weights, and against PyTorch when installed.

The examples run fewer steps here than as programs, to keep the suite fast.
"""

import numpy as np
import pytest

import symgrad as torch
from conftest import load_example

STEPS = 8


def load(name):
    return load_example(name)


def value(t):
    return t.detach().numpy()


# -- numpy references ---------------------------------------------------------------------------
def mlp_reference(weights, x, y, steps, update):
    """The W1 network with biases, forward and backward by hand (float32, as symgrad runs it).
    ``update(params, grads)`` changes the params; returns the loss of every step."""
    w1, b1, w2, b2 = [np.array(w, dtype=np.float32) for w in weights]
    params = [w1, b1, w2, b2]
    losses = []
    for _ in range(steps):
        h = x @ w1.T + b1
        h_relu = np.maximum(h, 0)
        y_pred = h_relu @ w2.T + b2
        losses.append(float(np.square(y_pred - y).sum()))
        grad_y = 2.0 * (y_pred - y)
        grad_w2 = grad_y.T @ h_relu
        grad_b2 = grad_y.sum(0)
        grad_h = grad_y @ w2
        grad_h[h < 0] = 0
        grad_w1 = grad_h.T @ x
        grad_b1 = grad_h.sum(0)
        update(params, [grad_w1, grad_b1, grad_w2, grad_b2])
    return losses, params


def sgd_update(lr):
    def update(params, grads):
        for p, g in zip(params, grads):
            p -= np.float32(lr) * g
    return update


def adam_update(lr, betas=(0.9, 0.999), eps=1e-8):
    state = {"t": 0, "m": None, "v": None}

    def update(params, grads):
        if state["m"] is None:
            state["m"] = [np.zeros_like(p) for p in params]
            state["v"] = [np.zeros_like(p) for p in params]
        state["t"] += 1
        t = state["t"]
        for p, g, m, v in zip(params, grads, state["m"], state["v"]):
            m[...] = betas[0] * m + (1 - betas[0]) * g
            v[...] = betas[1] * v + (1 - betas[1]) * g * g
            m_hat = m / (1 - betas[0] ** t)
            v_hat = v / (1 - betas[1] ** t)
            p -= lr * m_hat / (np.sqrt(v_hat) + eps)
    return update


def assert_losses(actual, expected, rtol=2e-4):
    assert len(actual) == len(expected)
    np.testing.assert_allclose(actual, expected, rtol=rtol)


def model_weights(linears):
    return [value(t).copy() for layer in linears for t in (layer.weight, layer.bias)]


# -- W1 -------------------------------------------------------------------------------------
def test_w1_sequential_matches_numpy():
    example = load("w1_sequential")
    x, y = example.make_data(seed=1)
    model = example.build_model()
    initial = model_weights([model[0], model[2]])
    history = example.train(model, x, y, steps=STEPS, report_every=0)
    expected, params = mlp_reference(initial, value(x), value(y), STEPS, sgd_update(1e-4))
    assert_losses(history, expected)
    assert history[-1] < history[0]
    for p, e in zip(model.parameters(), params):
        np.testing.assert_allclose(value(p), e, rtol=1e-3, atol=1e-5)


def test_w1_module_sgd_matches_numpy():
    example = load("w1_module_sgd")
    x, y = example.make_data(seed=2)
    model = example.TwoLayerNet(example.D_in, example.H, example.D_out)
    assert [n for n, _ in model.named_parameters()] == [
        "linear1.weight", "linear1.bias", "linear2.weight", "linear2.bias"]
    initial = model_weights([model.linear1, model.linear2])
    history = example.train(model, x, y, steps=STEPS, report_every=0)
    expected, _ = mlp_reference(initial, value(x), value(y), STEPS, sgd_update(1e-4))
    assert_losses(history, expected)


def test_w1_spellings_agree():
    """Sequential + manual update and TwoLayerNet + optim.SGD are the same computation."""
    sequential, module = load("w1_sequential"), load("w1_module_sgd")
    x, y = sequential.make_data(seed=3)
    a = sequential.build_model()
    b = module.TwoLayerNet(module.D_in, module.H, module.D_out)
    b.load_state_dict({k.replace("0.", "linear1.").replace("2.", "linear2."): v
                       for k, v in a.state_dict().items()})
    np.testing.assert_allclose(sequential.train(a, x, y, steps=4, report_every=0),
                               module.train(b, x, y, steps=4, report_every=0), rtol=1e-6)


def test_w2_adam_matches_numpy():
    example = load("w2_adam")
    x, y = example.make_data(seed=4)
    model = example.build_model()
    initial = model_weights([model[0], model[2]])
    history = example.train(model, x, y, steps=STEPS, report_every=0)
    expected, params = mlp_reference(initial, value(x), value(y), STEPS, adam_update(1e-4))
    assert_losses(history, expected)
    for p, e in zip(model.parameters(), params):
        np.testing.assert_allclose(value(p), e, rtol=1e-4, atol=1e-6)


def test_w1_prints_progress(capsys):
    example = load("w1_module_sgd")
    history = example.main(steps=3)
    out = capsys.readouterr().out
    assert "TwoLayerNet(" in out and "(linear1): Linear(in_features=1000" in out
    assert f"{history[-1]:.6g} after 3 steps" in out


# -- W3 -------------------------------------------------------------------------------------
def w3_reference(epochs, lr=0.01):
    w = 1.0
    losses = []
    for _ in range(epochs):
        for x, y in zip([1.0, 2.0, 3.0], [2.0, 4.0, 6.0]):
            loss = (x * w - y) ** 2
            w -= lr * 2 * x * (x * w - y)
        losses.append(loss)
    return w, losses


def test_w3_regression_matches_python_and_predicts_8(capsys):
    example = load("w3_regression")
    w, epochs, losses, before, after = example.train(epochs=100, verbose=True)
    expected_w, expected_losses = w3_reference(100)
    assert before == 4.0
    assert abs(after - 8.0) < 1e-4
    np.testing.assert_allclose(w.item(), expected_w, rtol=1e-6)
    np.testing.assert_allclose(losses, expected_losses, rtol=1e-3, atol=1e-9)
    assert epochs == list(range(100))
    out = capsys.readouterr().out
    assert "predict (before training) 4 4.0" in out
    assert "progress: 99 " in out and "predict (after training) 4 7.99999" in out
    assert w.grad.item() == 0.0                       # zeroed after every sample


def test_w3_compiled_loop_matches_python():
    w, per_epoch, after = load("w3_regression").train_compiled(epochs=100)
    expected_w, expected_losses = w3_reference(100)
    np.testing.assert_allclose(w.item(), expected_w, rtol=1e-6)
    np.testing.assert_allclose(per_epoch, expected_losses, rtol=1e-3, atol=1e-9)
    assert abs(after - 8.0) < 1e-4 and w.grad.item() == 0.0


def test_w3_plot(tmp_path, capsys):
    example = load("w3_regression")
    _, epochs, losses, _, _ = example.train(epochs=5, verbose=False)
    path = example.plot(epochs, losses, str(tmp_path / "loss.png"))
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert path is None and "matplotlib is not installed" in capsys.readouterr().out
    else:
        assert path is not None
        assert (tmp_path / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# -- W5 -------------------------------------------------------------------------------------
def test_w5_myrelu_matches_numpy_and_uses_the_custom_backward(monkeypatch):
    example = load("w5_myrelu")
    calls = []
    original = example.MyReLU.backward

    def counting(ctx, grad_output):
        calls.append(tuple(grad_output.shape))
        return original(ctx, grad_output)

    monkeypatch.setattr(example.MyReLU, "backward", staticmethod(counting))
    x, y, w1, w2 = example.make_data(seed=5)
    xs, ys, w1s, w2s = (value(t).copy() for t in (x, y, w1, w2))
    history = example.train(x, y, w1, w2, steps=STEPS, report_every=0)
    assert calls and all(shape == (example.N, example.H) for shape in calls)

    losses = []
    for _ in range(STEPS):
        h = xs @ w1s
        h_relu = np.maximum(h, 0)
        y_pred = h_relu @ w2s
        losses.append(float(np.square(y_pred - ys).sum()))
        grad_y = 2.0 * (y_pred - ys)
        grad_w2 = h_relu.T @ grad_y
        grad_h = grad_y @ w2s.T
        grad_h[h < 0] = 0
        grad_w1 = xs.T @ grad_h
        w1s -= np.float32(1e-6) * grad_w1
        w2s -= np.float32(1e-6) * grad_w2
    assert_losses(history, losses)
    np.testing.assert_allclose(value(w1), w1s, rtol=1e-4, atol=1e-4)
    assert not value(w1.grad).any()                    # zeroed after each update


def test_w5_compiled_loop_runs_the_custom_backward():
    example = load("w5_myrelu")
    eager_data, compiled_data = example.make_data(), example.make_data()
    expected = example.train(*eager_data, steps=4, report_every=0)
    calls = []
    original = example.MyReLU.backward

    def counting(ctx, grad_output):
        calls.append(1)
        return original(ctx, grad_output)
    example.MyReLU.backward = staticmethod(counting)
    history = example.train_compiled(*compiled_data, steps=4)
    np.testing.assert_allclose(history, expected, rtol=1e-5)
    np.testing.assert_allclose(value(compiled_data[2]), value(eager_data[2]), rtol=1e-5, atol=1e-6)
    assert calls      # traced into the step's gradient graph


def test_w5_myrelu_gradient_is_relu_gradient():
    example = load("w5_myrelu")
    x = torch.tensor([[-1.0, 2.0], [3.0, -4.0]], requires_grad=True)
    out = example.MyReLU.apply(x)
    assert value(out).tolist() == [[0.0, 2.0], [3.0, 0.0]]
    (out * torch.tensor([[5.0, 6.0], [7.0, 8.0]])).sum().backward()
    assert value(x.grad).tolist() == [[0.0, 6.0], [7.0, 0.0]]


# -- W6 -------------------------------------------------------------------------------------
def test_w6_autograd_basics(capsys):
    example = load("w6_autograd_basics")
    assert example.sum_backward() == [1.0, 1.0, 1.0]
    assert example.non_scalar_backward() == ([1.0, 1.0, 1.0], [1.0, 1.0, 1.0])
    assert example.accumulation() == ([2.0, 4.0], [4.0, 8.0], [3.0, 3.0])
    assert example.data_update() == ([0.5, 1.5], [2.0, 2.0], True)
    assert example.no_grad_block() == (False, None, True, "MulBackward0")
    example.main()
    assert "x.grad after x.sum().backward(): tensor([1., 1., 1.])" in capsys.readouterr().out


# -- against PyTorch, from the same initial weights ------------------------------------------
def _torch_mlp(real, model, x, y, steps, make_optimizer):
    reference = real.nn.Sequential(real.nn.Linear(model[0].in_features, model[0].out_features),
                                   real.nn.ReLU(),
                                   real.nn.Linear(model[2].in_features, model[2].out_features))
    reference.load_state_dict({k: real.from_numpy(v.numpy()) for k, v in model.state_dict().items()})
    optimizer = make_optimizer(reference.parameters())
    loss_fn = real.nn.MSELoss(reduction="sum")
    xt, yt = real.from_numpy(value(x)), real.from_numpy(value(y))
    losses = []
    for _ in range(steps):
        loss = loss_fn(reference(xt), yt)
        losses.append(loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return losses, reference


@pytest.mark.parametrize("name,make", [
    ("w1_sequential", lambda real: (lambda ps: real.optim.SGD(ps, lr=1e-4))),
    ("w2_adam", lambda real: (lambda ps: real.optim.Adam(ps, lr=1e-4))),
])
def test_against_pytorch(name, make):
    real = pytest.importorskip("torch")
    example = load(name)
    x, y = example.make_data(seed=6)
    model = example.build_model()
    expected, reference = _torch_mlp(real, model, x, y, STEPS, make(real))
    history = example.train(model, x, y, steps=STEPS, report_every=0)
    assert_losses(history, expected)
    for p, q in zip(model.parameters(), reference.parameters()):
        np.testing.assert_allclose(value(p), q.detach().numpy(), rtol=1e-3, atol=1e-5)


def test_w3_against_pytorch():
    real = pytest.importorskip("torch")
    w = real.tensor([1.0], requires_grad=True)
    for _ in range(100):
        for x, y in zip([1.0, 2.0, 3.0], [2.0, 4.0, 6.0]):
            loss = (x * w - y) ** 2
            loss.backward()
            w.data = w.data - 0.01 * w.grad.data
            w.grad.data.zero_()
    ours, _, _, _, after = load("w3_regression").train(epochs=100, verbose=False)
    np.testing.assert_allclose(ours.item(), w.item(), rtol=1e-6)
    np.testing.assert_allclose(after, (4 * w).item(), rtol=1e-6)


def test_w5_against_pytorch():
    real = pytest.importorskip("torch")
    example = load("w5_myrelu")

    class TorchReLU(real.autograd.Function):
        forward = staticmethod(example.MyReLU.forward)
        backward = staticmethod(example.MyReLU.backward)

    x, y, w1, w2 = example.make_data(seed=7)
    tw1, tw2 = (real.tensor(value(t), requires_grad=True) for t in (w1, w2))
    tx, ty = real.from_numpy(value(x)), real.from_numpy(value(y))
    expected = []
    for _ in range(4):
        loss = (TorchReLU.apply(tx.mm(tw1)).mm(tw2) - ty).pow(2).sum()
        expected.append(loss.item())
        loss.backward()
        with real.no_grad():
            tw1 -= 1e-6 * tw1.grad
            tw2 -= 1e-6 * tw2.grad
            tw1.grad.zero_()
            tw2.grad.zero_()
    history = example.train(x, y, w1, w2, steps=4, report_every=0)
    assert_losses(history, expected)
    np.testing.assert_allclose(value(w2), tw2.detach().numpy(), rtol=1e-3, atol=1e-3)


def test_w6_against_pytorch():
    real = pytest.importorskip("torch")
    example = load("w6_autograd_basics")
    a = real.tensor([1.0, 2.0], requires_grad=True)
    (a * a).sum().backward()
    (a * a).sum().backward()
    second = a.grad.tolist()
    a.grad.zero_()
    (3 * a).sum().backward()
    assert example.accumulation() == ([2.0, 4.0], second, a.grad.tolist())


# -- the tutorial-style examples (polynomial fits of sin, the FashionMNIST-shaped classifier) ----
def test_polynomial_sin_example_fits_each_way(capsys):
    example = load("polynomial_sin")
    for fit in (example.with_tensors, example.with_nn, example.with_function):
        torch.manual_seed(0)
        early = fit(steps=5)
        torch.manual_seed(0)
        assert fit(steps=200) < early / 2
    assert capsys.readouterr().out.count("Result: y = ") == 6


def test_fashion_classifier_example_learns_and_reloads():
    if not hasattr(torch.Tensor, "argmax"):
        pytest.skip("Tensor.argmax is not in this build yet")
    assert load("fashion_classifier").main(epochs=2, samples=320) > 0.5
