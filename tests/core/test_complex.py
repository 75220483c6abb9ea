"""Complex numbers and np.fft: the op table of complex-valued cases. Each case's gradient is
checked against central differences along the real and imaginary directions (first and
second order) with autograd's and JAX's convention (``df/dx - i df/dy`` for a real ``f`` of
``z = x + iy``), against JAX's ``grad`` where installed, and compiled against the reference.
"""
import numpy as np
import pytest

import symgrad as sg

REF = "reference"
RNG = np.random.default_rng(0)
Z = RNG.uniform(0.5, 1.5, (3, 4)) + 1j * RNG.uniform(-1, 1, (3, 4))
X = RNG.uniform(-1, 1, (4, 6))
W = RNG.uniform(0.5, 1.5, (4, 6))

CASES = {   # name: (numpy function, argument); complex or real in, anything out
    "real_imag_conj": (lambda z: (np.real(z) * z.imag, np.conj(z) * 1j, z.conj().real), Z),
    "abs_angle": (lambda z: (np.abs(z), np.angle(z), np.angle(z, deg=True)), Z),
    "holomorphic": (lambda z: (np.exp(z), np.log(z), np.sin(z), np.cos(z), np.sqrt(z),
                               np.tanh(z), 1 / z, z ** 2.5, z * z), Z),
    "real_to_complex": (lambda x: np.real(np.exp(1j * x) * (2 - 1j)) + np.abs(x + 1j), X),
    "complex_matmul": (lambda z: z @ z.T.conj(), Z),
    "fft": (lambda z: (np.fft.fft(z), np.fft.ifft(z, 5, axis=0, norm="ortho"),
                       np.fft.fftn(z, s=(2, 6), axes=(0, 1)), np.fft.ifft2(z, norm="forward")), Z),
    "rfft": (lambda x: (np.fft.rfft(x), np.fft.rfft(x, 5, axis=0), np.fft.rfft2(x),
                        np.fft.rfftn(x, s=(3, 5), axes=(0, 1), norm="ortho")), X),
    "irfft": (lambda z: (np.fft.irfft(z), np.fft.irfft(z, 5, axis=0), np.fft.irfft2(z),
                         np.fft.irfftn(z, s=(2, 7), axes=(0, 1), norm="forward")), Z),
    "fftshift": (lambda z: np.fft.fftshift(z) + np.fft.ifftshift(z, axes=1), Z),
}
DIRECTION = {}


def projected(fn, xp=np):
    """A real scalar of the case's outputs: each dotted with fixed complex weights."""
    def scalar(arg):
        outs = fn(arg)
        outs = outs if isinstance(outs, tuple) else (outs,)
        total = 0.0
        for out in outs:
            weights = np.cos(np.arange(out.size)).reshape(out.shape) * (1 + 0.5j)
            total = total + xp.sum(xp.real(out * weights) + 0.3 * xp.imag(out) ** 2)
        return total
    return scalar


def numeric_gradient(f, arg, eps=1e-6):
    """``df/dx - i df/dy`` by central differences (``df/dx`` for a real argument)."""
    steps = [1.0] + ([1j] if np.iscomplexobj(arg) else [])
    grad = np.zeros(arg.shape, arg.dtype)
    for index in np.ndindex(arg.shape):
        for step in steps:
            plus, minus = arg.copy(), arg.copy()
            plus[index] += eps * step
            minus[index] -= eps * step
            grad[index] += np.conj(step) * (f(plus) - f(minus)) / (2 * eps)
    return grad


