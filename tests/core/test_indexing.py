"""Advanced indexing, sorting and building arrays from traced values (symgrad/core/ops/
indexing.py, sorting.py, construction.py, reordering.py; compiler/cpu/gather.py), in the
pattern of the op table of test_ops.py: numeric gradients (first and second order, float64),
the reference interpreter against plain numpy (values and dtypes), compiled against the
reference; then the semantics numpy users rely on (repeated indices, copies, traced index
arrays) and the errors for what cannot be traced.
"""
import numpy as np
import pytest

import symgrad as sg
from conftest import assert_same
from test_ops import (REF, Case, check_compiled_against_reference, check_numeric_gradients,
                      check_reference_against_numpy, uniform)

X = uniform((3, 4))
X3 = uniform((2, 3, 4), seed=2)
V = uniform((4,), seed=1)
# distinct values far apart, so that no numeric step changes an ordering
DISTINCT = np.random.default_rng(5).permutation(12).reshape(3, 4) / 4 + 0.5
MASK = np.array([[True, False, True, False], [False, False, True, True], [True] * 4])


def set_with_repeats(x, v):
    x[[0, 2, 0]] = v[None, :] * np.array([[1.0], [2.0], [3.0]])   # row 0: the last (3 v) wins
    x[:, [1, 1]] += v[:2]            # numpy does not accumulate repeats: one += per element
    return x * x


def add_at_repeats(x, v):
    total = x * 1.0
    np.add.at(total, ([0, 2, 0], [1, 1, 1]), v[:3])   # repeats accumulate
    np.add.at(total, [1, 1], v)
    return total ** 2


def built(x, v):
    return (np.array([x[0, 0], 2.0, x[1, 2] * v[0]]), np.array([[v[0], v[1]], [1, v[3]]]),
            np.asarray([v, v * 2]), np.array(x, dtype=np.float64), np.full((2, 3), x[0, 1]),
            np.full_like(x, 0.5) * x, np.zeros_like(x) + np.ones_like(x) * x)


