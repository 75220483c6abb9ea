"""Convolution and pooling: the ops (symgrad/core/ops/conv.py), their CPU lowering
(compiler/cpu/conv.py, pool.py, im2col.py, window_geometry.py,
sample_loop.py; flat_nests.py for the ReLU nests between them), the layers
(symgrad/nn/conv.py, symgrad/nn/functional_conv.py) and the W4 LeNet example
(examples/w4_lenet.py).

The op table in tests/core/test_ops.py checks every op numerically (first and second order) and
compiled against the reference. Here: LeNet's gradients against central differences and
against PyTorch from the same weights, the compiled training loop against eager steps, and
the error messages. One training loop is compiled (numba time dominates this file).
"""
import numpy as np
import pytest

import symgrad as sg
import symgrad as torch
from symgrad import nn, optim
from symgrad.nn import functional as F

from conftest import load_example

lenet = load_example("w4_lenet")


def value(t):
    return np.asarray(t.detach().numpy())


def make_net(dtype=np.float32, seed=0):
    torch.manual_seed(seed)
    net = lenet.Net()
    return net.double() if dtype == np.float64 else net


def lenet_loss(net, x, y):
    return nn.MSELoss()(net(torch.tensor(x)), torch.tensor(y))


def grads_of(net):
    return {name: value(p.grad) for name, p in net.named_parameters()}


def example_batch(batch=1, dtype=np.float32, seed=1):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((batch, 1, 32, 32)).astype(dtype),
            rng.standard_normal((batch, 10)).astype(dtype))


# -- PyTorch, from the same weights ---------------------------------------------------------------
def torch_lenet(real, net, dtype):
    """PyTorch's LeNet of seed 001 holding ``net``'s weights."""
    rnn, rF = real.nn, real.nn.functional

    class Net(rnn.Module):
        def __init__(self):
            super().__init__()
            self.conv1, self.conv2 = rnn.Conv2d(1, 6, 3), rnn.Conv2d(6, 16, 3)
            self.fc1, self.fc2 = rnn.Linear(576, 120), rnn.Linear(120, 84)
            self.fc3 = rnn.Linear(84, 10)

        def forward(self, x):
            x = rF.max_pool2d(rF.relu(self.conv1(x)), (2, 2))
            x = rF.max_pool2d(rF.relu(self.conv2(x)), 2)
            x = x.view(-1, 576)
            return self.fc3(rF.relu(self.fc2(rF.relu(self.fc1(x)))))

    model = Net().to(getattr(real, np.dtype(dtype).name))
    model.load_state_dict({k: real.from_numpy(np.array(v)) for k, v in net.state_dict().items()})
    return model


