"""The first programs of PyTorch's official tutorials, written as the tutorials write them
(``import symgrad as torch``), compared number for number with PyTorch where it is installed.

"Learning PyTorch with examples" (the polynomial fits of sin(x) on ``torch.linspace``), the
autograd tutorial, the quickstart (a FashionMNIST-shaped classifier on a small synthetic data
set) and the nn tutorial's first steps. Iterations are fewer than the tutorials' (cheap tests).
"""
import math

import numpy as np
import pytest

import symgrad

STEPS = 60


def _libraries():
    """symgrad, and PyTorch when installed: each test runs the same program on both."""
    try:
        import torch
    except ImportError:
        torch = None
    return symgrad, torch


def _same(ours, theirs, rtol=1e-5):
    np.testing.assert_allclose(np.asarray(ours, dtype=np.float64),
                               np.asarray(theirs, dtype=np.float64), rtol=rtol, atol=1e-6)


def polynomial_with_tensors(torch, start):
    """Tutorial: "Tensors" (gradients written by hand)."""
    dtype = torch.float
    device = torch.device("cpu")
    x = torch.linspace(-math.pi, math.pi, 2000, device=device, dtype=dtype)
    y = torch.sin(x)
    a, b, c, d = (torch.tensor(v, device=device, dtype=dtype) for v in start)
    learning_rate = 1e-6
    losses = []
    for t in range(STEPS):
        y_pred = a + b * x + c * x ** 2 + d * x ** 3
        loss = (y_pred - y).pow(2).sum().item()
        losses.append(loss)
        grad_y_pred = 2.0 * (y_pred - y)
        grad_a = grad_y_pred.sum()
        grad_b = (grad_y_pred * x).sum()
        grad_c = (grad_y_pred * x ** 2).sum()
        grad_d = (grad_y_pred * x ** 3).sum()
        a -= learning_rate * grad_a
        b -= learning_rate * grad_b
        c -= learning_rate * grad_c
        d -= learning_rate * grad_d
    result = f'Result: y = {a.item()} + {b.item()} x + {c.item()} x^2 + {d.item()} x^3'
    return losses, [a.item(), b.item(), c.item(), d.item()], result


def _fit(torch, params, predict, y, learning_rate):
    """The tutorials' autograd loop: squared error of ``predict()``, backward, SGD by hand."""
    losses = []
    for t in range(STEPS):
        loss = (predict() - y).pow(2).sum()
        losses.append(loss.item())
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= learning_rate * p.grad
                p.grad = None
    return losses


def polynomial_with_autograd(torch, start):
    """Tutorial: "Tensors and autograd"."""
    dtype = torch.float
    x = torch.linspace(-math.pi, math.pi, 2000, dtype=dtype)
    y = torch.sin(x)
    a, b, c, d = (torch.tensor(v, dtype=dtype, requires_grad=True) for v in start)
    losses = _fit(torch, (a, b, c, d), lambda: a + b * x + c * x ** 2 + d * x ** 3, y, 1e-6)
    return losses, [a.item(), b.item(), c.item(), d.item()]


def polynomial_with_nn(torch, weights):
    """Tutorial: "nn module" (``x.unsqueeze(-1).pow(p)``, ``Flatten(0, 1)``)."""
    x = torch.linspace(-math.pi, math.pi, 2000)
    y = torch.sin(x)
    p = torch.tensor([1, 2, 3])
    xx = x.unsqueeze(-1).pow(p)
    model = torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Flatten(0, 1))
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([weights[1:]]))
        model[0].bias.fill_(weights[0])
    loss_fn = torch.nn.MSELoss(reduction='sum')
    learning_rate = 1e-6
    losses = []
    for t in range(STEPS):
        y_pred = model(xx)
        loss = loss_fn(y_pred, y)
        losses.append(loss.item())
        model.zero_grad()
        loss.backward()
        with torch.no_grad():
            for param in model.parameters():
                param -= learning_rate * param.grad
    linear_layer = model[0]
    return losses, [linear_layer.bias.item(), linear_layer.weight[:, 0].item(),
                    linear_layer.weight[:, 1].item(), linear_layer.weight[:, 2].item()], xx.dtype


