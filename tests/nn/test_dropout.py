"""Dropout, Dropout1d, Dropout2d (symgrad/nn/dropout.py, functional_dropout.py) and the
counter stream their masks come from (symgrad/eager/random_stream.py, the random_uniform op
in symgrad/core/ops/random.py): rates and scaling, train vs eval, seeded reproducibility,
whole-channel masks, PyTorch's reprs and errors, and sg.train drawing the same masks as the
eager loop (the op's numbers, compiled vs reference, are checked in the op table)."""
import warnings

import numpy as np
import pytest

import symgrad as sg
from symgrad import nn
from symgrad.core.ops.random import random_uniform
from symgrad.nn import functional as F

from layer_checks import assert_compiled_equals_eager, real_torch, value


def test_rate_scaling_and_gradient():
    sg.manual_seed(0)
    x = sg.ones(20000, requires_grad=True)
    y = F.dropout(x, p=0.3)
    kept = value(y) != 0
    assert abs(kept.mean() - 0.7) < 0.01
    np.testing.assert_allclose(value(y)[kept], 1 / 0.7, rtol=1e-6)
    y.sum().backward()
    np.testing.assert_allclose(value(x.grad), value(y))       # mask * 1/(1-p)
    assert y.grad_fn.name() == "MulBackward0"


def test_eval_mode_and_p_zero_are_the_identity():
    x = sg.randn(3, 4)
    layer = nn.Dropout(0.5)
    assert layer.training and not np.array_equal(value(layer(x)), value(x))
    assert layer.eval()(x) is x
    assert F.dropout(x, 0.0) is x and F.dropout(x, 0.5, training=False) is x
    assert not value(F.dropout(x, 1.0)).any()


def test_masks_are_seeded_and_change_from_call_to_call():
    sg.manual_seed(3)
    first, second = value(F.dropout(sg.ones(64))), value(F.dropout(sg.ones(64)))
    assert not np.array_equal(first, second)
    sg.manual_seed(3)
    np.testing.assert_array_equal(value(F.dropout(sg.ones(64))), first)
    sg.manual_seed(4)
    assert not np.array_equal(value(F.dropout(sg.ones(64))), first)


def test_random_uniform_is_uniform_and_uncorrelated():
    u = random_uniform(np.array([1, 0]), (200000,), np.float64)
    assert abs(u.mean() - 0.5) < 0.005 and abs(u.var() - 1 / 12) < 0.002
    assert abs(np.corrcoef(u[1:], u[:-1])[0, 1]) < 0.01
    assert (u >= 0).all() and (u < 1).all()
    other = random_uniform(np.array([2, 0]), (200000,), np.float64)
    assert abs(np.corrcoef(u, other)[0, 1]) < 0.01


def test_channel_dropout_zeroes_whole_channels():
    sg.manual_seed(0)
    y1 = value(F.dropout1d(sg.ones(4, 16, 5), 0.5))
    y2 = value(nn.Dropout2d(0.5)(sg.ones(4, 16, 3, 3)))
    for y in (y1, y2):
        per_channel = y.reshape(4, 16, -1)
        assert (per_channel == per_channel[..., :1]).all()              # one value per channel
        assert {0.0, 2.0} == set(np.unique(per_channel))
    assert value(nn.Dropout1d(0.5)(sg.ones(16, 5))).shape == (16, 5)


def test_reprs_and_errors_as_pytorch():
    real = real_torch()
    for text in ("Dropout()", "Dropout(p=0.2)", "Dropout1d(0.1)", "Dropout2d(p=0.3)"):
        assert repr(eval(f"nn.{text}")) == repr(eval(f"real.nn.{text}"))
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but "
                                         "got 1.5"):
        nn.Dropout(1.5)
    with pytest.raises(RuntimeError, match="dropout1d: Expected 2D or 3D input, but received a "
                                           "4D input"):
        F.dropout1d(sg.ones(1, 2, 3, 4))
    with pytest.warns(UserWarning, match="Received a 3D input to dropout2d"):
        F.dropout2d(sg.ones(2, 3, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.dropout2d(sg.ones(1, 2, 3, 4))


def test_matches_pytorch_where_no_mask_is_drawn():
    real = real_torch()
    x = np.random.default_rng(0).standard_normal((3, 4))
    for p in (0.0, 0.4):
        ours, theirs = nn.Dropout(p).eval(), real.nn.Dropout(p).eval()
        np.testing.assert_array_equal(value(ours(sg.tensor(x))), value(theirs(real.tensor(x))))


class DropoutNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(4, 16), nn.Linear(16, 1)
        self.drop, self.drop1d = nn.Dropout(0.3), nn.Dropout1d(0.2)

    def forward(self, x):
        hidden = self.drop(self.fc1(x).relu())
        return self.fc2(self.drop1d(hidden.reshape(4, 4, 4)).reshape(4, 16) + hidden)


def test_compiled_training_draws_the_eager_masks():
    x = np.random.default_rng(1).standard_normal((4, 4)).astype(np.float32)
    y = x.sum(1, keepdims=True)
    assert_compiled_equals_eager(DropoutNet, (x, y),
                                 lambda model, x, y: ((model(x) - y) ** 2).mean(), steps=5)
    from symgrad.eager.sampling import default_generator
    assert value(default_generator.counter_stream.key).tolist() == [0, 10]   # 2 draws a step
