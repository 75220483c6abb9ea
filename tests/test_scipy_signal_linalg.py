"""scipy.signal.convolve (with autograd's axes/dot_axes) and scipy.linalg's triangular and
Cholesky solves on traced values: values against scipy, gradients against HIPS autograd's
own rules when it is installed and against central differences to second order."""
import numpy as np
import pytest
import scipy.linalg
import scipy.signal

import symgrad as sg
from symgrad.scipy.signal import convolve

REF = "reference"
MODES = ("full", "valid", "same")
# (A's shape, B's shape, axes, dot_axes): plain scipy convolutions, a kernel longer than the
# signal, and a convolution layer (images x channels_in, channels_in x channels_out kernels)
CONVOLUTIONS = [((5,), (3,), None, ((), ())), ((3,), (5,), None, ((), ())),
                ((4, 5), (2, 3), None, ((), ())),
                ((2, 3, 6, 5), (3, 2, 3, 2), ([2, 3], [2, 3]), ([1], [0]))]


def weighted_convolution(axes, dot_axes, mode, weights, convolve):
    return lambda a, b: (convolve(a, b, axes=axes, dot_axes=dot_axes, mode=mode) * weights).sum()


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("a_shape, b_shape, axes, dot_axes", CONVOLUTIONS)
def test_convolve_values_and_gradients(a_shape, b_shape, axes, dot_axes, mode):
    rng = np.random.RandomState(0)
    a, b = rng.randn(*a_shape), rng.randn(*b_shape)
    value = sg.jit(lambda a, b: convolve(a, b, axes, dot_axes, mode), backend=REF)(a, b)
    if axes is None:
        np.testing.assert_allclose(value, scipy.signal.convolve(a, b, mode=mode), atol=1e-12)
    weights = rng.randn(*value.shape)
    objective = weighted_convolution(axes, dot_axes, mode, weights, convolve)
    sg.check_grad(objective, a, b, order=2, backend=REF)
    autograd = pytest.importorskip("autograd")
    import autograd.scipy.signal
    np.testing.assert_allclose(value, autograd.scipy.signal.convolve(
        a, b, axes=axes, dot_axes=dot_axes, mode=mode), atol=1e-12)
    theirs = autograd.grad(weighted_convolution(axes, dot_axes, mode, weights,
                                                autograd.scipy.signal.convolve), (0, 1))(a, b)
    for ours, expected in zip(sg.grad(objective, (0, 1), backend=REF)(a, b), theirs):
        np.testing.assert_allclose(ours, expected, atol=1e-12)


def test_scipy_convolve_called_by_its_module_name_traces_with_positional_mode():
    gradient = sg.grad(lambda a: scipy.signal.convolve(a, np.array([1.0, 2.0]), "valid").sum())
    np.testing.assert_allclose(gradient(np.ones(3)), [2.0, 3.0, 1.0])


def test_convolve_says_what_is_wrong():
    with pytest.raises(ValueError, match="mode must be one of"):
        sg.grad(lambda a: convolve(a, a, mode="circular").sum())(np.ones(3))
    with pytest.raises(ValueError, match="at least as large"):
        sg.grad(lambda a: convolve(a, np.ones((2, 4)), mode="valid").sum())(np.ones((3, 3)))


@pytest.mark.parametrize("lower", [True, False])
@pytest.mark.parametrize("trans", [0, "T"])
@pytest.mark.parametrize("rhs_shape", [(4,), (4, 2)])
def test_solve_triangular_against_scipy_and_autograd(lower, trans, rhs_shape):
    rng = np.random.RandomState(1)
    a, b = rng.randn(4, 4) + 4 * np.eye(4), rng.randn(*rhs_shape)
    solved = sg.jit(lambda a, b: scipy.linalg.solve_triangular(a, b, trans, lower), backend=REF)
    np.testing.assert_allclose(solved(a, b), scipy.linalg.solve_triangular(a, b, trans, lower))

    def objective(a, b, linalg=scipy.linalg, sin=np.sin):      # looked up when called
        return sin(linalg.solve_triangular(a, b, trans=trans, lower=lower)).sum()
    sg.check_grad(objective, a, b, order=2, backend=REF)
    gradient = sg.grad(objective, (0, 1), backend=REF)(a, b)
    assert not np.any(gradient[0][np.triu_indices(4, 1) if lower else np.tril_indices(4, -1)])
    autograd = pytest.importorskip("autograd")
    import autograd.numpy as anp
    import autograd.scipy.linalg
    theirs = autograd.grad(lambda a, b: objective(a, b, autograd.scipy.linalg, anp.sin),
                           (0, 1))(a, b)
    for ours, expected in zip(gradient, theirs):
        np.testing.assert_allclose(ours, expected, atol=1e-12)


@pytest.mark.parametrize("lower", [True, False])
def test_cholesky_solve_of_a_traced_matrix(lower):
    rng = np.random.RandomState(2)
    root, b = rng.randn(4, 4) + 3 * np.eye(4), rng.randn(4, 2)
    spd = root @ root.T

    def objective(m):
        return (scipy.linalg.cho_solve(scipy.linalg.cho_factor(m, lower=lower), b) ** 2).sum()
    np.testing.assert_allclose(sg.jit(objective, backend=REF)(spd), objective(spd))
    np.testing.assert_allclose(sg.jit(lambda m: scipy.linalg.cholesky(m, lower=lower),
                                      backend=REF)(spd), scipy.linalg.cholesky(spd, lower=lower))
    # the gradient of a function of a symmetric matrix, symmetrized (np.linalg.cholesky's)
    inverse = np.linalg.inv(spd)
    plain = -2 * inverse @ (inverse @ b) @ b.T @ inverse
    np.testing.assert_allclose(sg.grad(objective, backend=REF)(spd), (plain + plain.T) / 2,
                               atol=1e-12)
    sg.check_grad(lambda m: objective((m + m.T) / 2), spd, order=2, backend=REF)