def polynomial_with_optim(torch, weights):
    """Tutorial: "optim" (RMSprop in the tutorial; SGD with momentum here)."""
    x = torch.linspace(-math.pi, math.pi, 2000)
    y = torch.sin(x)
    xx = x.unsqueeze(-1).pow(torch.tensor([1, 2, 3]))
    model = torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Flatten(0, 1))
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([weights[1:]]))
        model[0].bias.fill_(weights[0])
    loss_fn = torch.nn.MSELoss(reduction='sum')
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-6, momentum=0.9)
    losses = []
    for t in range(STEPS):
        loss = loss_fn(model(xx), y)
        losses.append(loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return losses


def legendre(torch):
    """Tutorial: "Defining new autograd functions" (the Legendre polynomial P3)."""
    class LegendrePolynomial3(torch.autograd.Function):
        @staticmethod
        def forward(ctx, input):
            ctx.save_for_backward(input)
            return 0.5 * (5 * input ** 3 - 3 * input)

        @staticmethod
        def backward(ctx, grad_output):
            input, = ctx.saved_tensors
            return grad_output * 1.5 * (5 * input ** 2 - 1)

    dtype = torch.float
    device = torch.device("cpu")
    x = torch.linspace(-math.pi, math.pi, 2000, device=device, dtype=dtype)
    y = torch.sin(x)
    a = torch.full((), 0.0, device=device, dtype=dtype, requires_grad=True)
    b = torch.full((), -1.0, device=device, dtype=dtype, requires_grad=True)
    c = torch.full((), 0.0, device=device, dtype=dtype, requires_grad=True)
    d = torch.full((), 0.3, device=device, dtype=dtype, requires_grad=True)
    P3 = LegendrePolynomial3.apply
    losses = _fit(torch, (a, b, c, d), lambda: a + b * P3(c + d * x), y, 5e-6)
    return losses, [a.item(), b.item(), c.item(), d.item()]


def autograd_tutorial(torch):
    """Tutorial: "Automatic differentiation with torch.autograd" (its first program)."""
    x = torch.ones(5)
    y = torch.zeros(3)
    w = torch.tensor(np.linspace(-1, 1, 15, dtype=np.float32).reshape(5, 3), requires_grad=True)
    b = torch.tensor([0.1, -0.2, 0.3], requires_grad=True)
    z = torch.matmul(x, w) + b
    loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y)
    loss.backward()
    with torch.no_grad():
        detached = torch.matmul(x, w) + b
    return (loss.item(), w.grad.numpy(), b.grad.numpy(), z.requires_grad,
            detached.requires_grad, z.detach().requires_grad)


START = (0.1, -0.2, 0.05, 0.01)


def test_polynomial_fit_with_tensors_matches_pytorch():
    ours, torch = _libraries()
    losses, weights, result = polynomial_with_tensors(ours, START)
    assert losses[-1] < losses[0] and result.startswith("Result: y = ")
    if torch is not None:
        their_losses, their_weights, _ = polynomial_with_tensors(torch, START)
        _same(losses, their_losses)
        _same(weights, their_weights)


def test_polynomial_fit_with_autograd_nn_and_optim_match_pytorch():
    ours, torch = _libraries()
    losses, weights = polynomial_with_autograd(ours, START)
    nn_losses, nn_weights, xx_dtype = polynomial_with_nn(ours, START)
    optim_losses = polynomial_with_optim(ours, START)
    assert xx_dtype == ours.float32         # float32 ** int64 stays float32, as in PyTorch
    _same(nn_losses, losses)
    _same(nn_weights, weights, rtol=1e-4)
    assert optim_losses[-1] < optim_losses[0]
    if torch is not None:
        _same(losses, polynomial_with_autograd(torch, START)[0])
        _same(nn_losses, polynomial_with_nn(torch, START)[0])
        _same(optim_losses, polynomial_with_optim(torch, START), rtol=1e-4)


