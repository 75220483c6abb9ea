"""nn: module registration, Parameter, Linear, containers, losses, state_dict, errors.

Values are checked against numpy references; when PyTorch is installed, also against it
from the same weights.
"""
import math

import numpy as np
import pytest

import symgrad as torch
from symgrad import nn
from symgrad.nn import functional as F


def value(t):
    return t.detach().numpy()


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 3)
        self.act = nn.ReLU()
        self.scale = nn.Parameter(torch.ones(1))
        self.fc2 = nn.Linear(3, 2, bias=False)
        self.note = "plain attribute"

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x))) * self.scale


# -- registration ----------------------------------------------------------------------------
def test_registration_order_and_names():
    net = Net()
    # as in PyTorch: a module's own parameters first, then its children's, in order
    assert [n for n, _ in net.named_parameters()] == ["scale", "fc1.weight", "fc1.bias",
                                                      "fc2.weight"]
    assert [n for n, _ in net.named_children()] == ["fc1", "act", "fc2"]
    assert [type(m).__name__ for m in net.modules()] == ["Net", "Linear", "ReLU", "Linear"]
    assert [n for n, _ in net.named_modules()] == ["", "fc1", "act", "fc2"]
    assert net.fc2.bias is None
    assert net.note == "plain attribute"
    assert all(isinstance(p, nn.Parameter) and p.requires_grad and p.is_leaf
               for p in net.parameters())
    assert list(net.parameters(recurse=False)) == [net.scale]
    assert net.get_parameter("fc1.bias") is net.fc1.bias
    assert net.get_submodule("fc2") is net.fc2


def test_shared_parameters_are_listed_once():
    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(3, 3)
            self.b = nn.Linear(3, 3)
            self.b.weight = self.a.weight

    tied = Tied()
    assert [n for n, _ in tied.named_parameters()] == ["a.weight", "a.bias", "b.bias"]


def test_reassign_and_delete():
    net = Net()
    net.fc1 = nn.Linear(4, 5)                       # replaces the child, keeps its position
    assert [n for n, _ in net.named_children()] == ["fc1", "act", "fc2"]
    assert net.fc1.out_features == 5
    net.scale = None
    assert "scale" not in dict(net.named_parameters())
    del net.fc2
    assert [n for n, _ in net.named_children()] == ["fc1", "act"]
    with pytest.raises(AttributeError, match="has no attribute 'fc2'"):
        net.fc2


def test_assigning_a_plain_tensor_to_a_parameter_name_fails():
    net = Net()
    with pytest.raises(TypeError, match="cannot assign .* as parameter 'scale'.*Parameter or None"):
        net.scale = torch.ones(1)
    with pytest.raises(TypeError, match="cannot assign .* as child module 'fc1'"):
        net.fc1 = 3


def test_assigning_before_super_init_fails():
    class Forgetful(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(2, 2)

    with pytest.raises(AttributeError, match="before Forgetful.__init__.*super\\(\\).__init__"):
        Forgetful()


def test_register_buffer_goes_to_state_dict_not_parameters():
    net = Net()
    net.register_buffer("running", torch.zeros(3))
    net.register_buffer("scratch", torch.zeros(2), persistent=False)
    assert "running" not in dict(net.named_parameters())
    # PyTorch's order: own parameters, own buffers, then the children's
    assert list(net.state_dict())[:2] == ["scale", "running"]
    assert "scratch" not in net.state_dict()
    with pytest.raises(KeyError, match="buffer name can.*t contain"):
        net.register_buffer("a.b", torch.zeros(1))


def test_forward_missing():
    with pytest.raises(NotImplementedError, match='missing the required "forward"'):
        nn.Module()(torch.ones(1))


def test_train_eval_propagate():
    net = Net()
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())


