"""The CPU wing's vectorizable exp and tanh (compiler/cpu/runtime/simd_math.py) against numpy
on the values where an approximation goes wrong first: zeros, the branch point of tanh,
overflow and underflow of exp, subnormal results, infinities and NaN; and the free-core
count that sizes compiled code's thread pools (compiler/cpu/free_cores.py)."""
import numpy as np
import pytest

import symgrad as sg
from symgrad.compiler.cpu import free_cores

EDGES = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-300, -1e-10, 0.3, 0.624, 0.625, -0.626,
                  1.0, -3.0, 21.9, 22.0, 23.0, -40.0, 354.0, 709.78, 709.79, 800.0, -708.5,
                  -740.0, -745.1, -745.2, -1000.0])


def exp_and_tanh(x):
    return np.exp(x), np.tanh(x)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_exp_and_tanh_match_numpy_at_edges_and_on_random_values(dtype):
    values = np.concatenate([EDGES, np.random.default_rng(0).standard_normal(1100) * 5])
    x = values.astype(dtype)
    compiled = sg.jit(exp_and_tanh)
    source = compiled.compiled(x).source
    assert "simd_exp(" in source and "simd_tanh(" in source
    with np.errstate(all="ignore"):
        for got, want in zip(compiled(x), exp_and_tanh(x)):
            assert got.dtype == want.dtype
            np.testing.assert_allclose(got, want, rtol=1e-15 if dtype == np.float64 else 4e-7,
                                       atol=0)


class FakeClock:
    def __init__(self):
        self.wall = self.own = 0.0

    def monotonic(self):
        return self.wall

    def process_time(self):
        return self.own


def test_free_cores_leave_out_the_cores_other_processes_keep_busy(monkeypatch):
    clock, machine = FakeClock(), [0.0]
    monkeypatch.setattr(free_cores, "time", clock)
    monkeypatch.setattr(free_cores, "machine_busy_seconds", lambda: machine[0])
    meter = free_cores.FreeCores()
    meter.allowed = meter.free = 2
    assert meter.count() == 2
    clock.wall, clock.own, machine[0] = 1.0, 1.8, 1.9     # only this process was busy
    assert meter.count() == 2
    clock.wall, clock.own, machine[0] = 1.1, 1.9, 2.1     # not measured again yet: cached
    assert meter.count() == 2
    clock.wall, clock.own, machine[0] = 2.0, 2.8, 3.9     # another process kept a core busy
    assert meter.count() == 1
    clock.wall, machine[0] = 10.0, 4.0                    # idle again
    assert meter.count() == 2
