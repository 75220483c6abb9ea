"""Programs written against HIPS autograd's API (https://github.com/HIPS/autograd, MIT
license) run on symgrad through the thin shim in tests/autograd_shim: ``import autograd.numpy
as np`` is numpy traced by symgrad, ``check_grads`` compares symgrad's VJPs and JVPs with
central differences to second order, the optimizers take callbacks. The cases are the
numpy and scipy functions autograd's own tests reach that symgrad gained for them, on the
reference backend (their compiled forms are checked in tests/core)."""
import sys
from pathlib import Path

import numpy
import pytest

SHIM = str(Path(__file__).with_name("autograd_shim"))


@pytest.fixture(scope="module")
def ag():
    """The shim's ``autograd`` package, taken out of sys.modules again afterwards (a real
    autograd installed next to it stays importable for the benchmarks)."""
    saved = {name: module for name, module in sys.modules.items()
             if name == "autograd" or name.startswith("autograd.")}
    for name in saved:
        del sys.modules[name]
    sys.path.insert(0, SHIM)
    try:
        import autograd
        import autograd.misc.optimizers
        import autograd.scipy.linalg
        import autograd.scipy.signal
        import autograd.scipy.special
        import autograd.scipy.stats.gamma
        import autograd.test_util
        yield autograd
    finally:
        sys.path.remove(SHIM)
        for name in [n for n in sys.modules if n == "autograd" or n.startswith("autograd.")]:
            del sys.modules[name]
        sys.modules.update(saved)


def test_numpy_functions_autograd_tests_reach(ag):
    np, check_grads, rng = ag.numpy, ag.test_util.check_grads, numpy.random.RandomState(0)
    x, v = rng.randn(3, 4), rng.randn(5)
    check_grads(lambda x: np.diff(x, n=2, axis=1))(x)
    check_grads(np.gradient, 0)(x, axis=(0, 1))
    check_grads(lambda a, b: np.linspace(a, b, 5), (0, 1))(1.2, -3.4)
    check_grads(lambda x: np.r_[x, 2 * x, 1:3])(v)
    check_grads(lambda x: np.c_[x, x[:, :1]])(x)
    check_grads(np.append, (0, 1))(x, v)
    check_grads(lambda x: np.mean([x, x + 2, 3.0]))(0.3)
    check_grads(lambda x: np.linalg.norm([x, 2 * x]))(0.7)
    check_grads(lambda x: np.fmax(x, 0.1) + np.fmin(x, -0.2))(v + 0.03)
    assert ag.grad(lambda x: np.power(x, 0.0))(0.0) == 0.0


def test_complex_numbers_and_fft_autograd_tests_reach(ag):
    """autograd's test_complex.py and test_fft.py kinds of checks: complex inputs (autograd's
    conjugate covectors) and the transforms with n, s, axes and norm."""
    np, check_grads, grad = ag.numpy, ag.test_util.check_grads, ag.grad
    rng = numpy.random.RandomState(1)
    check_grads(np.angle)(0.3 + 0.8j)
    check_grads(lambda x: grad(np.abs)(x))(1.1 + 1.3j)
    assert numpy.iscomplexobj(grad(lambda x: np.sum(np.real(x)))(1.0j))
    rev = {"modes": ["rev"]}
    mat = rng.randn(4, 4)
    check_grads(lambda x: np.fft.fft(x, 6, norm="ortho"), **rev)(mat + 1j * mat.T)
    check_grads(lambda x: np.fft.rfft2(x, s=[6, 2], axes=[0, 1]), **rev)(mat)
    check_grads(lambda x: np.fft.irfft(x, 5), **rev)(numpy.fft.rfft(mat))
    check_grads(lambda x: np.fft.fftshift(x, axes=1), **rev)(mat)