def test_legendre_custom_function_matches_pytorch():
    ours, torch = _libraries()
    losses, weights = legendre(ours)
    assert losses[-1] < losses[0]
    if torch is not None:
        their_losses, their_weights = legendre(torch)
        _same(losses, their_losses)
        _same(weights, their_weights)


def test_linspace_of_the_tutorials_is_pytorchs_to_the_bit():
    ours, torch = _libraries()
    x = ours.linspace(-math.pi, math.pi, 2000)
    assert x.dtype == ours.float32 and x.shape == (2000,)
    if torch is not None:
        assert np.array_equal(x.numpy(), torch.linspace(-math.pi, math.pi, 2000).numpy())


def test_autograd_tutorial_matches_pytorch():
    ours, torch = _libraries()
    loss, w_grad, b_grad, *flags = autograd_tutorial(ours)
    assert flags == [True, False, False]
    if torch is not None:
        their_loss, their_w, their_b, *their_flags = autograd_tutorial(torch)
        _same([loss], [their_loss])
        _same(w_grad, their_w)
        _same(b_grad, their_b)
        assert flags == their_flags


def quickstart(torch, images, labels, initial):
    """Tutorial: "Quickstart" with a small FashionMNIST-shaped data set (8x8 images)."""
    DataLoader, TensorDataset = torch.utils.data.DataLoader, torch.utils.data.TensorDataset
    training_data = TensorDataset(images[:48], labels[:48])
    test_data = TensorDataset(images[48:], labels[48:])
    batch_size = 16
    train_dataloader = DataLoader(training_data, batch_size=batch_size)
    test_dataloader = DataLoader(test_data, batch_size=batch_size)
    for X, y in test_dataloader:
        shapes = (X.shape, y.shape, y.dtype)
        break

    class NeuralNetwork(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.flatten = torch.nn.Flatten()
            self.linear_relu_stack = torch.nn.Sequential(
                torch.nn.Linear(8 * 8, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10))

        def forward(self, x):
            x = self.flatten(x)
            return self.linear_relu_stack(x)

    model = NeuralNetwork()
    model.load_state_dict({k: torch.tensor(v) for k, v in initial.items()})
    loss_fn = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-1)
    log = []
    for epoch in range(3):
        model.train()
        for batch, (X, y) in enumerate(train_dataloader):
            pred = model(X)
            loss = loss_fn(pred, y)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            loss, current = loss.item(), (batch + 1) * len(X)
            log.append(f"loss: {loss:>7f}  [{current:>5d}/{len(train_dataloader.dataset):>5d}]")
        model.eval()
        test_loss, correct = 0, 0
        with torch.no_grad():
            for X, y in test_dataloader:
                pred = model(X)
                test_loss += loss_fn(pred, y).item()
                correct += (pred.argmax(1) == y).type(torch.float).sum().item()
        log.append(f"Test Error: Accuracy: {100 * correct / len(test_dataloader.dataset):>0.1f}%, "
                   f"Avg loss: {test_loss / len(test_dataloader):>8f}")
    return shapes, log, model


def _synthetic_fashion(rng):
    labels = rng.integers(0, 10, 64)
    centres = rng.standard_normal((10, 1, 8, 8)).astype(np.float32)
    images = centres[labels] + 0.5 * rng.standard_normal((64, 1, 8, 8)).astype(np.float32)
    return images, labels


def test_quickstart_classifier_trains_and_saves_as_pytorchs(tmp_path):
    ours, torch = _libraries()
    if not hasattr(ours.Tensor, "argmax"):
        pytest.skip("Tensor.argmax is not in this build yet")
    rng = np.random.default_rng(0)
    images, labels = _synthetic_fashion(rng)
    initial = {"linear_relu_stack.0.weight": rng.uniform(-0.125, 0.125, (32, 64)),
               "linear_relu_stack.0.bias": rng.uniform(-0.125, 0.125, 32),
               "linear_relu_stack.2.weight": rng.uniform(-0.17, 0.17, (10, 32)),
               "linear_relu_stack.2.bias": rng.uniform(-0.17, 0.17, 10)}
    initial = {k: v.astype(np.float32) for k, v in initial.items()}
    shapes, log, model = quickstart(ours, ours.from_numpy(images), ours.from_numpy(labels), initial)
    assert shapes == ((16, 1, 8, 8), (16,), ours.int64)
    ours.save(model.state_dict(), tmp_path / "model.pth")
    loaded = type(model)()
    loaded.load_state_dict(ours.load(tmp_path / "model.pth", weights_only=True))
    probe = ours.from_numpy(images[:4])
    assert np.array_equal(loaded(probe).detach().numpy(), model(probe).detach().numpy())
    if torch is not None:
        their_shapes, their_log, _ = quickstart(torch, torch.from_numpy(images),
                                                torch.from_numpy(labels), initial)
        assert repr(shapes) == repr(their_shapes)
        assert [line[:12] for line in log] == [line[:12] for line in their_log]
        assert log[-1].split(",")[0] == their_log[-1].split(",")[0]     # the accuracy


