"""nn.init: the distributions' bounds and moments (PyTorch's formulas for the scale),
orthogonality, calculate_gain against PyTorch, reproducibility, errors."""
import math

import numpy as np
import pytest

import symgrad as torch
from symgrad import nn


def filled(function, shape=(200, 300), **kwargs):
    w = nn.Parameter(np.zeros(shape, np.float32))
    before = w
    assert function(w, **kwargs) is w and w is before
    return w.detach().numpy()


@pytest.mark.parametrize("function,kwargs,std", [
    (nn.init.normal_, dict(mean=0.5, std=2.0), 2.0),
    (nn.init.xavier_normal_, dict(gain=2.0), 2.0 * math.sqrt(2 / 500)),
    (nn.init.kaiming_normal_, dict(mode="fan_out", nonlinearity="relu"), math.sqrt(2 / 200)),
    (nn.init.kaiming_normal_, dict(a=0.2), math.sqrt(2 / 1.04) / math.sqrt(300)),
    (nn.init.xavier_uniform_, dict(gain=0.5), 0.5 * math.sqrt(6 / 500) / math.sqrt(3)),
    (nn.init.kaiming_uniform_, dict(nonlinearity="tanh"), 5 / 3 / math.sqrt(300)),
    (nn.init.uniform_, dict(a=-3.0, b=1.0), 4 / math.sqrt(12)),
])
def test_scale_follows_pytorch_formulas(function, kwargs, std):
    values = filled(function, **kwargs)
    assert values.dtype == np.float32
    assert values.std() == pytest.approx(std, rel=0.02)
    if "uniform" in function.__name__:
        bound = std * math.sqrt(3)
        center = (kwargs.get("a", -bound) + kwargs.get("b", bound)) / 2 \
            if function is nn.init.uniform_ else 0.0
        assert np.abs(values - center).max() <= bound * (1 + 1e-6)


def test_constant_zeros_ones_eye():
    assert (filled(nn.init.constant_, val=0.25) == 0.25).all()
    assert (filled(nn.init.zeros_) == 0).all() and (filled(nn.init.ones_) == 1).all()
    np.testing.assert_array_equal(filled(nn.init.eye_, shape=(2, 3)), np.eye(2, 3))


def test_trunc_normal_stays_in_bounds():
    values = filled(nn.init.trunc_normal_, mean=1.0, std=2.0, a=0.0, b=1.5)
    assert values.min() >= 0.0 and values.max() <= 1.5
    with pytest.warns(UserWarning, match="mean is more than 2 std from"):
        filled(nn.init.trunc_normal_, shape=(3,), mean=10.0, a=-1.0, b=1.0)


@pytest.mark.parametrize("shape", [(20, 50), (50, 20), (6, 3, 2, 2)])
def test_orthogonal(shape):
    values = filled(nn.init.orthogonal_, shape=shape, gain=2.0).reshape(shape[0], -1)
    small = values @ values.T if shape[0] <= values.shape[1] else values.T @ values
    np.testing.assert_allclose(small, 4 * np.eye(small.shape[0]), atol=1e-5)


def test_seeded_draws_repeat():
    torch.manual_seed(7)
    first = filled(nn.init.kaiming_normal_, shape=(4, 5))
    torch.manual_seed(7)
    np.testing.assert_array_equal(filled(nn.init.kaiming_normal_, shape=(4, 5)), first)


def test_calculate_gain_matches_pytorch():
    real = pytest.importorskip("torch")
    for name in ("linear", "conv2d", "conv_transpose2d", "sigmoid", "tanh", "relu", "selu"):
        assert nn.init.calculate_gain(name) == real.nn.init.calculate_gain(name)
    for slope in (None, 0.2, 1):
        assert nn.init.calculate_gain("leaky_relu", slope) == \
            real.nn.init.calculate_gain("leaky_relu", slope)


def test_errors():
    with pytest.raises(ValueError, match="Unsupported nonlinearity gelu"):
        nn.init.calculate_gain("gelu")
    with pytest.raises(ValueError, match="Fan in and fan out can not be computed"):
        nn.init.xavier_uniform_(nn.Parameter(np.zeros(3, np.float32)))
    with pytest.raises(ValueError, match="Only tensors with 2 or more dimensions are supported"):
        nn.init.orthogonal_(nn.Parameter(np.zeros(3, np.float32)))
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        nn.init.kaiming_normal_(nn.Parameter(np.zeros((2, 2), np.float32)), mode="fan_avg")
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        nn.init.kaiming_uniform_(nn.Parameter(np.zeros((0, 3), np.float32)))