def test_scipy_functions_autograd_tests_reach(ag):
    special, gamma, check_grads = (ag.scipy.special, ag.scipy.stats.gamma,
                                   ag.test_util.check_grads)
    u = numpy.array([0.1, 0.45, 0.8])
    check_grads(special.erfinv)(2 * u - 1)
    check_grads(special.erfcinv)(u + 0.5)
    check_grads(lambda x: special.gammainc(2.5, x) + special.gammaincc(0.5, x))(u * 3)
    check_grads(lambda x: gamma.cdf(x, 2.0, 0.05, 1.5))(u * 2)
    assert gamma.rvs(2.0, size=3, random_state=0).shape == (3,)   # scipy's own


def test_scipy_signal_and_linalg_as_autograd_tests_call_them(ag):
    signal, linalg, check_grads = ag.scipy.signal, ag.scipy.linalg, ag.test_util.check_grads
    rng = numpy.random.RandomState(1)
    images, kernels = rng.randn(2, 3, 5, 4), rng.randn(3, 2, 3, 2)
    for mode in ("valid", "full", "same"):
        check_grads(lambda a, b: signal.convolve(a, b, axes=([2, 3], [2, 3]),
                                                 dot_axes=([1], [0]), mode=mode))(images, kernels)
    check_grads(signal.convolve)(rng.randn(4, 5), rng.randn(2, 3))
    lower = numpy.tril(rng.randn(3, 3)) + 3 * numpy.eye(3)
    check_grads(lambda a, b: linalg.solve_triangular(a, b, lower=True, trans="T"))(
        lower, rng.randn(3, 2))
    spd = lower @ lower.T
    check_grads(lambda m: linalg.cho_solve(linalg.cho_factor((m + m.T) / 2), numpy.ones(3)))(spd)


def test_optimizers_with_callbacks_over_containers(ag):
    np, opt = ag.numpy, ag.misc.optimizers
    target = {"w": numpy.arange(3.0), "b": [numpy.array(2.0)]}

    def objective(params, step):
        return np.sum((params["w"] - target["w"]) ** 2) + (params["b"][0] - 2.0) ** 2

    seen = []
    start = {"w": numpy.zeros(3), "b": [numpy.array(0.0)]}
    for optimizer, options in ((opt.adam, {"step_size": 0.2, "num_iters": 150}),
                               (opt.sgd, {"step_size": 0.5, "num_iters": 100}),
                               (opt.rmsprop, {"step_size": 0.02, "num_iters": 200})):
        found = optimizer(ag.grad(objective), start, lambda x, i, g: seen.append(i), **options)
        assert numpy.allclose(found["w"], target["w"], atol=2e-2)
        assert numpy.allclose(found["b"][0], 2.0, atol=2e-2)
    assert seen[:2] == [0, 1] and len(seen) == 450


def test_flatten_round_trip_and_inside_a_trace(ag):
    np, flatten = ag.numpy, ag.misc.flatten
    value = {"a": numpy.ones((2, 2)), "b": (numpy.arange(3.0), [numpy.array(5.0)])}
    vector, unflatten = flatten(value)
    assert vector.shape == (8,)
    back = unflatten(vector)
    assert numpy.array_equal(back["b"][0], value["b"][0]) and back["b"][1][0] == 5.0
    gradient = ag.grad(lambda tree: np.sum(flatten(tree)[0] ** 2))(value)
    assert numpy.array_equal(gradient["a"], 2 * value["a"])


def test_random_draws_are_constants_and_traced_values_are_ndarrays(ag):
    np = ag.numpy

    def noisy(x):
        assert ag.isinstance(x, np.ndarray)
        return np.sum(x * np.random.RandomState(3).randn(3))
    expected = numpy.random.RandomState(3).randn(3)
    assert numpy.allclose(ag.grad(noisy)(numpy.ones(3)), expected)


def test_check_grads_catches_a_wrong_vjp(ag):
    np = ag.numpy

    @ag.extend.primitive
    def cube(x):
        return x ** 3
    ag.extend.defvjp(cube, lambda ans, x: lambda g: g * 2 * x ** 2)     # should be 3 x^2
    with pytest.raises(AssertionError, match="Derivative \\(VJP\\) check"):
        ag.test_util.check_grads(cube, modes=["rev"])(numpy.array([0.5, 1.5]))