CASES = [
    Case("fancy_rows_columns", lambda x: (x[[0, 2]], x[[2, 0, 0], 1:], x[:, [3, 0, 3]],
                                          x[np.array([[1], [2]])]), (X,), float32=True),
    Case("fancy_pairs", lambda x: (x[[0, 1, 2], [3, 2, 3]], x[np.arange(3)[:, None], [0, 1]],
                                   x[1, [0, -1]], x[[-1, 0], None, 2]), (X,)),
    Case("fancy_mixed", lambda x: (x[:, [0, 2], 1:], x[[1, 0], :, [2, 3]], x[..., [1, 0]],
                                   x[None, [0, 1], ..., None]), (X3,)),
    Case("boolean_mask", lambda x: (x[MASK], x[:, MASK[0]], x[MASK[:, 0]] * 2), (X,)),
    Case("setitem_arrays", set_with_repeats, (X, V)),
    Case("add_at", add_at_repeats, (X, V)),
    Case("take", lambda x: (np.take(x, [3, 0, -1]), np.take(x, [[1, 1], [0, 2]], axis=1),
                            x.take([2, 0], axis=0)), (X,)),
    Case("sort", lambda x: (np.sort(x), np.sort(x, axis=0), np.sort(x, axis=None),
                            np.take_along_axis(x, np.argsort(-x, axis=1), axis=1),
                            np.partition(x, 2, axis=1)[:, 2],       # numpy fixes only the kth
                            np.take_along_axis(x, np.argpartition(x, 1, axis=0)[1:2], axis=0)),
         (DISTINCT,), float32=True),
    Case("argmax_select", lambda x: (x[np.arange(3), x.argmax(1)] * x.argmin(axis=1),
                                     x.ravel()[np.argmax(x)], np.argmin(x, 0, keepdims=True) * x),
         (DISTINCT,)),
    Case("build_arrays", built, (X, V)),
    Case("stacks", lambda x, v: (np.hstack([x, x[:, :1]]), np.hstack([v, v[:2]]),
                                 np.vstack([v, x]), np.vstack([v[:, None], v[:2, None]]),
                                 np.dstack([x, x]), np.column_stack([v, x.T]),
                                 np.stack([v, v * 2], axis=1), np.concatenate([x, x], axis=None)),
         (X, V)),
    Case("splits", lambda x: (*np.split(x, 2, axis=1), *np.array_split(x, 2), *np.hsplit(x, [1, 3]),
                              *np.vsplit(x, [2]), *np.dsplit(x[None], 4)), (X,)),
    Case("repeat_tile", lambda x: (np.repeat(x, 2), np.repeat(x, [2, 0, 1], axis=0),
                                   x.repeat(3, axis=1), np.tile(x, 2), np.tile(x[0], (2, 1, 2))),
         (X,), float32=True),
    Case("pad", lambda x: (np.pad(x, 1), np.pad(x, ((1, 0), (2, 1)), constant_values=0.5),
                           np.pad(x, 2, mode="reflect"), np.pad(x, (1, 2), mode="edge"),
                           np.pad(x, 1, mode="wrap"), np.pad(x, ((0, 0), (3, 1)), "symmetric")),
         (X,)),
    Case("flips_rolls", lambda x: (np.flip(x), np.flip(x, 1), np.fliplr(x), np.flipud(x),
                                   np.rot90(x), np.rot90(x, 2), np.rot90(x, -1, axes=(1, 0)),
                                   np.roll(x, 1), np.roll(x, -1, axis=1),
                                   np.roll(x, (1, 2), axis=(0, 1))), (X,), float32=True),
    Case("axes", lambda x: (np.moveaxis(x, 0, -1), np.moveaxis(x, [0, 1], [2, 0]),
                            np.rollaxis(x, 2), np.rollaxis(x, 0, 2), np.swapaxes(x, 0, 2),
                            x.flatten(), np.ravel(x), np.atleast_1d(x[0, 0]),
                            np.atleast_2d(x[0, 0, :2]), np.atleast_3d(x[0]),
                            np.squeeze(x[:1], 0), np.expand_dims(x, (0, 2)),
                            np.broadcast_to(x[:, :1], (2, 3, 4))), (X3,)),
]
CASES_BY_NAME = {case.name: case for case in CASES}
CASE_IDS = list(CASES_BY_NAME)
# compiled comparisons cost a numba compile each: a representative sample
COMPILED = ["fancy_mixed", "boolean_mask", "setitem_arrays", "add_at", "take", "sort",
            "argmax_select", "build_arrays", "repeat_tile", "pad"]


@pytest.mark.parametrize("name", CASE_IDS)
def test_numeric_gradients_and_reference_against_numpy(name):
    """test_ops.py's checks: gradients of order 1 and 2, values and dtypes in f64 and f32."""
    case = CASES_BY_NAME[name]
    check_numeric_gradients(case)
    for dtype in (np.float64, np.float32):
        check_reference_against_numpy(case, dtype)


@pytest.mark.numba
@pytest.mark.parametrize("name", COMPILED)
def test_compiled_matches_reference(name):
    check_compiled_against_reference(CASES_BY_NAME[name])


# -- repeated indices ------------------------------------------------------------------------
def test_assignment_with_repeated_indices_keeps_the_last_value_and_its_gradient():
    def f(x, v):
        x[[1, 1, 0]] = v
        return x
    x, v = np.zeros(3), np.array([1.0, 2.0, 3.0])
    assert_same(sg.jit(f, backend=REF)(x.copy(), v), np.array([3.0, 2.0, 0.0]))
    dx, dv = sg.grad(lambda x, v: np.sum(f(x, v) * np.array([1.0, 10.0, 100.0])),
                     argnums=(0, 1), backend=REF)(x.copy(), v)
    assert_same(dx, np.array([0.0, 0.0, 100.0]))      # overwritten elements get none
    assert_same(dv, np.array([0.0, 10.0, 1.0]))       # the first write to x[1] lost


