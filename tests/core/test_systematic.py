"""Every unary, binary and reduction function over a grid of shapes (broadcasting), axes and
keepdims, in the spirit of HIPS autograd's tests/test_systematic.py: values and dtypes as
numpy's, gradients against central differences (second order on one shape per function).
On the reference backend (cheap); one compiled sample at the end."""
import numpy as np
import pytest

import symgrad as sg

from conftest import assert_same

REF = "reference"


def _values(shape, seed):
    return np.random.default_rng(seed).uniform(-1, 1, shape)


def _away_from_integers(x, scale=3.0):
    """Values in (-scale, scale), at least 0.2 from every multiple of 1/2 (rounding kinks)."""
    y = np.asarray(x) * scale
    whole = np.floor(y)
    return whole + np.where(y - whole < 0.5, 0.2, 0.7) + 0.1 * (y - whole)


# name -> (function, map from values in (-1, 1) into its domain, away from kinks)
UNARY = {
    "negative": (np.negative, None), "abs": (np.abs, lambda x: x + 2.0 * np.sign(x) + 0.1),
    "square": (np.square, None), "exp": (np.exp, None), "log": (np.log, lambda x: x + 1.5),
    "log1p": (np.log1p, None), "sqrt": (np.sqrt, lambda x: x + 1.5),
    "sin": (np.sin, None), "cos": (np.cos, None), "tan": (np.tan, None),
    "tanh": (np.tanh, None), "arcsin": (np.arcsin, lambda x: 0.8 * x),
    "arccos": (np.arccos, lambda x: 0.8 * x), "arctan": (np.arctan, None),
    "sinh": (np.sinh, None), "cosh": (np.cosh, None), "arcsinh": (np.arcsinh, None),
    "arccosh": (np.arccosh, lambda x: x + 2.5), "arctanh": (np.arctanh, lambda x: 0.8 * x),
    "expm1": (np.expm1, None), "exp2": (np.exp2, None), "log2": (np.log2, lambda x: x + 1.5),
    "log10": (np.log10, lambda x: x + 1.5), "cbrt": (np.cbrt, lambda x: x + 1.5),
    "reciprocal": (np.reciprocal, lambda x: x + 1.5), "deg2rad": (np.deg2rad, None),
    "rad2deg": (np.rad2deg, None), "sinc": (np.sinc, None), "fabs": (np.fabs, lambda x: x + 1.5),
    "floor": (lambda x: np.floor(x) * x, _away_from_integers),
    "ceil": (lambda x: np.ceil(x) * x, _away_from_integers),
    "rint": (lambda x: np.rint(x) * x, _away_from_integers),
    "trunc": (lambda x: np.trunc(x) * x, _away_from_integers),
    "round": (lambda x: np.round(x) * x, _away_from_integers),
    "sign": (lambda x: np.sign(x) * x, lambda x: x + 2.0 * np.sign(x) + 0.1),
    "nan_to_num": (np.nan_to_num, None), "real": (np.real, None), "conj": (np.conj, None),
    "positive": (np.positive, None), "clip": (lambda x: np.clip(x, -0.5, 0.5), lambda x: 0.3 * x),
}
UNARY_SHAPES = [(), (4,), (2, 3)]


def _argument(name, shape, seed=0):
    transform = UNARY[name][1]
    x = _values(shape, seed)
    return x if transform is None else np.asarray(transform(x), dtype=np.float64)


@pytest.mark.parametrize("shape", UNARY_SHAPES, ids=str)
@pytest.mark.parametrize("name", list(UNARY))
def test_unary(name, shape):
    fn, x = UNARY[name][0], _argument(name, shape)
    assert_same(sg.jit(fn, backend=REF)(x), fn(x))
    sg.check_grad(fn, x, order=2 if shape == (2, 3) else 1, backend=REF)
    x32 = x.astype(np.float32)           # float32 stays float32, as in numpy
    assert np.asarray(sg.jit(fn, backend=REF)(x32)).dtype == np.asarray(fn(x32)).dtype


# name -> (function, map of the first operand, map of the second)
BINARY = {
    "add": (np.add, None, None), "subtract": (np.subtract, None, None),
    "multiply": (np.multiply, None, None), "divide": (np.divide, None, lambda y: y + 1.5),
    "power": (np.power, lambda x: x + 1.5, None),
    "float_power": (np.float_power, lambda x: x + 1.5, None),
    "maximum": (np.maximum, None, lambda y: y + 2.5), "minimum": (np.minimum, None, lambda y: y + 2.5),
    "arctan2": (np.arctan2, None, lambda y: y + 1.5), "hypot": (np.hypot, None, lambda y: y + 1.5),
    "logaddexp": (np.logaddexp, None, None), "logaddexp2": (np.logaddexp2, None, None),
    "remainder": (np.remainder, lambda x: 0.3 * x + 0.5, lambda y: 0.1 * y + 1.0),
    "fmod": (np.fmod, lambda x: 0.3 * x + 0.5, lambda y: 0.1 * y + 1.0),
    "copysign": (np.copysign, lambda x: x + 1.5, lambda y: y + 2.0 * np.sign(y) + 0.1),
}
BINARY_SHAPES = [((), (3,)), ((3,), ()), ((2, 3), (3,)), ((2, 1), (1, 3)), ((2, 3), (2, 3))]


