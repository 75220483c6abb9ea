"""Conv1d, ConvTranspose2d, AdaptiveAvgPool2d, Upsample / F.interpolate (nearest)
(symgrad/nn/spatial.py, functional_spatial.py) against PyTorch from the same weights (values
and gradients), their initialization bounds, reprs and errors, and a compiled training loop
equal to the eager one. The formulas' numeric gradients are checked in the op table."""
import math

import numpy as np
import pytest

import symgrad as sg
from symgrad import nn
from symgrad.nn import functional as F

from layer_checks import (assert_compiled_equals_eager, load_into_torch, real_torch, to_torch,
                          value)

RNG = np.random.default_rng(0)
SIGNAL = RNG.standard_normal((2, 3, 11))
IMAGES = RNG.standard_normal((2, 3, 7, 5))


def assert_module_matches_torch(real, text, x):
    ours = eval(f"nn.{text}").double()
    theirs = load_into_torch(real, ours, eval(f"real.nn.{text}").double())
    assert repr(ours) == repr(theirs)
    a, b = sg.tensor(x, requires_grad=True), to_torch(real, x, requires_grad=True)
    out, expected = ours(a), theirs(b)
    np.testing.assert_allclose(value(out), value(expected), rtol=1e-10, atol=1e-12, err_msg=text)
    (out ** 2).sum().backward()
    (expected ** 2).sum().backward()
    np.testing.assert_allclose(value(a.grad), value(b.grad), rtol=1e-10, atol=1e-12)
    for p, q in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_allclose(value(p.grad), value(q.grad), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("text, x", [
    ("Conv1d(3, 4, 3)", SIGNAL), ("Conv1d(3, 4, 3, stride=2, padding=1, dilation=2)", SIGNAL),
    ("Conv1d(3, 2, 4, bias=False)", SIGNAL[0]),
    ("ConvTranspose2d(3, 4, 3)", IMAGES),
    ("ConvTranspose2d(3, 2, 3, stride=2, padding=1, output_padding=1)", IMAGES),
    ("ConvTranspose2d(3, 2, (2, 3), stride=(2, 1), dilation=2, bias=False)", IMAGES[0]),
    ("AdaptiveAvgPool2d(1)", IMAGES), ("AdaptiveAvgPool2d((3, 2))", IMAGES),
    ("AdaptiveAvgPool2d((None, 3))", IMAGES[0]),
    ("Upsample(scale_factor=2)", IMAGES), ("Upsample(size=(10, 3))", IMAGES),
    ("Upsample(scale_factor=1.5)", SIGNAL),
])
def test_layers_match_pytorch(text, x):
    assert_module_matches_torch(real_torch(), text, x)


def test_interpolate_and_output_size_match_pytorch():
    real = real_torch()
    for options in (dict(size=11), dict(scale_factor=(1.7, 0.6)), dict(scale_factor=3)):
        np.testing.assert_array_equal(value(F.interpolate(sg.tensor(IMAGES), **options)),
                                      value(real.nn.functional.interpolate(
                                          real.tensor(IMAGES), **options)))
    sg.manual_seed(0)
    up = nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1)
    assert tuple(up(sg.tensor(IMAGES).float(), output_size=(14, 10)).shape) == (2, 2, 14, 10)


def test_initialization_bounds_are_pytorch_fan_in():
    sg.manual_seed(0)
    for layer, fan_in in ((nn.Conv1d(4, 64, 5), 4 * 5), (nn.ConvTranspose2d(4, 16, 3), 16 * 9)):
        bound = 1 / math.sqrt(fan_in)
        for p in (layer.weight, layer.bias):
            assert np.abs(value(p)).max() <= bound
            assert np.abs(value(p)).max() > 0.9 * bound


def test_grad_fn_names():
    x = sg.tensor(IMAGES, requires_grad=True)
    assert F.interpolate(x, scale_factor=2).grad_fn.name() == "UpsampleNearest2DBackward0"
    assert F.adaptive_avg_pool2d(x, 2).grad_fn.name() == "AdaptiveAvgPool2DBackward0"
    assert nn.Conv1d(3, 2, 3).double()(sg.tensor(SIGNAL)).grad_fn.name() == "ConvolutionBackward0"


def test_bad_input_names_the_layer():
    conv = nn.Conv1d(3, 4, 3)
    with pytest.raises(RuntimeError, match=r"Conv1d\(3, 4, .*Expected 2D \(unbatched\) or 3D "
                                           r"\(batched\) input, but got input of size: \[2, 3, 7, 5\]"):
        conv(sg.tensor(IMAGES).float())
    with pytest.raises(RuntimeError, match=r"Given groups=1, weight of size \[4, 3, 3\], expected "
                                           r"input\[2, 5, 9\] to have 3 channels, but got 5"):
        conv(sg.zeros(2, 5, 9))
    with pytest.raises(RuntimeError, match="Kernel size can't be greater than actual input size"):
        conv(sg.zeros(1, 3, 2))
    with pytest.raises(RuntimeError, match=r"ConvTranspose2d\(3, 2, .*expected input\[2, 4, 5, 5\] "
                                           r"to have 3 channels"):
        nn.ConvTranspose2d(3, 2, 3)(sg.zeros(2, 4, 5, 5))
    with pytest.raises(ValueError, match="output padding must be smaller than either stride or "
                                         "dilation"):
        F.conv_transpose2d(sg.zeros(1, 1, 3, 3), sg.zeros(1, 1, 3, 3), output_padding=1)
    with pytest.raises(RuntimeError, match=r"AdaptiveAvgPool2d\(output_size=2\): Expected 3D or 4D"):
        nn.AdaptiveAvgPool2d(2)(sg.zeros(3, 4))
    with pytest.raises(NotImplementedError, match="mode='bilinear' is not supported"):
        nn.Upsample(scale_factor=2, mode="bilinear")
    with pytest.raises(ValueError, match="only one of size or scale_factor should be defined"):
        F.interpolate(sg.zeros(1, 1, 2, 2))


class UNetLike(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(2, 3, 3, padding=1)
        self.down = nn.AdaptiveAvgPool2d((3, 2))
        self.up = nn.ConvTranspose2d(3, 2, 2, stride=2)
        self.resize = nn.Upsample(size=(5, 5))

    def forward(self, x):
        signal = self.conv(x.reshape(2, 2, 20)).reshape(2, 3, 4, 5)
        return self.resize(self.up(self.down(signal).tanh()))


def test_compiled_training_equals_eager():
    x = RNG.standard_normal((2, 2, 4, 5)).astype(np.float32)
    y = RNG.standard_normal((2, 2, 5, 5)).astype(np.float32)
    assert_compiled_equals_eager(UNetLike, (x, y), lambda m, x, y: ((m(x) - y) ** 2).mean())