@pytest.mark.parametrize("name", CASES)
def test_gradient_matches_numeric_first_and_second_order(name):
    fn, arg = CASES[name]
    scalar = projected(fn)
    gradient = sg.grad(scalar, backend=REF)
    np.testing.assert_allclose(gradient(arg), numeric_gradient(scalar, arg), rtol=1e-6,
                               atol=1e-6)
    direction = np.cos(np.arange(arg.size)).reshape(arg.shape)
    along = lambda a: np.real(np.sum(gradient(a) * direction))       # noqa: E731
    np.testing.assert_allclose(sg.grad(along, backend=REF)(arg), numeric_gradient(along, arg),
                               rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", CASES)
def test_values_and_gradients_match_jax(name):
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    fn, arg = CASES[name]
    np.testing.assert_allclose(sg.jit(fn, backend=REF)(arg)[0] if isinstance(fn(arg), tuple)
                               else sg.jit(fn, backend=REF)(arg),
                               fn(arg)[0] if isinstance(fn(arg), tuple) else fn(arg),
                               rtol=1e-12, atol=1e-12)
    jax_fn = {"fftshift": lambda z: jnp.fft.fftshift(z) + jnp.fft.ifftshift(z, axes=1)}.get(
        name, None)
    expected = jax.grad(projected(jax_fn or _on(jnp, fn), jnp))(jnp.asarray(arg))
    np.testing.assert_allclose(sg.grad(projected(fn), backend=REF)(arg), np.asarray(expected),
                               rtol=1e-9, atol=1e-9)


def _on(xp, fn):
    """``fn`` with ``np`` meaning ``xp`` (its globals' ``np`` swapped)."""
    import types
    return types.FunctionType(fn.__code__, {**fn.__globals__, "np": xp}, fn.__name__)


def test_gradient_convention_matches_autograd():
    autograd = pytest.importorskip("autograd")
    import autograd.numpy as anp
    z = np.complex128(0.7 - 1.3j)
    for f in (lambda xp: lambda z: xp.abs(z) ** 2,
              lambda xp: lambda z: xp.real(z * xp.exp(1j * z)),
              lambda xp: lambda z: xp.angle(z) + xp.imag(z ** 3)):
        np.testing.assert_allclose(sg.grad(f(np), backend=REF)(z), autograd.grad(f(anp))(z))


@pytest.mark.numba
@pytest.mark.parametrize("name", ["holomorphic", "irfft"])
def test_compiled_matches_reference(name):
    fn, arg = CASES[name]
    both = lambda a: (fn(a), sg.grad(projected(fn))(a))        # noqa: E731
    expected = sg.jit(both, backend=REF)(arg)
    found = sg.jit(both)(arg)
    for a, b in zip(sg.tree_util.tree_leaves(found), sg.tree_util.tree_leaves(expected)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10)


@pytest.mark.numba
def test_compiled_fft_of_every_length_and_complex64():
    """The kernel's radix-2 and Bluestein paths against numpy, complex64 kept."""
    for n in (1, 2, 3, 5, 8, 12):
        z = (RNG.normal(size=(2, n)) + 1j * RNG.normal(size=(2, n))).astype(np.complex64)
        found = sg.jit(lambda z: np.fft.fft(z) + np.fft.ifft(z, norm="ortho"))(z)
        assert found.dtype == np.complex64
        np.testing.assert_allclose(found, np.fft.fft(z) + np.fft.ifft(z, norm="ortho"),
                                   rtol=1e-4, atol=1e-4)


def test_complex_dtype_rules_follow_numpy():
    x32 = np.ones(3, np.float32)
    f = sg.jit(lambda x: (1j * x, np.fft.rfft(x), np.abs(x * (1 + 1j)),
                          np.real(x.astype(np.complex128)), np.iscomplexobj(x * 1j)),
               backend=REF)
    for found, expected in zip(f(x32)[:4], (1j * x32, np.fft.rfft(x32),
                                            np.abs(x32 * (1 + 1j)), x32.astype(np.float64))):
        assert found.dtype == expected.dtype
    assert bool(f(x32)[4]) is True


def test_training_refuses_complex_data():
    with pytest.raises(sg.TracingError, match="complex128"):
        sg.train(lambda p, x: np.sum(p * np.real(x)), np.ones(2), data=(np.ones((4, 2)) * 1j,),
                 steps=1, batch_size=2)
