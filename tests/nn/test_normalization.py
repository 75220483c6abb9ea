"""LayerNorm, GroupNorm, BatchNorm1d/2d (symgrad/nn/normalization.py, functional_norm.py):
values and gradients against PyTorch from the same weights, in train and eval mode; the
running statistics (momentum, cumulative average, num_batches_tracked) eagerly and carried
through sg.train; state_dict round trips with buffers; the errors. The formulas' numeric
gradients (first and second order) and compiled code are checked in the op table
(tests/core/op_cases_layers.py)."""
import numpy as np
import pytest

import symgrad as sg
from symgrad import nn

from layer_checks import (assert_compiled_equals_eager, load_into_torch, real_torch, to_torch,
                          value)

X = np.random.default_rng(0).standard_normal((4, 6, 5)).astype(np.float32)
IMAGES = np.random.default_rng(1).standard_normal((3, 2, 4, 4)).astype(np.float32)


def assert_matches_torch(real, ours, theirs, x, rtol=1e-5, atol=1e-5):
    """Same output, input gradient, parameter gradients and state (buffers included)."""
    a, b = sg.tensor(x, requires_grad=True), to_torch(real, x, requires_grad=True)
    out, expected = ours(a), theirs(b)
    np.testing.assert_allclose(value(out), value(expected), rtol=rtol, atol=atol)
    weights = np.random.default_rng(2).standard_normal(x.shape).astype(x.dtype)
    (out * sg.tensor(weights)).sum().backward()
    (expected * to_torch(real, weights)).sum().backward()
    np.testing.assert_allclose(value(a.grad), value(b.grad), rtol=rtol, atol=atol)
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
        np.testing.assert_allclose(value(p.grad), value(q.grad), rtol=rtol, atol=atol, err_msg=name)
    theirs_state = theirs.state_dict()
    for key, v in ours.state_dict().items():
        np.testing.assert_allclose(value(v), value(theirs_state[key]), rtol=rtol, atol=atol,
                                   err_msg=key)


def with_random_affine(layer, seed=3):
    rng = np.random.default_rng(seed)
    for p in layer.parameters():
        p.data = sg.tensor(rng.standard_normal(p.shape).astype(np.float32))
    return layer


@pytest.mark.parametrize("make", [
    lambda m: m.LayerNorm(5), lambda m: m.LayerNorm((6, 5), eps=1e-3),
    lambda m: m.LayerNorm(5, elementwise_affine=False), lambda m: m.LayerNorm(5, bias=False),
    lambda m: m.GroupNorm(3, 6), lambda m: m.GroupNorm(1, 6, affine=False),
    lambda m: m.GroupNorm(2, 6, bias=False),
], ids=["layer", "layer_2d", "layer_plain", "layer_no_bias", "group", "group_plain",
        "group_no_bias"])
def test_layer_and_group_norm_match_pytorch(make):
    real = real_torch()
    ours = with_random_affine(make(nn))
    assert_matches_torch(real, ours, load_into_torch(real, ours, make(real.nn)), X)


@pytest.mark.parametrize("make, x", [
    (lambda m: m.BatchNorm1d(6), X), (lambda m: m.BatchNorm1d(5), X[:, 0]),
    (lambda m: m.BatchNorm2d(2, momentum=0.3), IMAGES),
    (lambda m: m.BatchNorm2d(2, momentum=None), IMAGES),
    (lambda m: m.BatchNorm2d(2, affine=False), IMAGES),
    (lambda m: m.BatchNorm1d(6, track_running_stats=False), X),
    (lambda m: m.BatchNorm1d(6, bias=False), X),
], ids=["1d_3d", "1d_2d", "2d_momentum", "2d_cumulative", "2d_plain", "untracked", "no_bias"])
def test_batch_norm_matches_pytorch_in_train_and_eval_mode(make, x):
    real = real_torch()
    ours = with_random_affine(make(nn))
    theirs = load_into_torch(real, ours, make(real.nn))
    for step in range(2):                    # running statistics move twice
        assert_matches_torch(real, ours, theirs, x * (step + 1) + step)
    ours.eval(), theirs.eval()
    assert_matches_torch(real, ours, theirs, x)


