"""autograd.test_util's checks, on symgrad: ``check_grads(f, argnum, modes, order)(*args)``
compares the VJP (and JVP) of ``f`` with central differences along a random direction, then
does the same for the VJP/JVP function itself, ``order - 1`` times more."""
import itertools
import os

import numpy as np

import autograd
from autograd.wrap_util import unary_of
from symgrad.tree_util import tree_flatten, tree_map

TOL = 1e-6
RTOL = 1e-6
EPS = 1e-6


def scalar_close(a, b):
    return abs(a - b) < TOL or abs(a - b) / abs(a + b) < RTOL


def _leaves(tree):
    return tree_flatten(tree)[0]


def _randn_like(tree):
    def draw(leaf):
        leaf = np.asarray(leaf)
        if np.iscomplexobj(leaf):
            return np.random.randn(*leaf.shape) + 1j * np.random.randn(*leaf.shape)
        return np.random.randn(*leaf.shape)
    return tree_map(draw, tree)


def _inner(a, b):
    return sum(np.real(np.sum(np.asarray(x) * np.conj(np.asarray(y))))
               for x, y in zip(_leaves(a), _leaves(b)))


def _axpy(alpha, x, y):
    return tree_map(lambda u, v: np.asarray(v) + alpha * np.asarray(u), x, y)


def _shapes(tree):
    return [np.shape(leaf) for leaf in _leaves(tree)]


def _numerical_jvp(f, x):
    def jvp(v):
        plus, minus = f(_axpy(EPS / 2, v, x)), f(_axpy(-EPS / 2, v, x))
        return tree_map(lambda p, m: (np.asarray(p) - np.asarray(m)) / EPS, plus, minus)
    return jvp


def check_vjp(f, x):
    vjp, y = autograd.make_vjp(f)(x)
    x_v, y_v = _randn_like(x), _randn_like(y)
    # autograd's covectors: the conjugate, in and out (no-ops for real values)
    vjp_y = tree_map(np.conj, vjp(tree_map(np.conj, y_v)))
    assert _shapes(vjp_y) == _shapes(x), f"VJP shapes {_shapes(vjp_y)} != {_shapes(x)}"
    exact, numeric = _inner(x_v, vjp_y), _inner(y_v, _numerical_jvp(f, x)(x_v))
    assert scalar_close(numeric, exact), (
        f"Derivative (VJP) check of {getattr(f, '__name__', f)} failed with arg {x}:\n"
        f"analytic: {exact}\nnumeric:  {numeric}")


def check_jvp(f, x):
    x_v = _randn_like(x)
    check_equivalent(autograd.make_jvp(f)(x)(x_v)[1], _numerical_jvp(f, x)(x_v))


def check_equivalent(x, y):
    assert _shapes(x) == _shapes(y), f"shape mismatch:\nx: {x}\ny: {y}"
    v = _randn_like(x)
    assert scalar_close(_inner(x, v), _inner(y, v)), f"Value mismatch:\nx: {x}\ny: {y}"


def _skip_complex(x):
    # SYMGRAD_SHIM_REAL_ONLY=1 measures how much of a suite fails only for complex inputs
    if os.environ.get("SYMGRAD_SHIM_REAL_ONLY") == "1" and any(
            np.iscomplexobj(leaf) for leaf in _leaves(x)):
        import pytest
        pytest.skip("complex input (SYMGRAD_SHIM_REAL_ONLY=1)")


def check_grads(fun, argnum=0, modes=("fwd", "rev"), order=2):
    assert all(m in ("fwd", "rev") for m in modes)

    def check(*args, **kwargs):
        f, x = unary_of(fun, argnum, args, kwargs)
        _skip_complex(x)
        if "fwd" in modes:
            check_jvp(f, x)
            if order > 1:
                jvp_f = lambda x, v: autograd.make_jvp(f)(x)(v)[1]
                check_grads(jvp_f, (0, 1), modes, order=order - 1)(x, _randn_like(x))
        if "rev" in modes:
            check_vjp(f, x)
            if order > 1:
                vjp_f = lambda x, v: autograd.make_vjp(f)(x)[0](v)
                check_grads(vjp_f, (0, 1), modes, order=order - 1)(x, _randn_like(f(x)))
    return check


def combo_check(fun, *args, **kwargs):
    """Every combination of the given arguments and keyword values through check_grads."""
    def _combo_check(*arg_lists, **kwarg_lists):
        key_values = [[(k, v) for v in vs] for k, vs in kwarg_lists.items()]
        for chosen_args in itertools.product(*arg_lists):
            for chosen_kwargs in itertools.product(*key_values):
                check_grads(fun, *args, **kwargs)(*chosen_args, **dict(chosen_kwargs))
    return _combo_check
