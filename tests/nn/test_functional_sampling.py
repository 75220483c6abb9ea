"""``F.affine_grid`` and ``F.grid_sample`` (symgrad/nn/functional_sampling.py): values and
gradients (input, grid, theta) equal PyTorch's for every mode, padding mode and align_corners;
numeric gradients of first and second order; inside a compiled step; PyTorch's errors for bad
input."""
import itertools

import numpy as np
import pytest

import symgrad as sg
from symgrad.nn import functional as F
from layer_checks import real_torch

RNG = np.random.default_rng(0)
IMAGE = RNG.standard_normal((2, 3, 5, 4)).astype(np.float32)
THETA = (1.7 * (np.array([[1, 0, 0], [0, 1, 0]]) + 0.4 * RNG.standard_normal((2, 2, 3)))
         ).astype(np.float32)      # reaches outside the image: every padding mode matters
WEIGHTS = (np.arange(2 * 3 * 6 * 3).reshape(2, 3, 6, 3) % 7).astype(np.float32)


def _sampled(lib, functional, mode, padding_mode, align_corners):
    image = lib.tensor(IMAGE, requires_grad=True)
    theta = lib.tensor(THETA, requires_grad=True)
    grid = functional.affine_grid(theta, (2, 3, 6, 3), align_corners=align_corners)
    out = functional.grid_sample(image, grid, mode=mode, padding_mode=padding_mode,
                                 align_corners=align_corners)
    (out * lib.tensor(WEIGHTS)).sum().backward()
    return [t.detach().numpy() for t in (grid, out, image.grad, theta.grad)]


@pytest.mark.parametrize("mode,padding_mode,align_corners", itertools.product(
    ["bilinear", "nearest"], ["zeros", "border", "reflection"], [False, True]))
def test_values_and_gradients_are_pytorchs(mode, padding_mode, align_corners):
    real = real_torch()
    ours = _sampled(sg, F, mode, padding_mode, align_corners)
    theirs = _sampled(real, real.nn.functional, mode, padding_mode, align_corners)
    for name, a, b in zip(("grid", "output", "input grad", "theta grad"), ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4, err_msg=name)


def test_the_identity_transform_gives_the_image_back():
    image = sg.tensor(IMAGE)
    theta = sg.tensor(np.tile(np.eye(2, 3, dtype=np.float32), (2, 1, 1)))
    grid = F.affine_grid(theta, image.size(), align_corners=False)
    out = F.grid_sample(image, grid, align_corners=False)
    np.testing.assert_allclose(out.numpy(), IMAGE, rtol=1e-6, atol=1e-6)
    assert out.grad_fn is None and grid.shape == (2, 5, 4, 2)


@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
def test_numeric_gradients_first_and_second_order(padding_mode):
    image = sg.tensor(IMAGE[:1, :1].astype(np.float64))
    theta = np.array([[[0.9, 0.2, 0.13], [-0.3, 1.1, 0.07]]])     # no sample on a pixel edge

    def loss(theta):
        grid = F.affine_grid(sg.Tensor(theta), (1, 1, 3, 4), align_corners=False)
        sampled = F.grid_sample(image, grid, padding_mode=padding_mode, align_corners=False)
        return (sampled * sampled).sum()._value
    sg.check_grad(loss, theta, backend="reference", tolerance=1e-4)


def _sampled_sum(image, theta):
    grid = F.affine_grid(theta, (2, 3, 4, 4), align_corners=True)
    return F.grid_sample(image, grid, padding_mode="border", align_corners=True).sum()


def test_a_traced_gradient_equals_the_eager_one():
    image, theta = sg.tensor(IMAGE), sg.tensor(THETA, requires_grad=True)
    _sampled_sum(image, theta).backward()
    traced = sg.grad(lambda t: _sampled_sum(image, sg.Tensor(t))._value, backend="reference")(THETA)
    np.testing.assert_allclose(traced, theta.grad.numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("call,error,message", [
    (lambda: F.affine_grid(sg.zeros(2, 3, 3), (2, 1, 4, 4)), ValueError,
     "Expected a batch of 2D affine matrices of shape Nx2x3 for size [2, 1, 4, 4]. "
     "Got [2, 3, 3]."),
    (lambda: F.grid_sample(sg.zeros(1, 1, 4, 4), sg.zeros(2, 3, 3, 2)), RuntimeError,
     "expected grid and input to have same batch size"),
    (lambda: F.grid_sample(sg.zeros(1, 1, 4, 4), sg.zeros(1, 3, 3, 3)), RuntimeError,
     "expected grid to have size 2 in last dimension"),
    (lambda: F.grid_sample(sg.zeros(1, 1, 4, 4), sg.zeros(1, 3, 3, 2), mode="linear"),
     ValueError, "expected mode to be 'bilinear', 'nearest' or 'bicubic', but got: 'linear'"),
    (lambda: F.grid_sample(sg.zeros(1, 1, 4, 4), sg.zeros(1, 3, 3, 2), padding_mode="edge"),
     ValueError, "expected padding_mode to be 'zeros', 'border', or 'reflection'"),
])
def test_bad_input_gets_pytorchs_errors(call, error, message):
    with pytest.raises(error, match=__import__("re").escape(message)):
        call()
