"""Activation functions and modules (symgrad/nn/functional_activations.py, activation.py)
against PyTorch (values and gradients, float64, large arguments included), their reprs, and
in a compiled training loop. Their numeric gradients (first and second order) and compiled
code are checked in the op table (tests/core/op_cases_layers.py)."""
import numpy as np
import pytest

import symgrad as sg
from symgrad import nn
from symgrad.nn import functional as F

from layer_checks import assert_compiled_equals_eager, real_torch, to_torch, value

# kinks at 0, -1, 1, 6 and softplus' thresholds avoided; large values for overflow
X = np.concatenate([np.linspace(-7.3, 7.1, 29), [-60.0, -25.0, 25.0, 60.0, 200.0]])

FUNCTIONS = [
    ("gelu", {}), ("gelu", {"approximate": "tanh"}), ("leaky_relu", {}),
    ("leaky_relu", {"negative_slope": 0.2}), ("elu", {}), ("elu", {"alpha": 0.5}), ("silu", {}),
    ("softplus", {}), ("softplus", {"beta": 2.0, "threshold": 5.0}), ("hardtanh", {}),
    ("hardtanh", {"min_val": -2.0, "max_val": 3.0}), ("relu6", {}), ("mish", {}),
]


@pytest.mark.parametrize("name, options", FUNCTIONS,
                         ids=[f"{n}-{'-'.join(map(str, o.values()))}" for n, o in FUNCTIONS])
def test_values_and_gradients_match_pytorch(name, options):
    real = real_torch()
    ours, theirs = sg.tensor(X, requires_grad=True), to_torch(real, X, requires_grad=True)
    out = getattr(F, name)(ours, **options)
    expected = getattr(real.nn.functional, name)(theirs, **options)
    np.testing.assert_allclose(value(out), value(expected), rtol=1e-12, atol=1e-12)
    (out * out).sum().backward()
    (expected * expected).sum().backward()
    np.testing.assert_allclose(value(ours.grad), value(theirs.grad), rtol=1e-10, atol=1e-12)
    assert np.isfinite(value(ours.grad)).all()


def test_modules_call_their_functions_and_print_as_pytorch():
    real = real_torch()
    x = sg.tensor(X.astype(np.float32))
    modules = ["GELU()", "GELU(approximate='tanh')", "LeakyReLU(0.1)", "ELU(alpha=0.3)",
               "SiLU()", "Softplus(beta=2.0)", "Hardtanh(-0.5, 0.5)", "ReLU6()", "Mish()"]
    for text in modules:
        ours, theirs = eval(f"nn.{text}"), eval(f"real.nn.{text}")
        assert repr(ours) == repr(theirs)
        np.testing.assert_allclose(value(ours(x)), value(theirs(to_torch(real, value(x)))),
                                   rtol=1e-6, atol=1e-6, err_msg=text)


def test_grad_fn_names_and_erf():
    x = sg.tensor([0.5], requires_grad=True)
    assert F.gelu(x).grad_fn.name() == "GeluBackward0"
    assert F.silu(x).grad_fn.name() == "SiluBackward0"
    assert sg.erf(x).grad_fn.name() == "ErfBackward0"
    assert abs(x.erf().item() - 0.5204998778) < 1e-6


def test_bad_arguments():
    with pytest.raises(RuntimeError, match="approximate argument must be either none or tanh"):
        F.gelu(sg.ones(2), approximate="fast")
    with pytest.raises(ValueError, match="min_val cannot be greater than max_val"):
        nn.Hardtanh(1.0, -1.0)
    with pytest.raises(TypeError, match=r"gelu\(\): argument 'input' \(position 1\) must be "
                                        r"Tensor, not list"):
        F.gelu([1.0])


def test_compiled_training_equals_eager():
    x = np.linspace(-2, 2, 12, dtype=np.float32).reshape(4, 3)
    y = np.sin(x).sum(1, keepdims=True)

    def make():
        return nn.Sequential(nn.Linear(3, 8), nn.GELU(), nn.Linear(8, 8),
                             nn.GELU(approximate="tanh"), nn.Linear(8, 8), nn.Mish(),
                             nn.Linear(8, 8), nn.Softplus(beta=2.0), nn.ELU(), nn.SiLU(),
                             nn.LeakyReLU(0.1), nn.Hardtanh(), nn.Linear(8, 1))
    assert_compiled_equals_eager(make, (x, y), lambda m, x, y: ((m(x) - y) ** 2).mean())