def test_zero_grad():
    net = Net()
    assert all(p.grad is None for p in net.parameters())
    net(torch.randn(5, 4)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    grads = [p.grad for p in net.parameters()]
    net.zero_grad(set_to_none=False)
    for p, g in zip(net.parameters(), grads):
        assert p.grad is g and not value(p.grad).any()
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_requires_grad_and_apply():
    net = Net()
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())
    seen = []
    net.apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "ReLU", "Linear", "Net"]


def test_double_converts_parameters():
    net = nn.Linear(3, 2).double()
    assert net.weight.dtype == np.float64
    out = net(torch.ones(4, 3, dtype=torch.float64))
    assert out.dtype == np.float64


# -- Parameter -------------------------------------------------------------------------------
def test_parameter_from_tensor_shares_storage():
    t = torch.zeros(3)
    p = nn.Parameter(t)
    assert isinstance(p, torch.Tensor) and p.requires_grad and p.is_leaf and p.grad is None
    with torch.no_grad():
        t.add_(1.0)
    assert value(p).tolist() == [1.0, 1.0, 1.0]
    assert nn.Parameter(np.ones(2)).dtype == np.float64          # numpy arrays keep dtype
    assert nn.Parameter([1.0, 2.0]).dtype == np.float32          # Python floats: float32
    assert not nn.Parameter(torch.ones(1), requires_grad=False).requires_grad


def test_parameter_repr_and_hash():
    p = nn.Parameter(torch.tensor([1.0, 2.0]))
    assert repr(p) == "Parameter containing:\ntensor([1., 2.], requires_grad=True)"
    assert {p: 1}[p] == 1
    with pytest.raises(RuntimeError, match="floating point"):
        nn.Parameter(np.arange(3))


def test_operations_on_parameters_give_tensors():
    p = nn.Parameter(torch.ones(2))
    out = p * 2
    assert type(out) is torch.Tensor and out.grad_fn is not None


# -- Linear ----------------------------------------------------------------------------------
def test_linear_init_is_pytorch_default_and_seeded():
    torch.manual_seed(3)
    a = nn.Linear(400, 30)
    torch.manual_seed(3)
    b = nn.Linear(400, 30)
    c = nn.Linear(400, 30)
    assert np.array_equal(value(a.weight), value(b.weight))
    assert not np.array_equal(value(a.weight), value(c.weight))
    bound = 1 / math.sqrt(400)
    w, bias = value(a.weight), value(a.bias)
    assert w.shape == (30, 400) and bias.shape == (30,)
    assert w.dtype == np.float32 and bias.dtype == np.float32
    assert np.abs(w).max() <= bound and np.abs(bias).max() <= bound
    # uniform on [-bound, bound]: mean ~0, std ~bound/sqrt(3)
    assert abs(w.mean()) < 0.05 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.05 * bound


def test_linear_forward_matches_numpy():
    torch.manual_seed(0)
    layer = nn.Linear(5, 3)
    x = torch.randn(4, 5)
    out = layer(x)
    expected = value(x) @ value(layer.weight).T + value(layer.bias)
    np.testing.assert_allclose(value(out), expected, rtol=1e-6, atol=1e-6)
    assert out.grad_fn.name() == "AddmmBackward0"
    # 1-D and 3-D inputs, no bias
    np.testing.assert_allclose(value(layer(torch.tensor(value(x)[0]))), expected[0], rtol=1e-6,
                               atol=1e-6)
    x3 = torch.randn(2, 4, 5)
    np.testing.assert_allclose(value(layer(x3)),
                               value(x3) @ value(layer.weight).T + value(layer.bias),
                               rtol=1e-5, atol=1e-6)
    plain = nn.Linear(5, 3, bias=False)
    np.testing.assert_allclose(value(plain(x)), value(x) @ value(plain.weight).T, rtol=1e-6)
    assert [n for n, _ in plain.named_parameters()] == ["weight"]


