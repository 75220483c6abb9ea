"""Forward mode (symgrad/forward_mode.py) on every op of the registry, through the op tables
of test_ops.py, test_linalg.py and test_special.py, on the reference backend: the jvp against central
differences along a random direction, and the transpose identity <u, J v> = <J^T u, v>
between jvp and vjp. ``test_every_op_has_forward_mode_checked`` fails when an op of the
registry appears in none of the cases checked here."""
import numpy as np
import pytest

import symgrad as sg
from symgrad.core import pytree

from test_linalg import CASES as LINALG_CASES
from test_ops import CASES, REF, SOURCE_OPS, ops_in
from test_special import CASES as SPECIAL_CASES

ALL_CASES = {case.name: case for case in CASES + LINALG_CASES + SPECIAL_CASES}


def float_leaves(tree):
    return [np.asarray(leaf, np.float64) for leaf in pytree.flatten(tree)[0]
            if np.asarray(leaf).dtype.kind == "f"]


def directions(args, seed):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(np.shape(a)) for a in args]


def test_every_op_has_forward_mode_checked():
    covered = set()
    for case in ALL_CASES.values():
        covered |= ops_in(sg.trace(case.fn, *case.arguments()))
    missing = set(sg.ops.OPS) - SOURCE_OPS - covered
    assert not missing, f"ops whose forward mode no case checks: {sorted(missing)}"


def fresh_call(case, args):
    return case.fn(*[np.array(a, copy=True) for a in args])


@pytest.mark.parametrize("name", list(ALL_CASES))
def test_jvp_matches_numeric_directional_derivative(name):
    case = ALL_CASES[name]
    args, eps = case.arguments(), case.check.get("eps", 1e-6)
    tangents = directions(args, 1)
    out, pushed = sg.jvp(case.fn, tuple(np.array(a, copy=True) for a in args), tuple(tangents),
                         backend=REF)
    plus = fresh_call(case, [a + eps * t for a, t in zip(args, tangents)])
    minus = fresh_call(case, [a - eps * t for a, t in zip(args, tangents)])
    numeric = [(p - m) / (2 * eps) for p, m in zip(float_leaves(plus), float_leaves(minus))]
    # the output leaves of float dtype line up with their tangents
    outputs = pytree.flatten(out)[0]
    analytic = [t for o, t in zip(outputs, pytree.flatten(pushed)[0]) if np.asarray(o).dtype.kind == "f"]
    tolerance = case.check.get("tolerance", 1e-5)
    for got, expected in zip(analytic, numeric, strict=True):
        error = np.abs(got - expected) / np.maximum(1.0, np.abs(expected))
        assert error.size == 0 or error.max() < tolerance, (name, error.max())


@pytest.mark.parametrize("name", list(ALL_CASES))
def test_jvp_and_vjp_are_transposes(name):
    case = ALL_CASES[name]
    args = case.arguments()
    tangents = directions(args, 2)
    out, pushed = sg.jvp(case.fn, tuple(np.array(a, copy=True) for a in args), tuple(tangents),
                         backend=REF)
    rng = np.random.default_rng(3)
    out_leaves, out_tree = pytree.flatten(out)
    cotangents = [rng.standard_normal(np.shape(o)) if np.asarray(o).dtype.kind == "f" else
                  np.zeros(np.shape(o)) for o in out_leaves]
    _, pullback = sg.vjp(case.fn, *[np.array(a, copy=True) for a in args], backend=REF)
    pulled = pullback(pytree.unflatten(out_tree, cotangents))
    left = sum(np.sum(u * t) for u, t in zip(cotangents, pytree.flatten(pushed)[0]))
    right = sum(np.sum(g * v) for g, v in zip(pulled, tangents))
    tolerance = case.check.get("tolerance", 1e-9)    # the float32 round trip of astype: looser
    assert np.isclose(left, right, rtol=tolerance, atol=tolerance), (name, left, right)