@pytest.mark.parametrize("shapes", BINARY_SHAPES, ids=str)
@pytest.mark.parametrize("name", list(BINARY))
def test_binary_broadcasting(name, shapes):
    fn, first, second = BINARY[name]
    x, y = _values(shapes[0], 1), _values(shapes[1], 2)
    x = x if first is None else np.asarray(first(x), np.float64)
    y = y if second is None else np.asarray(second(y), np.float64)
    assert_same(sg.jit(fn, backend=REF)(x, y), fn(x, y))
    sg.check_grad(fn, x, y, order=2 if shapes == ((2, 3), (3,)) else 1, backend=REF)


REDUCTIONS = {
    "sum": np.sum, "mean": np.mean, "prod": np.prod, "max": np.max, "min": np.min,
    "var": np.var, "std": np.std, "ptp": np.ptp, "nansum": np.nansum, "nanmean": np.nanmean,
    "nanmax": np.nanmax, "nanmin": np.nanmin, "logsumexp": sg.logsumexp,
    "average": lambda x, axis, keepdims: np.average(x, axis, keepdims=keepdims),
}
REDUCTION_GRID = [((5,), None), ((5,), 0), ((2, 3), None), ((2, 3), 1), ((2, 3), -2),
                  ((2, 3, 2), (0, 2)), ((2, 3, 2), -1)]


def _distinct(shape, seed=3):
    """Values far apart: no two tie, even after a numeric step (max, min, ptp)."""
    size = int(np.prod(shape, dtype=np.int64))
    return (np.random.default_rng(seed).permutation(size).reshape(shape) + 1.0) / size


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("shape, axis", REDUCTION_GRID, ids=str)
@pytest.mark.parametrize("name", list(REDUCTIONS))
def test_reduction_over_axes(name, shape, axis, keepdims):
    reduce = REDUCTIONS[name]
    x = _distinct(shape)

    def fn(x):
        return reduce(x, axis=axis, keepdims=keepdims)

    expected = fn(x)
    assert_same(sg.jit(fn, backend=REF)(x), np.asarray(expected, dtype=np.asarray(expected).dtype))
    sg.check_grad(fn, x, order=2 if (shape, keepdims) == ((2, 3), False) else 1, backend=REF)


CUMULATIVE = {"cumsum": np.cumsum, "cumprod": np.cumprod}


@pytest.mark.parametrize("shape, axis", [((5,), None), ((5,), 0), ((2, 3), None), ((2, 3), 0),
                                         ((2, 3, 2), -1), ((2, 3, 2), 1)], ids=str)
@pytest.mark.parametrize("name", list(CUMULATIVE))
def test_cumulative_over_axes(name, shape, axis):
    fn = lambda x: CUMULATIVE[name](x, axis=axis)     # noqa: E731
    x = _values(shape, 4)
    x.flat[1] = 0.0                                    # a zero: cumprod's gradient is exact there
    assert_same(sg.jit(fn, backend=REF)(x), fn(x))
    sg.check_grad(fn, x, order=2 if shape == (2, 3) else 1, backend=REF)


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.bool_])
def test_integer_and_bool_reductions_follow_numpy_dtypes(dtype):
    x = (np.arange(6).reshape(2, 3) % 3).astype(dtype)
    for fn in (np.sum, np.cumsum, np.count_nonzero, np.all, np.any, lambda a: np.cumprod(a, 1),
               lambda a: np.mean(a, 0), lambda a: np.var(a, 1), lambda a: np.max(a, 0)):
        assert_same(sg.jit(fn, backend=REF)(x), np.asarray(fn(x)))


@pytest.mark.numba
def test_compiled_sample_matches_reference():
    """One compiled function over a sample of the grid: elementwise, broadcasting, reductions."""
    def sample(x, y):
        return (np.arcsinh(x) * np.logaddexp(x, y) + np.hypot(x, y) / np.cosh(y),
                np.var(x, axis=0, keepdims=True) + np.std(y), sg.logsumexp(x * y, axis=1),
                np.cumprod(x, axis=1), np.ptp(x, axis=0), np.floor(x * 3) + x % 0.7)

    x, y = _values((2, 3), 5), _values((3,), 6) + 1.5
    gradient = sg.grad(lambda x, y: sum(np.sum(o) for o in sample(x, y)), argnums=(0, 1))
    both = sg.jit(lambda x, y: (sample(x, y), gradient(x, y)))
    assert_same(both(x, y), sg.jit(lambda x, y: (sample(x, y), gradient(x, y)), backend=REF)(x, y))