def test_linear_gradients_match_numpy():
    torch.manual_seed(0)
    layer = nn.Linear(5, 3)
    x = torch.randn(4, 5)
    g = np.arange(12, dtype=np.float32).reshape(4, 3) / 10
    (layer(x) * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(value(layer.weight.grad), g.T @ value(x), rtol=1e-5)
    np.testing.assert_allclose(value(layer.bias.grad), g.sum(0), rtol=1e-5)


def test_linear_shape_mismatch_names_the_layer():
    layer = nn.Linear(1000, 100)
    message = ("mat1 and mat2 shapes cannot be multiplied (64x999 and 1000x100): "
               "Linear(in_features=1000, out_features=100, bias=True) expects input with "
               "last dimension 1000, got shape (64, 999)")
    with pytest.raises(RuntimeError) as error:
        layer(torch.randn(64, 999))
    assert str(error.value) == message
    assert all(p.grad is None for p in layer.parameters())


def test_linear_bad_arguments():
    with pytest.raises(ValueError, match="in_features must be a non-negative integer"):
        nn.Linear(-1, 3)
    with pytest.raises(ValueError, match="out_features"):
        nn.Linear(3, 2.5)
    with pytest.raises(TypeError, match="expected a symgrad Tensor"):
        nn.Linear(3, 2)(np.ones((2, 3)))
    with pytest.raises(TypeError, match="dtype float64 does not match.*float32"):
        nn.Linear(3, 2)(torch.ones(2, 3, dtype=torch.float64))



@pytest.mark.parametrize("layer, name", [
    (nn.Linear(3, 2), "Linear(in_features=3, out_features=2, bias=True)"),
    (nn.LayerNorm(3), "LayerNorm((3,), eps=1e-05, elementwise_affine=True, bias=True)"),
    (nn.Conv1d(1, 1, 2), "Conv1d(1, 1, kernel_size=(2,), stride=(1,))"), (nn.LSTM(3, 2), "LSTM"),
    (nn.GRUCell(3, 2), "GRUCell")])
def test_every_layer_names_itself_when_its_input_is_not_a_tensor(layer, name):
    """symgrad/nn/input_checks.py: one check, the layer's name in its message."""
    with pytest.raises(TypeError) as error:
        layer(np.ones((2, 3)))
    assert str(error.value) == f"{name}: expected a symgrad Tensor as input, got ndarray"


# -- containers and simple layers ------------------------------------------------------------
def test_sequential_indexing_and_repr():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(1000, 100), nn.ReLU(), nn.Linear(100, 10))
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Linear(in_features=1000, out_features=100, bias=True)\n"
        "  (1): ReLU()\n"
        "  (2): Linear(in_features=100, out_features=10, bias=True)\n"
        ")")
    assert len(model) == 3 and isinstance(model[1], nn.ReLU) and model[-1] is model[2]
    assert [type(m).__name__ for m in model] == ["Linear", "ReLU", "Linear"]
    assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias", "2.weight",
                                                        "2.bias"]
    head = model[:2]
    assert isinstance(head, nn.Sequential) and len(head) == 2 and head[0] is model[0]
    with pytest.raises(IndexError, match="index 3 is out of range.*length 3"):
        model[3]
    x = torch.randn(2, 1000)
    np.testing.assert_allclose(value(model(x)), value(model[2](model[1](model[0](x)))))
    model.append(nn.ReLU())
    assert len(model) == 4
    del model[0]
    assert [n for n, _ in model.named_children()] == ["0", "1", "2"]


def test_nested_repr_and_extra_repr():
    net = Net()
    assert repr(net) == (
        "Net(\n"
        "  (fc1): Linear(in_features=4, out_features=3, bias=True)\n"
        "  (act): ReLU()\n"
        "  (fc2): Linear(in_features=3, out_features=2, bias=False)\n"
        ")")
    outer = nn.Sequential(nn.Flatten(), nn.Sequential(nn.Linear(2, 2)))
    assert repr(outer) == (
        "Sequential(\n"
        "  (0): Flatten(start_dim=1, end_dim=-1)\n"
        "  (1): Sequential(\n"
        "    (0): Linear(in_features=2, out_features=2, bias=True)\n"
        "  )\n"
        ")")
    assert repr(nn.MSELoss(reduction="sum")) == "MSELoss(reduction='sum')"
    assert repr(nn.MSELoss()) == "MSELoss()"