def test_augmented_assignment_does_not_accumulate_repeats_but_add_at_does():
    def plus_equals(x):
        x[[0, 0]] += 1.0
        return x

    def add_at(x):
        np.add.at(x, [0, 0], 1.0)
        return x
    x = np.zeros(2)
    assert_same(sg.jit(plus_equals, backend=REF)(x.copy()), plus_equals(x.copy()))  # [1, 0]
    assert_same(sg.jit(add_at, backend=REF)(x.copy()), add_at(x.copy()))            # [2, 0]
    assert_same(sg.jit(add_at)(x.copy()), np.array([2.0, 0.0]))


def test_gather_with_repeats_sums_its_gradient():
    x = np.array([1.0, 2.0, 3.0])
    assert_same(sg.grad(lambda x: np.sum(x[[0, 0, 2, 0]]), backend=REF)(x),
                np.array([3.0, 0.0, 1.0]))


# -- traced index arrays: labels fed as data ---------------------------------------------------
def cross_entropy(logits, labels):
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return -np.mean(log_probs[np.arange(len(labels)), labels])


@pytest.mark.parametrize("backend", ["reference", "numba"])
def test_a_traced_integer_index_array_gathers_and_differentiates(backend):
    logits, labels = uniform((4, 3), -1, 1, seed=3), np.array([2, 0, 1, 2])
    options = {} if backend == "numba" else {"backend": backend}
    loss, dlogits = sg.value_and_grad(cross_entropy, **options)(logits, labels)
    assert_same(loss, cross_entropy(logits, labels))
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    assert_same(dlogits, (probs - np.eye(3)[labels]) / 4)
    embedding = sg.grad(lambda table, ids: np.sum(table[ids] ** 2), **options)
    assert_same(embedding(np.ones((3, 2)), np.array([0, 2, 0])),
                np.array([[4.0, 4.0], [0.0, 0.0], [2.0, 2.0]]))


def test_add_at_with_traced_indices_accumulates():
    def scatter(table, ids, rows):
        np.add.at(table, ids, rows)
        return table
    out = sg.jit(scatter)(np.zeros((3, 2)), np.array([2, 0, 2]), np.ones((3, 2)))
    assert_same(out, np.array([[1.0, 1.0], [0.0, 0.0], [2.0, 2.0]]))


@pytest.mark.parametrize("backend", ["reference", "numba"])
def test_a_traced_index_out_of_range_raises_index_error(backend):
    options = {} if backend == "numba" else {"backend": backend}
    gather = sg.jit(lambda x, i: x[np.arange(2), i], **options)
    assert_same(gather(np.eye(2), np.array([1, -1])), np.array([0.0, 1.0]))
    with pytest.raises(IndexError, match="out of bounds"):
        gather(np.eye(2), np.array([0, 2]))       # would be a valid flat index: still refused


def test_take_along_axis_with_traced_indices_compiles():
    x, order = DISTINCT, np.argsort(DISTINCT, axis=0)
    f = sg.jit(lambda x, i: np.take_along_axis(x, i, axis=0))
    assert_same(f(x, order), np.sort(x, axis=0))


# -- copies and views --------------------------------------------------------------------------
def test_advanced_indexing_makes_a_copy_basic_a_view():
    def f(x):
        picked = x[[0, 1]]
        picked[0] = 100.0          # a copy: x is unchanged
        row = x[0]
        row[0] = -1.0              # a view: x changes
        return x, picked
    x = np.arange(4.0).reshape(2, 2)
    assert_same(sg.jit(f, backend=REF)(x.copy()), f(x.copy()))


def test_in_place_sort_method_writes_into_the_array():
    def f(x):
        x[0].sort()
        return x
    assert_same(sg.jit(f, backend=REF)(DISTINCT.copy()), f(DISTINCT.copy()))


