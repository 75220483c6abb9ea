"""Differences, ranges and lists of traced values (symgrad/core/ops/differences.py and
array_likes.py): np.diff, np.gradient, np.linspace with traced endpoints, np.fmax/fmin,
np.angle of real arrays, np.append, np.r_/np.c_, and numpy functions given Python lists of
tracers (np.mean([x, y]), np.linalg.norm([x, y])), with the op table's checks
(tests/core/test_ops.py): gradients against central differences to second order, the
reference interpreter against numpy (values, dtypes), compiled against the reference."""
import numpy as np
import pytest

import symgrad as sg

from conftest import assert_same
from test_ops import REF, Case, check_against_numpy, check_compiled, check_gradient, uniform

X = uniform((4, 5), -1.0, 1.0, seed=60)
V = uniform((6,), -1.0, 1.0, seed=61)
S = np.array(0.7)

CASES = [
    Case("diff", lambda x, v: (np.diff(x), np.diff(x, n=2, axis=0), np.diff(v, prepend=0.5),
                               np.diff(x, append=x[:, :1]), np.diff(v, n=0)), (X, V),
         float32=True),
    Case("gradient", lambda x, v: (np.gradient(v), np.gradient(x)[1], np.gradient(x, 0.5, axis=1),
                                   np.gradient(x, 2.0, edge_order=2)[0]), (X, V), float32=True),
    Case("linspace", lambda s, v: (np.linspace(s, 2 * s + 1, 5), np.linspace(v[:2], v[2:4], 4),
                                   np.linspace(s, 3.0, 4, endpoint=False),
                                   np.linspace(v[:3], 1.0, 3, axis=1), np.linspace(s, 1.0, 1)),
         (S, V)),
    Case("fmax_fmin_angle", lambda x, v: (np.fmax(x, v[:5]), np.fmin(x, 0.25), np.angle(x) * x,
                                          np.real_if_close(x) + np.isreal(x)), (X, V + 0.02),
         float32=True),
    Case("append_and_index_concatenators", lambda x, v: (
        np.append(x, v[:5]), np.append(x, x[:1], axis=0), np.r_[v, 2 * v[:2], 1:3],
        np.c_[x, x[:, 0]], np.r_[v[0], 1.0]), (X, V), float32=True),
    Case("lists_of_tracers", lambda s, v: (
        np.mean([s, 2 * s, 1.0]), np.std([v[0], v[1] * s]), np.var([s, v[2]], ddof=1),
        np.linalg.norm([s, v[3]]), np.sum([v, v * s], axis=0), np.append([s, 1.0], [v[0]]),
        np.array([s, v[0]])), (S, V)),
]
CASES_BY_NAME = {case.name: case for case in CASES}
CASE_IDS = list(CASES_BY_NAME)


@pytest.mark.parametrize("name", CASE_IDS)
def test_gradient_matches_numeric_first_and_second_order(name):
    check_gradient(CASES_BY_NAME[name])


@pytest.mark.parametrize("name", CASE_IDS)
def test_reference_matches_numpy(name):
    check_against_numpy(CASES_BY_NAME[name], np.float64, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", [case.name for case in CASES if case.float32])
def test_reference_matches_numpy_in_float32(name):
    check_against_numpy(CASES_BY_NAME[name], np.float32, rtol=1e-5, atol=1e-6)


@pytest.mark.numba
def test_compiled_matches_reference():
    both = Case("compiled", lambda x, v: (np.diff(x, axis=0) * np.gradient(x)[0][1:],
                                          np.r_[v, np.mean([v[0], v[1]])], np.fmax(x, 0.1),
                                          np.append(np.linspace(v[0], v[1], 5), v)), (X, V))
    check_compiled(both, np.float64)


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="order must be non-negative"):
        sg.jit(lambda x: np.diff(x, n=-1), backend=REF)(V)
    with pytest.raises(ValueError, match="Number of samples, -1, must be non-negative"):
        sg.jit(lambda x: np.linspace(x, 1.0, -1), backend=REF)(S)
    with pytest.raises(sg.TracingError, match="string directives"):
        sg.jit(lambda x: np.r_["0,2", x, x], backend=REF)(V)
    with pytest.raises(ValueError, match="too small to calculate a numerical gradient"):
        sg.jit(lambda x: np.gradient(x[:1]), backend=REF)(V)


def test_power_gradient_is_zero_at_zero_for_a_zero_exponent():
    # autograd's convention (its issue 116): 0 * x ** -1 would be nan at x = 0
    first = sg.grad(lambda x: np.power(x, 0.0), backend=REF)
    assert first(0.0) == 0.0 and sg.grad(first, backend=REF)(0.0) == 0.0
    assert_same(sg.grad(lambda x: x ** 3, backend=REF)(2.0), np.array(12.0))