def test_module_list_and_dict():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    assert len(layers) == 3 and len(list(layers.parameters())) == 6
    heads = nn.ModuleDict({"a": nn.Linear(2, 1), "b": nn.ReLU()})
    assert list(heads) == ["a", "b"] and "a" in heads
    assert [n for n, _ in heads.named_parameters()] == ["a.weight", "a.bias"]


def test_flatten_and_relu():
    x = torch.randn(2, 3, 4, 5)
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0, -1)(x).shape == (120,)
    assert nn.Flatten(1, 2)(x).shape == (2, 12, 5)
    np.testing.assert_array_equal(value(nn.Flatten()(x)), value(x).reshape(2, 60))
    r = nn.ReLU()(x)
    np.testing.assert_array_equal(value(r), np.maximum(value(x), 0))
    assert nn.Identity(54, unused=1)(x) is x


def test_softmax_and_log_softmax():
    x = torch.randn(3, 4) * 10
    s = value(F.softmax(x, dim=1))
    np.testing.assert_allclose(s.sum(1), 1, rtol=1e-6)
    np.testing.assert_allclose(value(F.log_softmax(x, dim=1)), np.log(s), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(value(nn.LogSoftmax(dim=0)(x)).sum(), value(F.log_softmax(x, 0)).sum())


# -- losses ----------------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_loss_value_and_gradient(reduction):
    torch.manual_seed(1)
    a = torch.randn(4, 3, requires_grad=True)
    b = torch.randn(4, 3)
    loss = nn.MSELoss(reduction=reduction)(a, b)
    d = value(a) - value(b)
    expected = {"mean": (d ** 2).mean(), "sum": (d ** 2).sum(), "none": d ** 2}[reduction]
    np.testing.assert_allclose(value(loss), expected, rtol=1e-6)
    assert loss.grad_fn.name() == "MseLossBackward0"
    seed = np.ones_like(d) if reduction == "none" else None
    loss.backward(None if seed is None else torch.tensor(seed))
    scale = 1 / d.size if reduction == "mean" else 1
    np.testing.assert_allclose(value(a.grad), 2 * d * scale, rtol=1e-5)


def test_mse_loss_legacy_size_average_flag():
    # seed 000 writes MSELoss(size_average=False), which means reduction='sum'
    assert nn.MSELoss(size_average=False).reduction == "sum"
    assert nn.MSELoss(reduce=False).reduction == "none"


def test_mse_loss_bad_input():
    with pytest.raises(ValueError, match="avg is not a valid value for reduction"):
        nn.MSELoss(reduction="avg")
    with pytest.raises(RuntimeError, match=r"size of tensor a \(3\) must match the size of "
                                           r"tensor b \(2\) at non-singleton dimension 1"):
        F.mse_loss(torch.zeros(4, 3), torch.zeros(4, 2))
    with pytest.warns(UserWarning, match="target size"):
        F.mse_loss(torch.zeros(4, 3), torch.zeros(3))
    with pytest.raises(TypeError, match="must be a symgrad Tensor"):
        F.mse_loss(np.zeros(3), torch.zeros(3))


def _log_softmax_np(x, axis=1):
    x = x.astype(np.float64)
    m = x.max(axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis, keepdims=True))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_value_and_gradient(reduction):
    torch.manual_seed(2)
    logits = torch.randn(5, 4, requires_grad=True)
    target = torch.tensor([0, 3, 1, 1, 2])
    loss = nn.CrossEntropyLoss(reduction=reduction)(logits, target)
    logp = _log_softmax_np(value(logits))
    per = -logp[np.arange(5), value(target)]
    expected = {"mean": per.mean(), "sum": per.sum(), "none": per}[reduction]
    np.testing.assert_allclose(value(loss), expected, rtol=1e-5)
    assert loss.grad_fn.name() == "NllLossBackward0"
    loss.backward(torch.ones(5) if reduction == "none" else None)
    grad = np.exp(logp) - np.eye(4)[value(target)]
    if reduction == "mean":
        grad /= 5
    np.testing.assert_allclose(value(logits.grad), grad, rtol=1e-4, atol=1e-6)