def grad_fn_names(loss):
    """Every backward node's name reachable from ``loss.grad_fn`` (depth first, once each)."""
    names, seen, stack = [], set(), [loss.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen or type(node).__name__ == "AccumulateGrad":
            continue
        seen.add(id(node))
        names.append(node.name() if hasattr(node, "name") else type(node).__name__)
        stack.extend(f for f, _ in node.next_functions)
    return sorted(names)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_lenet_matches_pytorch_from_the_same_weights(dtype):
    real = pytest.importorskip("torch")
    net = make_net(dtype)
    model = torch_lenet(real, net, dtype)
    x, y = example_batch(2, dtype)
    loss = lenet_loss(net, x, y)
    expected = real.nn.MSELoss()(model(real.from_numpy(x)), real.from_numpy(y))
    assert grad_fn_names(loss) == grad_fn_names(expected)
    loss.backward()
    expected.backward()
    tol = dict(rtol=2e-4, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(loss.item(), expected.item(), **tol)
    for name, p in model.named_parameters():
        np.testing.assert_allclose(grads_of(net)[name], p.grad.numpy(), **tol, err_msg=name)
    # one SGD step each: the same parameters after it
    optim.SGD(net.parameters(), lr=0.01).step()
    real.optim.SGD(model.parameters(), lr=0.01).step()
    for name, p in model.named_parameters():
        np.testing.assert_allclose(net.state_dict()[name], p.detach().numpy(), **tol, err_msg=name)


def test_lenet_gradients_match_central_differences_in_float64():
    net = make_net(np.float64)
    x, y = example_batch(1, np.float64)
    loss = lenet_loss(net, x, y)
    loss.backward()
    params = dict(net.named_parameters())
    grads = grads_of(net)

    def loss_at(name, delta):
        with torch.no_grad():
            params[name].add_(delta)
            result = lenet_loss(net, x, y).item()
            params[name].sub_(delta)
        return result

    eps = 1e-6
    # every coordinate of the first convolution: its input gradient path, pool and bias
    for name in ("conv1.weight", "conv1.bias"):
        shape = params[name].shape
        for index in np.ndindex(shape):
            delta = np.zeros(shape)
            delta[index] = eps
            numeric = (loss_at(name, delta) - loss_at(name, -delta)) / (2 * eps)
            assert abs(numeric - grads[name][index]) <= 1e-6 * max(1, abs(numeric)), (name, index)
    # random directions through every other parameter
    rng = np.random.default_rng(2)
    for name in params:
        direction = rng.standard_normal(params[name].shape)
        numeric = (loss_at(name, eps * direction) - loss_at(name, -eps * direction)) / (2 * eps)
        analytic = float(np.sum(grads[name] * direction))
        assert abs(numeric - analytic) <= 1e-6 * max(1, abs(numeric)), name


# -- the seed program -----------------------------------------------------------------------------
def interpret_eager_backward(monkeypatch):
    """Eager backward passes run in the reference interpreter (no numba compile)."""
    import symgrad.eager.tape
    monkeypatch.setattr(symgrad.eager.tape, "COMPILE_ON_USE", 10 ** 9, raising=False)


def test_seed_program_prints_the_network_grad_fns_and_bias_gradient(capsys, monkeypatch):
    interpret_eager_backward(monkeypatch)
    net, loss, bias_grad = lenet.seed_program()
    out = capsys.readouterr().out
    assert "(conv1): Conv2d(1, 6, kernel_size=(3, 3), stride=(1, 1))" in out
    assert "(fc1): Linear(in_features=576, out_features=120, bias=True)" in out
    assert "three levels: MseLossBackward0 -> AddmmBackward0 -> AccumulateGrad" in out
    before, after = out.split("conv1.bias.grad before backward\n")[1].split(
        "conv1.bias.grad after backward\n")
    assert before.strip() == "None"
    assert after.startswith("tensor([") and value(bias_grad).shape == (6,)
    assert np.abs(value(bias_grad)).max() > 0


# -- the compiled training loop -------------------------------------------------------------------
def eager_training(net, x, y, batch, steps, lr=0.01):
    criterion = nn.MSELoss()
    optimizer = optim.SGD(net.parameters(), lr=lr)
    history = []
    for step in range(steps):
        rows = slice((step * batch) % len(x), (step * batch) % len(x) + batch)
        optimizer.zero_grad()
        loss = criterion(net(torch.tensor(x[rows])), torch.tensor(y[rows]))
        loss.backward()
        optimizer.step()
        history.append(loss.item())
    return history


def test_compiled_training_loop_matches_eager_steps_and_pytorch(monkeypatch):
    interpret_eager_backward(monkeypatch)
    batch, count, epochs = 4, 2, 2
    compiled_net, history = lenet.compiled_training(make_net(), batch=batch, epochs=epochs,
                                                    count=count)
    x, y = lenet.make_batches(batch, count)
    eager_net = make_net()
    expected = eager_training(eager_net, x, y, batch, count * epochs)
    np.testing.assert_allclose(history, expected, rtol=1e-5)
    for name, p in eager_net.state_dict().items():
        np.testing.assert_allclose(compiled_net.state_dict()[name], p, rtol=1e-4, atol=1e-6,
                                   err_msg=name)
    real = pytest.importorskip("torch")
    model = torch_lenet(real, make_net(), np.float32)
    optimizer = real.optim.SGD(model.parameters(), lr=0.01)
    for step in range(count * epochs):
        rows = slice((step * batch) % len(x), (step * batch) % len(x) + batch)
        optimizer.zero_grad()
        loss = real.nn.MSELoss()(model(real.from_numpy(x[rows])), real.from_numpy(y[rows]))
        loss.backward()
        optimizer.step()
        np.testing.assert_allclose(history[step], loss.item(), rtol=1e-5)
    for name, p in model.named_parameters():
        np.testing.assert_allclose(compiled_net.state_dict()[name], p.detach().numpy(),
                                   rtol=1e-4, atol=1e-6, err_msg=name)


# -- batches split across threads ----------------------------------------------------------------
def window_ops(x, w, b, g, h):
    """Every window op at once, the convolutions in both unfoldings (stride 1: wide)."""
    wide = sg.ops.conv2d(x, w, stride=1, padding=1, bias=b)
    narrow = sg.ops.conv2d(x, w, stride=2, padding=1)
    return (wide, narrow, sg.ops.conv2d_input_grad(wide, w, (6, 5), stride=1, padding=1),
            sg.ops.conv2d_weight_grad(x, wide, (3, 2), stride=1, padding=1),
            sg.ops.conv2d_weight_grad(x, narrow, (3, 2), stride=2, padding=1),
            sg.ops.max_pool2d(x, 3, 2, 1), sg.ops.max_pool2d_grad(x, g, 3, 2, 1),
            sg.ops.max_pool2d_gather(x, h, 3, 2, 1), sg.ops.avg_pool2d(x, 3, 2, 1),
            sg.ops.avg_pool2d_grad(g, (6, 5), 3, 2, 1, count_include_pad=False))


@pytest.mark.numba
def test_window_ops_on_a_batch_split_across_threads_match_the_reference():
    import numba
    from symgrad.compiler.cpu.sample_loop import PARALLEL_BATCH
    from symgrad.compiler.cpu.threads import PRANGE
    rng = np.random.default_rng(5)
    n = PARALLEL_BATCH + 1           # chunks of unequal sizes
    args = (rng.permutation(n * 60).reshape(n, 2, 6, 5) / 10.0, rng.standard_normal((3, 2, 3, 2)),
            rng.standard_normal(3), rng.standard_normal((n, 2, 3, 3)),
            rng.standard_normal((n, 2, 6, 5)))
    compiled = sg.jit(window_ops)
    for actual, expected in zip(compiled(*args), sg.jit(window_ops, backend="reference")(*args)):
        np.testing.assert_allclose(actual, expected, rtol=1e-10, atol=1e-12)
    if numba.config.NUMBA_NUM_THREADS > 1:
        assert PRANGE in compiled.compiled(*args).source


# -- layers and functions against PyTorch ---------------------------------------------------------
CONFIGS = [dict(stride=1, padding=0, dilation=1), dict(stride=2, padding=1, dilation=1),
           dict(stride=(1, 2), padding=(2, 1), dilation=(2, 1))]


@pytest.mark.parametrize("config", CONFIGS, ids=["plain", "strided", "dilated"])
def test_functional_conv2d_and_its_gradients_match_pytorch(config):
    real = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    arrays = [rng.standard_normal(s) for s in ((2, 3, 9, 8), (4, 3, 3, 2), (4,))]
    ours = [torch.tensor(a, requires_grad=True) for a in arrays]
    theirs = [real.tensor(a, requires_grad=True) for a in arrays]
    out = F.conv2d(*ours, **config)
    expected = real.nn.functional.conv2d(*theirs, **config)
    assert out.grad_fn.name() == type(expected.grad_fn).__name__ == "ConvolutionBackward0"
    np.testing.assert_allclose(value(out), expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    seed = rng.standard_normal(out.shape)
    out.backward(torch.tensor(seed))
    expected.backward(real.tensor(seed))
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(value(a.grad), b.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kind", ["max", "avg", "avg_exclude_pad"])
def test_pooling_layers_and_their_gradients_match_pytorch(kind):
    real = pytest.importorskip("torch")
    x = np.random.default_rng(4).permutation(2 * 3 * 7 * 6).reshape(2, 3, 7, 6) / 7.0
    ours, theirs = torch.tensor(x, requires_grad=True), real.tensor(x, requires_grad=True)
    options = dict(kernel_size=3, stride=2, padding=1)
    if kind == "max":
        layer, reference, name = nn.MaxPool2d(**options), real.nn.MaxPool2d(**options), \
            "MaxPool2DWithIndicesBackward0"
    else:
        options["count_include_pad"] = kind == "avg"
        layer, reference, name = nn.AvgPool2d(**options), real.nn.AvgPool2d(**options), \
            "AvgPool2DBackward0"
    assert repr(layer) == repr(reference)
    out, expected = layer(ours), reference(theirs)
    assert out.grad_fn.name() == type(expected.grad_fn).__name__ == name
    np.testing.assert_allclose(value(out), expected.detach().numpy(), rtol=1e-12)
    (out * out).sum().backward()
    (expected * expected).sum().backward()
    np.testing.assert_allclose(value(ours.grad), theirs.grad.numpy(), rtol=1e-12)


def test_conv2d_layer_repr_init_and_unbatched_input_follow_pytorch():
    real = pytest.importorskip("torch")
    layers = [(nn.Conv2d(3, 4, (3, 5), stride=2, padding=1, dilation=2, bias=False),
               real.nn.Conv2d(3, 4, (3, 5), stride=2, padding=1, dilation=2, bias=False)),
              (nn.Conv2d(3, 4, 3, padding="same"), real.nn.Conv2d(3, 4, 3, padding="same")),
              (nn.MaxPool2d((2, 3), 1, 1), real.nn.MaxPool2d((2, 3), 1, 1))]
    for ours, theirs in layers:
        assert repr(ours) == repr(theirs)
    torch.manual_seed(0)
    conv = nn.Conv2d(6, 16, 3)
    bound = 1 / np.sqrt(6 * 3 * 3)    # kaiming_uniform(a=sqrt(5)): U(-1/sqrt(fan_in), ..)
    for p in (conv.weight, conv.bias):
        assert np.abs(value(p)).max() <= bound and np.abs(value(p)).max() > 0.8 * bound
    assert value(conv.weight).dtype == np.float32
    x = torch.randn(6, 10, 10)
    np.testing.assert_allclose(value(conv(x)), value(conv(x.view(1, 6, 10, 10)))[0], rtol=1e-6)
    assert nn.Conv2d(3, 4, 3, padding="same")(torch.randn(1, 3, 7, 5)).shape == (1, 4, 7, 5)


# -- bad input ------------------------------------------------------------------------------------
def test_wrong_channel_count_names_the_layer_and_both_shapes():
    conv = nn.Conv2d(1, 6, 3)
    with pytest.raises(ValueError) as error:
        conv(torch.randn(1, 3, 32, 32))
    message = str(error.value)
    assert "Conv2d(1, 6, kernel_size=(3, 3), stride=(1, 1))" in message
    assert "expected input with 1 channel, shape (N, 1, H, W)" in message
    assert "got shape (1, 3, 32, 32)" in message


def test_input_too_small_for_the_kernel_names_the_layer_and_sizes():
    with pytest.raises(ValueError) as error:
        nn.Conv2d(1, 6, 5, padding=1)(torch.randn(1, 1, 2, 8))
    message = str(error.value)
    assert "Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1), padding=(1, 1))" in message
    assert "input of shape (1, 1, 2, 8) is too small" in message
    assert "at least (3, 3), got (2, 8)" in message
    with pytest.raises(ValueError, match=r"MaxPool2d\(kernel_size=2.*\(1, 1, 1, 1\) is too small"):
        nn.MaxPool2d(2)(torch.randn(1, 1, 1, 1))
    with pytest.raises(ValueError, match=r"AvgPool2d\(kernel_size=3.*too small"):
        nn.AvgPool2d(3)(torch.randn(2, 1, 4, 2))


def test_lenet_on_a_wrong_input_fails_in_the_layer_that_cannot_take_it():
    net = make_net()
    with pytest.raises(ValueError, match=r"Conv2d\(1, 6.*got shape \(1, 3, 32, 32\)"):
        net(torch.randn(1, 3, 32, 32))
    with pytest.raises(ValueError, match=r"Conv2d\(6, 16.*shape \(1, 6, 2, 2\) is too small"):
        net(torch.randn(1, 1, 6, 6))


def test_traced_ops_report_shape_errors_with_both_shapes():
    with pytest.raises(sg.TracingError, match=r"conv2d: .*expects input with 2 channels, got 3"):
        sg.trace(lambda x, w: sg.ops.conv2d(x, w), np.ones((1, 3, 5, 5)), np.ones((4, 2, 3, 3)))
    with pytest.raises(ValueError, match=r"too small for a kernel reaching \(3, 3\)"):
        sg.ops.conv2d(np.ones((1, 2, 2, 2)), np.ones((4, 2, 3, 3)))
    with pytest.raises(ValueError, match=r"padding \(2, 2\) should be at most half"):
        sg.ops.max_pool2d(np.ones((1, 1, 8, 8)), 3, padding=2)
    with pytest.raises(NotImplementedError, match="groups=2"):
        nn.Conv2d(2, 2, 3, groups=2)