def test_nn_tutorial_first_steps():
    """Tutorial: "What is torch.nn really?" (a model by hand, then with nn.functional)."""
    torch = symgrad
    rng = np.random.default_rng(1)
    x_train = torch.tensor(rng.standard_normal((64, 784)).astype(np.float32))
    y_train = torch.tensor(rng.integers(0, 10, 64))
    n, c = x_train.shape
    assert (n, c) == (64, 784) and y_train.min() >= 0 and y_train.max() <= 9
    weights = torch.randn(784, 10) / math.sqrt(784)
    weights.requires_grad_()
    bias = torch.zeros(10, requires_grad=True)

    def log_softmax(x):
        return x - x.exp().sum(-1).log().unsqueeze(-1)

    def model(xb):
        return log_softmax(xb @ weights + bias)

    preds = model(x_train[0:64])
    assert preds.shape == (64, 10) and preds.dtype == torch.float32
    loss_func = torch.nn.functional.cross_entropy
    loss = loss_func(x_train @ weights + bias, y_train)
    loss.backward()
    assert weights.grad.shape == (784, 10) and f"{loss:.4f}" == f"{loss.item():.4f}"
    with torch.no_grad():
        weights -= weights.grad * 0.5
        bias -= bias.grad * 0.5
        weights.grad.zero_()
        bias.grad.zero_()
    assert loss_func(x_train @ weights + bias, y_train).item() < loss.item()


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_binary_cross_entropies_match_pytorch_and_their_gradients_check(reduction):
    torch = pytest.importorskip("torch")
    logits = np.array([-30.0, -1.5, 0.0, 2.0, 40.0])
    target = np.array([0.0, 1.0, 0.5, 1.0, 0.0])
    F, G = symgrad.nn.functional, torch.nn.functional
    for ours_f, their_f, values in [
            (F.binary_cross_entropy_with_logits, G.binary_cross_entropy_with_logits, logits),
            (F.binary_cross_entropy, G.binary_cross_entropy, 1 / (1 + np.exp(-logits[1:4])))]:
        ours = symgrad.tensor(values, requires_grad=True)
        theirs = torch.tensor(values, requires_grad=True)
        y = target[:len(values)]
        out, expected = ours_f(ours, symgrad.tensor(y), reduction=reduction), \
            their_f(theirs, torch.tensor(y), reduction=reduction)
        _same(out.detach().numpy(), expected.detach().numpy(), rtol=1e-10)
        out.sum().backward()
        expected.sum().backward()
        _same(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-8)


def test_binary_cross_entropy_gradients_first_and_second_order():
    from symgrad.nn.functional_loss import _bce, _bce_with_logits
    x = np.array([-2.0, 0.3, 1.7])
    y = np.array([0.0, 0.5, 1.0])

    def with_logits(v, y, reduction):
        return _bce_with_logits(v, y, None, None, reduction)

    def probabilities(v, y, reduction):
        return _bce(v, y, None, reduction)
    for loss, point in [(with_logits, x), (probabilities, 1 / (1 + np.exp(-x)))]:
        symgrad.check_grad(lambda v: loss(v, y, "sum"), point)
        symgrad.check_grad(lambda v: np.sum(symgrad.grad(lambda w: loss(w, y, "sum"))(v)), point)