def test_cross_entropy_is_stable_for_large_logits():
    logits = torch.tensor([[1000.0, 0.0], [0.0, -1000.0]], requires_grad=True)
    loss = F.cross_entropy(logits, torch.tensor([1, 0]))
    assert np.isfinite(loss.item())
    np.testing.assert_allclose(loss.item(), 500.0, rtol=1e-6)
    loss.backward()
    assert np.isfinite(value(logits.grad)).all()


def test_cross_entropy_weight_ignore_index_and_probabilities():
    torch.manual_seed(4)
    logits = torch.randn(6, 3)
    target = torch.tensor([0, 2, 1, -100, 2, 0])
    weight = torch.tensor([1.0, 2.0, 0.5])
    logp = _log_softmax_np(value(logits))
    t = value(target)
    keep = t != -100
    w = value(weight)[np.where(keep, t, 0)] * keep
    per = -logp[np.arange(6), np.where(keep, t, 0)] * w
    loss = F.cross_entropy(logits, target, weight=weight)
    np.testing.assert_allclose(loss.item(), per.sum() / w.sum(), rtol=1e-5)
    np.testing.assert_allclose(value(F.cross_entropy(logits, target, reduction="none")),
                               -logp[np.arange(6), np.where(keep, t, 0)] * keep, rtol=1e-5)
    probs = np.full((6, 3), 1 / 3, dtype=np.float32)
    np.testing.assert_allclose(F.cross_entropy(logits, torch.tensor(probs)).item(),
                               -(logp * probs).sum(1).mean(), rtol=1e-5)
    # unbatched: logits (C,), target a scalar
    np.testing.assert_allclose(F.cross_entropy(torch.tensor(value(logits)[0]), torch.tensor(2)).item(),
                               -logp[0, 2], rtol=1e-5)
    # nll_loss on log-probabilities agrees with cross_entropy on logits
    np.testing.assert_allclose(F.nll_loss(F.log_softmax(logits, 1), target).item(),
                               F.cross_entropy(logits, target).item(), rtol=1e-6)


def test_cross_entropy_bad_input():
    logits = torch.randn(3, 4)
    with pytest.raises(IndexError, match="Target 4 is out of bounds."):
        F.cross_entropy(logits, torch.tensor([0, 4, 1]))
    with pytest.raises(ValueError, match=r"Expected input batch_size \(3\) to match target "
                                         r"batch_size \(2\)."):
        F.cross_entropy(logits, torch.tensor([0, 1]))
    with pytest.raises(RuntimeError, match="expected scalar type Long but found Float"):
        F.cross_entropy(logits, torch.tensor([0.0, 1.0, 2.0]))
    with pytest.raises(RuntimeError, match=r"weight tensor should be defined either for all 4 "
                                           r"classes or no classes"):
        F.cross_entropy(logits, torch.tensor([0, 1, 2]), weight=torch.ones(3))


# -- state dict ------------------------------------------------------------------------------
def test_state_dict_is_tensor_copies():
    net = Net()
    state = net.state_dict()
    assert list(state) == ["scale", "fc1.weight", "fc1.bias", "fc2.weight"]
    assert all(type(v) is torch.Tensor and not v.requires_grad for v in state.values())
    state["scale"][...] = 42
    assert value(net.scale).tolist() == [1.0]
    assert net.state_dict(keep_vars=True)["scale"] is net.scale