def test_argmax_and_argsort_are_int64_without_gradient():
    out = sg.jit(lambda x: (np.argmax(x, axis=1), np.argsort(x), x.argmin()), backend=REF)(DISTINCT)
    assert [o.dtype for o in out] == [np.dtype(np.int64)] * 3
    assert_same(sg.grad(lambda x: np.sum(x * np.argmax(x, axis=1)[:, None]), backend=REF)(DISTINCT),
                np.broadcast_to(np.argmax(DISTINCT, axis=1)[:, None], (3, 4)).astype(float))


# -- what cannot be traced ---------------------------------------------------------------------
@pytest.mark.parametrize("fn", [
    lambda x: np.sum(x[x > 1.0]),
    lambda x: np.sum(np.nonzero(x > 1.0)[0]),
    lambda x: np.sum(np.where(x > 1.0)[0]),
    lambda x: np.sum(np.argwhere(x)),
], ids=["mask", "nonzero", "where_one_argument", "argwhere"])
def test_data_dependent_shapes_say_what_to_write_instead(fn):
    with pytest.raises(sg.TracingError, match=r"data-dependent shape.*np\.where\(mask, x, 0\)"):
        sg.grad(fn, backend=REF)(X)


@pytest.mark.parametrize("backend", ["reference", "numba"])
def test_a_traced_integer_scalar_reads_and_writes_a_row(backend):
    def f(x, i):
        x[i] = x[i] * 10.0 + x[i - 1]
        return x
    options = {} if backend == "numba" else {"backend": backend}
    assert_same(sg.jit(f, **options)(X.copy(), np.int64(2)), f(X.copy(), 2))
    dx = sg.grad(lambda x, i: np.sum(f(x, i) ** 2), **options)(X.copy(), np.int64(2))
    assert_same(dx, sg.grad(lambda x: np.sum(f(x, 2) ** 2), backend=REF)(X.copy()))


def test_assignment_with_a_traced_index_array_is_refused_clearly():
    def f(x, i):
        x[i] = 0.0
        return x
    with pytest.raises(sg.TracingError, match="traced index array.*np.add.at"):
        sg.jit(f, backend=REF)(X, np.array([0, 1]))


@pytest.mark.parametrize("fn, kind, text", [
    (lambda x: x[[0, 5]], IndexError, "index 5 is out of bounds for axis 0 with size 3"),
    (lambda x: x[[0.5]], IndexError, "must be of integer"),
    (lambda x: x[[0, 1], [0, 1, 2]], IndexError, "could not be broadcast"),
    (lambda x: x[MASK[:2]], IndexError, "boolean index did not match"),
    (lambda x: np.split(x, 3, axis=1), ValueError, "equal division"),
    (lambda x: np.take_along_axis(x, np.zeros(2, int), 0), ValueError, "same number of dim"),
    (lambda x: np.pad(x, 1, mode="mean"), ValueError, "mode='mean'"),
    (lambda x: np.repeat(x, [1, 2]), ValueError, "repeat"),
    (lambda x: np.sort(x, axis=2), np.exceptions.AxisError, "axis 2"),
])
def test_bad_input_raises_numpys_error_kind_at_the_users_line(fn, kind, text):
    with pytest.raises(kind, match=text) as info:
        sg.jit(fn, backend=REF)(X)
    assert isinstance(info.value, sg.TracingError) and "test_indexing.py" in str(info.value)


def test_numpy_constructors_are_numpys_own_outside_a_trace():
    from symgrad.core import numpy_namespace
    original, seen = np.array, {}

    def f(x):
        seen["array"] = np.array
        return np.array([x[0, 0], x[[0.5]]])      # fails: a float index
    with pytest.raises(sg.TracingError):
        sg.jit(f, backend=REF)(X)
    assert seen["array"] is numpy_namespace.WHILE_TRACING["array"]
    assert np.array is original is numpy_namespace.ORIGINALS["array"]


def test_cuda_says_the_indexing_ops_are_not_there_yet():
    from symgrad.compiler.cuda import lowering as numba_cuda
    graph = sg.trace(lambda x: x[[0, 2]], X)
    with pytest.raises(NotImplementedError, match="cannot compile op 'gather'.*device='cpu'"):
        numba_cuda.lower_graph(graph, plan=None)
