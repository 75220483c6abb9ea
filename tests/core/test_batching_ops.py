"""Batching rules (symgrad/core/ops/batch_rules.py, ``Op.batch``) on every op of the registry,
through the op tables of test_ops.py, test_linalg.py and test_special.py: ``vmap(f)`` equals
a Python loop over ``f``, for the case's function and for the gradient of its projection (so
the gradient ops are batched too), with every argument batched along axis 0, and with the
batch along the last axis of some arguments and others shared (``in_axes=None``). On the
reference backend; a few cases compiled. ``test_every_op_has_a_batching_rule`` fails when
an op of the registry declares none, ``test_every_batching_rule_is_checked`` when an op
appears in none of the functions batched here."""
import numpy as np
import pytest

import symgrad as sg
from symgrad.core import pytree
from symgrad.core.batching import rule_of

from conftest import assert_same
from test_linalg import CASES as LINALG_CASES
from test_ops import CASES, REF, SOURCE_OPS, ops_in, projected
from test_special import CASES as SPECIAL_CASES

ALL_CASES = {case.name: case for case in CASES + LINALG_CASES + SPECIAL_CASES}
BATCHED_CASES = list(ALL_CASES)
# Examples differ by a small factor: kinks and domain edges stay as far as the case keeps them.
SCALES = (1.0, 1.0 + 2e-3, 1.0 - 3e-3)


def gradient_of(case):
    """The gradient of the projection of the case's outputs, with respect to every argument."""
    args = case.arguments()
    return sg.grad(projected(case.fn, case.fn(*[a.copy() for a in args])),
                   argnums=tuple(range(len(args))), backend=REF)


def test_every_op_has_a_batching_rule():
    missing = []
    for name, op in sg.ops.OPS.items():
        if name in SOURCE_OPS:
            continue
        try:
            rule_of(op)
        except sg.TracingError:
            missing.append(name)
    assert not missing, f"ops without a batching rule (declare(..., batch=...)): {missing}"


def test_every_batching_rule_is_checked():
    covered = set()
    for case in ALL_CASES.values():
        args = case.arguments()
        covered |= ops_in(sg.trace(case.fn, *args))
        covered |= ops_in(sg.trace(lambda *a: sg.grad(projected(case.fn, case.fn(*[
            x.copy() for x in args])), argnums=tuple(range(len(args))))(*a), *args))
    missing = set(sg.ops.OPS) - SOURCE_OPS - covered
    assert not missing, f"ops whose batching rule no case checks: {sorted(missing)}"


def in_axes_of(case, layout):
    """``"front"``: every argument batched along axis 0; ``"mixed"``: even arguments batched
    along their last axis (axis -1), odd ones shared (None)."""
    if layout == "front":
        return (0,) * len(case.args)
    return tuple(-1 if i % 2 == 0 else None for i in range(len(case.args)))


def examples(case, in_axes):
    """The examples' arguments (shared ones as they are) and the batched arguments."""
    args = case.arguments()
    per_example = [[a if axis is None else a * scale for a, axis in zip(args, in_axes)]
                   for scale in SCALES]
    batched = [a if axis is None else np.stack([example[i] for example in per_example], axis)
               for i, (a, axis) in enumerate(zip(args, in_axes))]
    return per_example, batched


def stacked(results):
    """A loop's results (one pytree per example) stacked along axis 0, leaf by leaf."""
    trees = [pytree.flatten(result) for result in results]
    leaves = [np.stack([np.asarray(t[0][i]) for t in trees]) for i in range(len(trees[0][0]))]
    return pytree.unflatten(trees[0][1], leaves)


def fresh(args):
    return [np.array(a, copy=True) for a in args]


@pytest.mark.parametrize("layout", ["front", "mixed"])
@pytest.mark.parametrize("name", BATCHED_CASES)
def test_vmap_equals_a_loop(name, layout):
    case = ALL_CASES[name]
    in_axes = in_axes_of(case, layout)
    per_example, batched = examples(case, in_axes)
    expected = stacked([case.fn(*fresh(example)) for example in per_example])
    assert_same(sg.vmap(case.fn, in_axes, backend=REF)(*fresh(batched)), expected,
                rtol=1e-9, atol=1e-12)
    gradient = gradient_of(case)
    expected = stacked([gradient(*fresh(example)) for example in per_example])
    assert_same(sg.vmap(gradient, in_axes, backend=REF)(*fresh(batched)), expected,
                rtol=1e-9, atol=1e-12)


COMPILED = ["add", "matmul_batched", "gather_scatter", "setitem"]


@pytest.mark.numba
@pytest.mark.parametrize("name", COMPILED)
def test_compiled_vmap_of_the_gradient_equals_the_reference(name):
    case = ALL_CASES[name]
    _, batched = examples(case, in_axes_of(case, "mixed"))
    gradient = gradient_of(case)

    def both(*args):
        return case.fn(*args), gradient(*args)
    mapped = sg.vmap(both, in_axes_of(case, "mixed"))
    expected = sg.vmap(both, in_axes_of(case, "mixed"), backend=REF)(*fresh(batched))
    assert_same(mapped(*fresh(batched)), expected, rtol=1e-9, atol=1e-12)