def test_state_dict_roundtrip():
    torch.manual_seed(0)
    a = Net()
    b = Net()
    x = torch.randn(3, 4)
    assert not np.allclose(value(a(x)), value(b(x)))
    params_before = list(b.parameters())
    result = b.load_state_dict(a.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    np.testing.assert_array_equal(value(a(x)), value(b(x)))
    assert all(p is q for p, q in zip(params_before, b.parameters()))   # updated in place
    # tensors are accepted as values too
    b.load_state_dict({k: torch.tensor(v) for k, v in a.state_dict().items()})


def test_load_state_dict_errors_leave_the_model_unchanged():
    net = Net()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    state = Net().state_dict()
    state["fc1.weight"] = np.zeros((2, 2), np.float32)
    del state["scale"]
    state["extra"] = np.zeros(1)
    with pytest.raises(RuntimeError) as error:
        net.load_state_dict(state)
    message = str(error.value)
    assert "Error(s) in loading state_dict for Net" in message
    assert 'Unexpected key(s) in state_dict: "extra"' in message
    assert 'Missing key(s) in state_dict: "scale"' in message
    assert ("size mismatch for fc1.weight: copying a param with shape (2, 2) from checkpoint, "
            "the shape in current model is (3, 4)") in message
    for key, array in net.state_dict().items():
        np.testing.assert_array_equal(array, before[key])
    state["fc1.weight"] = before["fc1.weight"] + 1
    result = net.load_state_dict(state, strict=False)
    assert result.missing_keys == ["scale"] and result.unexpected_keys == ["extra"]
    np.testing.assert_array_equal(value(net.fc1.weight), before["fc1.weight"] + 1)


# -- against PyTorch ---------------------------------------------------------------------------
def test_against_pytorch_sequential_forward_backward():
    real = pytest.importorskip("torch")
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(20, 8), nn.ReLU(), nn.Linear(8, 3))
    reference = real.nn.Sequential(real.nn.Linear(20, 8), real.nn.ReLU(), real.nn.Linear(8, 3))
    reference.load_state_dict({k: real.from_numpy(v.numpy()) for k, v in model.state_dict().items()})
    x, y = torch.randn(6, 20), torch.randn(6, 3)
    for ours_loss, their_loss in [(nn.MSELoss(reduction="sum"), real.nn.MSELoss(reduction="sum")),
                                  (nn.MSELoss(), real.nn.MSELoss())]:
        model.zero_grad()
        reference.zero_grad()
        loss = ours_loss(model(x), y)
        expected = their_loss(reference(real.from_numpy(value(x))), real.from_numpy(value(y)))
        loss.backward()
        expected.backward()
        np.testing.assert_allclose(loss.item(), expected.item(), rtol=1e-5)
        assert loss.grad_fn.name() == expected.grad_fn.name()
        for (name, p), q in zip(model.named_parameters(), reference.parameters()):
            np.testing.assert_allclose(value(p.grad), q.grad.numpy(), rtol=1e-4, atol=1e-6,
                                       err_msg=name)


def test_against_pytorch_cross_entropy():
    real = pytest.importorskip("torch")
    torch.manual_seed(5)
    logits = torch.randn(7, 5, requires_grad=True)
    target = np.array([0, 4, 2, 2, 1, 3, 0])
    weight = np.array([1.0, 0.5, 2.0, 1.0, 3.0], np.float32)
    theirs = real.tensor(value(logits), requires_grad=True)
    for kwargs in [{}, {"reduction": "sum"}, {"ignore_index": 2}]:
        for w in [None, weight]:
            logits.grad = None
            theirs.grad = None
            ours = F.cross_entropy(logits, torch.tensor(target),
                                   weight=None if w is None else torch.tensor(w), **kwargs)
            ref = real.nn.functional.cross_entropy(
                theirs, real.from_numpy(target), None if w is None else real.from_numpy(w),
                **kwargs)
            ours.backward()
            ref.backward()
            np.testing.assert_allclose(ours.item(), ref.item(), rtol=1e-5)
            np.testing.assert_allclose(value(logits.grad), theirs.grad.numpy(), rtol=1e-4,
                                       atol=1e-6)