def test_eval_mode_normalizes_by_the_running_statistics():
    bn = nn.BatchNorm1d(3)
    x = sg.tensor(np.random.default_rng(4).normal(5.0, 2.0, (64, 3)).astype(np.float32))
    assert abs(value(bn(x)).mean()) < 1e-5                        # batch statistics
    np.testing.assert_allclose(value(bn.running_mean), 0.1 * value(x).mean(0), rtol=1e-5)
    bn.eval()
    expected = (value(x) - value(bn.running_mean)) / np.sqrt(value(bn.running_var) + 1e-5)
    np.testing.assert_allclose(value(bn(x)), expected, rtol=1e-5)
    assert int(bn.num_batches_tracked) == 1                      # eval does not count


def test_state_dict_round_trip_keeps_the_buffers():
    bn = nn.BatchNorm2d(2)
    bn(sg.tensor(IMAGES))
    state = bn.state_dict()
    assert list(state) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    fresh = nn.BatchNorm2d(2)
    fresh.load_state_dict(state)
    for key, v in fresh.state_dict().items():
        np.testing.assert_array_equal(value(v), value(state[key]))
    assert fresh.state_dict()["num_batches_tracked"].dtype == sg.int64


def test_reprs_are_pytorch_2_13s():
    assert repr(nn.LayerNorm((3, 4), eps=1e-6)) == \
        "LayerNorm((3, 4), eps=1e-06, elementwise_affine=True, bias=True)"
    assert repr(nn.GroupNorm(2, 4)) == "GroupNorm(2, 4, eps=1e-05, affine=True, bias=True)"
    assert repr(nn.BatchNorm2d(8, momentum=None)) == ("BatchNorm2d(8, eps=1e-05, momentum=None, "
                                                      "affine=True, bias=True, "
                                                      "track_running_stats=True)")
    real = real_torch()
    for text in ("LayerNorm(3, bias=False)", "LayerNorm(3, elementwise_affine=False)",
                 "GroupNorm(1, 2, affine=False)", "BatchNorm1d(2, bias=False)",
                 "BatchNorm2d(3, affine=False, track_running_stats=False)"):
        assert repr(eval(f"nn.{text}")) == repr(eval(f"real.nn.{text}"))


def test_bad_input_names_the_layer():
    with pytest.raises(ValueError, match=r"BatchNorm2d\(2, .*\): expected 4D input \(got 3D"):
        nn.BatchNorm2d(2)(sg.tensor(X))
    with pytest.raises(RuntimeError, match=r"BatchNorm1d\(4, .*expected input with 4 channels"):
        nn.BatchNorm1d(4)(sg.tensor(X))
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        nn.BatchNorm1d(6)(sg.tensor(X[:1, :, 0]))
    with pytest.raises(RuntimeError, match=r"Given normalized_shape=\[4\], expected input with "
                                           r"shape \[\*, 4\], but got input of size\[4, 6, 5\]"):
        nn.LayerNorm(4)(sg.tensor(X))
    with pytest.raises(ValueError, match="num_channels must be divisible by num_groups"):
        nn.GroupNorm(4, 6)
    with pytest.raises(RuntimeError, match=r"GroupNorm\(3, 6, .*expected input with 6 channels"):
        nn.GroupNorm(3, 6)(sg.tensor(IMAGES))


class NormalizedNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(5, 6)
        self.bn = nn.BatchNorm1d(6, momentum=None)
        self.ln = nn.LayerNorm(6)
        self.gn = nn.GroupNorm(2, 6)
        self.bn_momentum = nn.BatchNorm1d(6, momentum=0.2)
        self.out = nn.Linear(6, 1)

    def forward(self, x):
        return self.out(self.bn_momentum(self.gn(self.ln(self.bn(self.fc(x)).tanh()))))


def test_compiled_training_carries_the_running_statistics_as_eager():
    x = X[:, 0]
    y = x.sum(1, keepdims=True)
    state = assert_compiled_equals_eager(
        NormalizedNet, (x, y), lambda model, x, y: ((model(x) - y) ** 2).mean(), steps=4)
    assert state["bn.num_batches_tracked"] == 4 == state["bn_momentum.num_batches_tracked"]
    assert state["bn.running_mean"].any() and state["bn_momentum.running_var"].any()
