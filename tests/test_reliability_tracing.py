"""Issue 15, the tracing slice: writes through views, vjp cotangent structures, unsupported
dtypes at the boundary, leaked tracers, and the unclear errors of the transformations
(symgrad/core/views.py, symgrad/core/tracing.py, symgrad/core/trace_function.py, symgrad/api.py with staging.py, arguments.py,
pullback.py and output_sizes.py, symgrad/core/pytree.py, symgrad/check.py, symgrad/export.py).

Each reproducer of the issue is a test, with its siblings; results are compared with numpy
running the same function, errors by their class and what the message names (values, the
user's file:line).
"""
import importlib.util
import math
import operator
import os

import numpy as np
import pytest

import symgrad as sg
import symgrad.core.pytree as pytree
from symgrad import nn, optim

from conftest import assert_same

REF = "reference"
THIS_FILE = os.path.basename(__file__)


def at(fn, offset):
    """``file:line`` of the line ``offset`` lines below ``def fn``."""
    return f"{THIS_FILE}:{fn.__code__.co_firstlineno + offset}"


def fresh(args):
    return [np.array(a, copy=True) if isinstance(a, np.ndarray) else a for a in args]


def assert_jit_matches_numpy(fn, *args, backend=REF):
    expected = fn(*fresh(args))
    assert_same(sg.jit(fn, backend=backend)(*fresh(args)), expected)


def error_of(kind, call, *args, **kwargs):
    with pytest.raises(kind) as info:
        call(*args, **kwargs)
    return str(info.value)


SQUARE = np.arange(1.0, 5.0).reshape(2, 2)
CUBE = np.arange(24.0).reshape(2, 3, 4)


# -- item 1: writes through a view reach its base --------------------------------------------
def row_view_in_place_add(a):
    b = a[1]
    b += 1
    return np.sum(a)


def slice_then_index_assign(a):
    a[0:1][0] = 5
    return a


def transpose_view_assign(a):
    a.T[0, 1] = 5
    return a


def reshape_view_assign(a):
    a.reshape(-1)[0] = 5
    return a


def symgrad_reshape_view_assign(a):
    sg.reshape(a, (-1,))[0] = 5                 # sg.reshape takes the path of a.reshape
    sg.reshape(a[:, :1], -1)[1] = 8             # a view of a column: writes a[1, 0]
    return a


def chained_index_assign(a):
    a[1][0] = 5
    a[0][0:2][1] = 7
    return a


def view_sees_a_later_write_to_its_base(a):
    row = a[0]
    a[0, 1] = 50
    return row * 1


def sibling_views_see_each_others_writes(a):
    column, row = a[:, 0], a[0]
    row += 10
    return column * 1, a


def rows_of_a_loop_are_views(a):
    for row in a:
        row *= 2
    return a


def numpy_function_views(a):
    np.transpose(a, (2, 0, 1))[0] *= 2
    np.swapaxes(a, 0, 2)[1, 1] -= 3
    np.reshape(a, (6, 4))[1:3] = 0
    np.expand_dims(a, 0)[0, 1, 1] = 9
    np.squeeze(a[None, :1])[2, 3] = -1
    np.ravel(a)[5] = 100
    a.mT[0, 0] /= 4
    return a


def ellipsis_and_none_views(a):
    a[..., 1][0] = 11
    a[None][0, 1] **= 2
    a[:, None, 0][1] = -2
    return a


def zero_d_view_in_place(a):
    first = a[0, ...]
    first += 1
    return a


def reshape_of_a_column_slice_is_a_view(a):
    a[:, :1].reshape(-1)[1] = 8         # strides allow a view: numpy writes a[1, 0]
    return a


def fill_and_ufunc_out(a):
    a[0].fill(7)
    np.multiply(a[1], 3, out=a[1])
    np.add(a, 1, out=a)
    return a


def in_place_operators_on_a_view(a):
    b = a.T
    b -= 1
    b *= a
    b /= 2
    b **= 2
    b @= np.array([[1.0, 2.0], [0.0, 1.0]])
    return a


def overlapping_assignment(a):
    a[1:] = a[:-1]
    return a


def augmented_assignment_to_subscripts(a):
    a[0, 0] += 1                         # a scalar copy, written back by a[0, 0] = ...
    a[1] *= 2
    a[:, 1] -= 3
    return a


def name_alias_sees_in_place_add(a):
    b = a
    b += 1
    return a


@pytest.mark.parametrize("fn, example", [
    (row_view_in_place_add, np.ones((2, 2))),
    (slice_then_index_assign, np.ones(3)),
    (transpose_view_assign, np.ones((2, 2))),
    (reshape_view_assign, np.ones((2, 2))),
    (symgrad_reshape_view_assign, np.ones((2, 2))),
    (chained_index_assign, np.ones((2, 3))),
    (view_sees_a_later_write_to_its_base, SQUARE),
    (sibling_views_see_each_others_writes, SQUARE),
    (rows_of_a_loop_are_views, SQUARE),
    (numpy_function_views, CUBE),
    (ellipsis_and_none_views, np.arange(6.0).reshape(2, 3)),
    (zero_d_view_in_place, np.arange(3.0)),
    (reshape_of_a_column_slice_is_a_view, np.arange(6.0).reshape(2, 3)),
    (fill_and_ufunc_out, SQUARE),
    (in_place_operators_on_a_view, SQUARE),
    (overlapping_assignment, np.arange(4.0)),
    (augmented_assignment_to_subscripts, SQUARE),
    (name_alias_sees_in_place_add, np.ones(3)),
])
def test_a_write_through_a_view_changes_the_base_as_in_numpy(fn, example):
    assert_jit_matches_numpy(fn, example)


def test_the_issue_reproducer_gives_numpy_s_six():
    assert row_view_in_place_add(np.ones((2, 2))) == 6.0
    assert_same(sg.jit(row_view_in_place_add)(np.ones((2, 2))), np.asarray(6.0))


# Where numpy copies, a write leaves the original alone.
def flatten_copies(a):
    a.flatten()[0] = 5
    return a


def copies_and_casts(a):
    a.copy()[0, 0] = 5
    np.copy(a)[0, 1] = 5
    a.astype(a.dtype)[1, 0] = 5
    (+a)[1, 1] = 5
    np.positive(a)[1, 1] = 6
    return a


def astype_without_copy_is_the_array_itself(a):
    a.astype(a.dtype, copy=False)[0, 0] = 5
    return a


def reshape_of_a_transpose_copies(a):
    a.T.reshape(-1)[0] = 3
    a.T.ravel()[1] = 4
    return a


def one_element_is_a_scalar_copy(a):
    element = a[0, 1]
    element += 1
    return a, element


def scalars_are_immutable(a):
    total = np.sum(a)
    before = total
    total += 1
    return before, total


@pytest.mark.parametrize("fn", [flatten_copies, copies_and_casts,
                                astype_without_copy_is_the_array_itself,
                                reshape_of_a_transpose_copies, one_element_is_a_scalar_copy,
                                scalars_are_immutable])
def test_copies_and_scalars_do_not_write_back(fn):
    assert_jit_matches_numpy(fn, SQUARE)


def test_a_python_number_argument_stays_a_number_under_in_place_operators():
    def halve(n):
        n /= 2                           # a Python int becomes a float, as in Python
        return n

    assert_same(sg.jit(halve, backend=REF)(3), np.asarray(1.5))


def test_a_numpy_scalar_and_a_0d_array_argument_alias_as_in_numpy():
    def f(x):
        alias = x
        alias += 1                       # changes a 0-d array, not a numpy scalar
        return x

    assert f(np.array(1.0)) == 2.0 and f(np.float64(1.0)) == 1.0
    jitted = sg.jit(f, backend=REF)
    assert_same(jitted(np.array(1.0)), np.asarray(2.0))
    assert_same(jitted(np.float64(1.0)), np.asarray(1.0))
    assert len(jitted.cache) == 2


def test_views_compile_with_numba_and_differentiate():
    def loss(a):
        a.T[0] *= 3                      # column 0 of a, through a view
        a[1] += a[0]
        return np.sum(a * a)

    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert_jit_matches_numpy(loss, a, backend="numba")
    report = sg.check_grad(loss, a, order=2, backend=REF)
    assert report.max_error < 1e-6
    expected = sg.grad(loss, backend=REF)(a.copy())
    assert_same(sg.grad(loss)(a.copy()), expected)


def test_a_write_into_a_broadcast_view_is_refused_as_in_numpy():
    def write(a):
        b = np.broadcast_to(a[0], (2, 2))
        b[0, 0] = 1
        return a

    with pytest.raises(ValueError, match="read-only"):
        write(np.ones((2, 2)))
    message = error_of(sg.TracingError, sg.jit(write, backend=REF), np.ones((2, 2)))
    assert "read-only" in message and "np.broadcast_to" in message and at(write, 2) in message
    with pytest.raises(ValueError):
        sg.jit(write, backend=REF)(np.ones((2, 2)))


@pytest.mark.parametrize("fn, kind, what", [
    (lambda a: operator.iadd(a, 1.5), TypeError, "Cannot cast ufunc 'add' output"),
    (lambda a: operator.iadd(a[0], np.ones((2, 2), np.int64)), ValueError,
     "non-broadcastable output operand"),
    (lambda a: operator.setitem(np.sum(a), Ellipsis, 0), TypeError,
     "'numpy.int64' object does not support item assignment"),
])
def test_a_write_numpy_refuses_is_refused_with_numpy_s_error(fn, kind, what):
    integers = np.arange(4).reshape(2, 2)
    with pytest.raises(kind):
        fn(integers.copy())
    message = error_of(kind, sg.jit(fn, backend=REF), integers.copy())
    assert what in message and THIS_FILE in message


def test_a_failed_write_through_a_view_changes_nothing():
    def f(a):
        b = a[0]
        try:
            b += np.ones((3, 2))         # the wrong shape: refused
        except ValueError:
            pass
        return a, b

    assert_jit_matches_numpy(f, SQUARE)


def test_writing_a_traced_value_into_a_numpy_array_is_refused_clearly():
    def accumulate(x):
        total = np.zeros(3)
        total += x                       # numpy arrays cannot hold traced values
        return total

    def store(x):
        buffer = np.zeros(3)
        buffer[0] = np.sum(x)
        return buffer

    message = error_of(TypeError, sg.jit(accumulate, backend=REF), np.ones(3))
    assert "numpy array" in message and "array = array + traced" in message
    assert at(accumulate, 2) in message
    def store_slice(x):
        buffer = np.zeros(3)
        buffer[:2] = x[:2]
        return buffer

    # numpy turns any error of float(element) into its own ValueError; the trace puts ours back
    for backend in (REF, "numba"):
        message = error_of(sg.TracingError, sg.jit(store, backend=backend), np.ones(3))
        assert "numpy array" in message and "array[i] = traced" in message
        assert at(store, 2) in message
    message = error_of(sg.TracingError, sg.jit(store_slice, backend=REF), np.ones(3))
    assert "concrete array" in message and at(store_slice, 2) in message


# -- in-place ndarray methods ---------------------------------------------------------------
@pytest.mark.parametrize("method, args, what", [
    ("resize", ((4,),), "x.resize() changes the array in place"),
    ("put", ([0], [1.0]), "x.put() changes the array in place"),
    ("choose", ([np.ones(3)],), "x.choose is not supported on traced arrays"),
])
def test_unsupported_ndarray_methods_say_so_at_the_line(method, args, what):
    def call_it(x):
        getattr(x, method)(*args)
        return x

    message = error_of(AttributeError, sg.jit(call_it, backend=REF), np.arange(3.0))
    assert what in message and at(call_it, 1) in message
    with pytest.raises(sg.TracingError):
        sg.jit(call_it, backend=REF)(np.arange(3.0))


def test_hasattr_of_an_unsupported_method_is_false_and_fill_works():
    seen = {}

    def f(x):
        seen["resize"], seen["fill"] = hasattr(x, "resize"), hasattr(x, "fill")
        x.fill(0)
        return x

    assert_same(sg.jit(f, backend=REF)(np.ones(3)), np.zeros(3))
    assert seen == {"resize": False, "fill": True}
    with pytest.raises(ValueError):
        np.ones(3).fill(np.ones(3))
    message = error_of(ValueError, sg.jit(lambda x: x.fill(np.ones(3)), backend=REF), np.ones(3))
    assert "scalar" in message


# -- item 7: vjp cotangents of another structure ---------------------------------------------
def dict_output(x):
    return {"a": x * 2, "b": np.sum(x)}


@pytest.mark.parametrize("cotangent, structure", [
    ({"a": np.ones(3), "c": np.ones(())}, "PyTreeDef({'a': *, 'c': *})"),
    ([np.ones(3), np.ones(())], "PyTreeDef([*, *])"),
    ({"a": np.ones(3)}, "PyTreeDef({'a': *})"),
    (np.ones(3), "PyTreeDef(*)"),
])
def test_a_cotangent_of_another_structure_names_both_structures(cotangent, structure):
    _, pullback = sg.vjp(dict_output, np.ones(3), backend=REF)
    message = error_of(TypeError, pullback, cotangent)
    assert structure in message and "PyTreeDef({'a': *, 'b': *})" in message
    assert THIS_FILE in message


def test_a_tuple_cotangent_for_a_list_output_is_refused_as_in_jax():
    _, pullback = sg.vjp(lambda x: [x, x * 2], np.ones(2), backend=REF)
    message = error_of(sg.TracingError, pullback, (np.ones(2), np.ones(2)))
    assert "PyTreeDef((*, *))" in message and "PyTreeDef([*, *])" in message
    gx, = pullback([np.ones(2), np.ones(2)])
    assert_same(gx, np.full(2, 3.0))


@pytest.mark.parametrize("cotangent, kind, what", [
    ({"a": np.ones(2), "b": np.ones(())}, ValueError,
     "cotangent for output ['a'] of shape [2] does not match the output of shape [3]"),
    ({"a": np.ones(3) * 1j, "b": np.ones(())}, TypeError,
     "cotangent for output ['a'] of dtype complex128 does not match the output of dtype "
     "float64"),
    ({"a": np.ones(3, np.int64), "b": 1.0}, TypeError, "of dtype int64"),
])
def test_a_cotangent_leaf_of_another_shape_or_dtype_names_both(cotangent, kind, what):
    _, pullback = sg.vjp(dict_output, np.ones(3), backend=REF)
    message = error_of(kind, pullback, cotangent)
    assert what in message and THIS_FILE in message


def test_cotangents_of_the_right_structure_pull_back():
    x = np.array([1.0, 2.0, 3.0])
    _, pullback = sg.vjp(dict_output, x, backend=REF)
    (gx,) = pullback({"a": np.array([1.0, 0.0, 2.0], np.float32), "b": 10})
    assert_same(gx, np.array([12.0, 10.0, 14.0]))


# -- item 9: dtypes symgrad does not compute with are refused at the boundary ----------------
@pytest.mark.parametrize("transform", [
    lambda f: sg.grad(f, backend=REF), lambda f: sg.jit(f, backend=REF),
    lambda f: sg.value_and_grad(f), lambda f: sg.jit(f)])
@pytest.mark.parametrize("value", [np.ones(3, np.float16), np.array([None, 1.0]),
                                   np.array(["a", "b"])], ids=str)
def test_an_argument_of_an_unsupported_dtype_is_refused_by_name(transform, value):
    def loss(x, w):
        return np.sum(np.abs(x) * w)

    message = error_of(TypeError, transform(loss), value, np.ones(3))
    assert f"argument x (shape {list(np.shape(value))}) has dtype {value.dtype.name}" in message
    assert "float32 and float64" in message and THIS_FILE in message


def test_the_issue_s_complex_reproducers_now_compute():
    """Complex arrays trace (tests/core/test_complex.py); check_grad and a complex cotangent
    of a real output are still refused."""
    z = np.array([1 + 2j, 3 - 1j])
    assert_same(sg.grad(lambda x: np.real(np.sum(x * x)), backend=REF)(z), 2 * z)
    assert_same(sg.jit(np.abs, backend=REF)(z), np.abs(z))
    with pytest.raises(sg.TracingError, match="complex128"):
        sg.check_grad(lambda x: np.sum(x * x), np.ones(2, complex))
    _, pullback = sg.vjp(lambda x: x * 2, np.ones(2), backend=REF)
    with pytest.raises(sg.TracingError, match="complex128"):
        pullback(np.ones(2) * 1j)


@pytest.mark.parametrize("fn, what", [
    (lambda x: x.astype(np.float16), "float16"),
    (lambda x: (x * 1j).astype(np.float16), "float16"),
])
def test_a_value_of_an_unsupported_dtype_inside_the_function_is_refused(fn, what):
    message = error_of(TypeError, sg.jit(fn, backend=REF), np.ones(3))
    assert what in message and "float32 and float64" in message and THIS_FILE in message


def test_integer_and_bool_data_are_still_accepted():
    def f(x, n, mask, k):
        return np.sum(np.where(mask, x * n, 0.0)) + k

    args = (np.ones(3), np.int32(3), np.array([True, False, True]), np.uint8(2))
    assert_same(sg.jit(f)(*args), np.asarray(8.0))
    assert_same(sg.grad(f)(*args), np.array([3.0, 0.0, 3.0]))


# -- item 10: leaked tracers ------------------------------------------------------------------
def test_a_leaked_tracer_used_after_its_trace_raises_unexpected_tracer_error():
    leaked = []

    def remember(x):
        y = x * 2
        leaked.append(y)
        return np.sum(y)

    sg.jit(remember, backend=REF)(np.ones(2))

    def later_use():
        return leaked[0] + 1

    message = error_of(sg.errors.UnexpectedTracerError, later_use)
    assert f"created at {os.path.abspath(__file__)}:" in message
    assert at(remember, 1) in message and at(later_use, 1) in message
    assert "'remember'" in message
    for use in (lambda: float(leaked[0]), lambda: np.asarray(leaked[0]),
                lambda: sg.jit(lambda v: v * 1, backend=REF)(leaked[0]),
                lambda: sg.jit(lambda v: leaked[0], backend=REF)(np.ones(2)),
                lambda: leaked[0].reshape(2, 1), lambda: leaked[0][0]):
        with pytest.raises(sg.errors.UnexpectedTracerError):
            use()


def test_a_functional_train_step_that_keeps_its_loss_raises_on_later_use():
    losses = []

    def step(w, x, y):
        loss, g = sg.value_and_grad(lambda w: np.sum((x * w - y) ** 2))(w)
        losses.append(loss)
        return w - 0.01 * g, loss

    w, history = sg.train(step, 1.0, data=(np.ones((4, 2)), np.ones((4, 2))), steps=3,
                          progress=False)
    assert len(history) == 3 and losses
    message = error_of(sg.errors.UnexpectedTracerError, lambda: losses[-1] * 2)
    assert at(step, 1) in message


def test_an_error_inside_a_trace_also_ends_it():
    leaked = []

    def fails(x):
        leaked.append(x + 1)
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        sg.jit(fails, backend=REF)(np.ones(2))
    with pytest.raises(sg.errors.UnexpectedTracerError):
        leaked[0] * 2


# -- unclear errors: argnums ------------------------------------------------------------------
@pytest.mark.parametrize("argnums", ["a", 0.0, True, (0, "b"), None])
def test_argnums_of_the_wrong_type_is_refused_where_grad_is_called(argnums):
    def make():
        return sg.grad(lambda x: np.sum(x), argnums=argnums)

    message = error_of(TypeError, make)
    assert f"argnums={argnums!r}" in message and "int or a tuple of ints" in message
    assert at(make, 1) in message


@pytest.mark.parametrize("argnums", [2, -3, (0, 5)])
def test_argnums_out_of_range_names_the_argument_count_and_line(argnums):
    gradient = sg.grad(lambda x, y: np.sum(x * y), argnums=argnums, backend=REF)

    def call():
        return gradient(np.ones(2), np.ones(2))

    message = error_of(ValueError, call)
    assert f"argnums={argnums!r} is out of range" in message and "2 positional" in message
    assert at(call, 1) in message


# -- keyword arguments pass through, not differentiated ---------------------------------------
def scaled_loss(w, x, *, scale=1.0, offset=None):
    out = np.sum((x @ w) ** 2) * scale
    return out if offset is None else out + np.sum(offset)


def test_keyword_arguments_are_traced_and_not_differentiated():
    w, x = np.array([1.0, -2.0]), np.array([[1.0, 2.0], [3.0, 4.0]])
    expected = 2 * x.T @ (x @ w)
    assert_same(sg.grad(scaled_loss, backend=REF)(w, x, scale=3.0), 3.0 * expected)
    assert_same(sg.grad(scaled_loss)(w, x, scale=0.5, offset=np.ones(2)), 0.5 * expected)
    value, g = sg.value_and_grad(scaled_loss, backend=REF)(w, x, offset=np.ones(3))
    assert_same(value, np.asarray(scaled_loss(w, x, offset=np.ones(3))))
    assert_same(sg.jit(scaled_loss, backend=REF)(w, x, scale=2.0),
                np.asarray(scaled_loss(w, x, scale=2.0)))
    jitted = sg.jit(scaled_loss, backend=REF)
    for scale in (1.0, 2.0, 5.0):        # a traced input: no retrace per value
        assert_same(jitted(w, x, scale=scale), np.asarray(scaled_loss(w, x, scale=scale)))
    assert len(jitted.cache) == 1


# -- pytrees: None, lists of floats, aux ------------------------------------------------------
def test_none_in_a_pytree_is_an_empty_subtree_as_in_jax():
    params = {"w": np.array([1.0, 2.0]), "b": None, "rest": [None, (np.array(3.0),)]}

    def loss(p):
        return np.sum(p["w"] ** 2) * p["rest"][1][0]

    g = sg.grad(loss, backend=REF)(params)
    assert_same(g, {"w": np.array([6.0, 12.0]), "b": None, "rest": [None, (np.asarray(5.0),)]})
    assert sg.jit(lambda p: p["b"], backend=REF)(params) is None
    assert pytree.flatten(params)[0][1] is params["w"]
    structure = "PyTreeDef({'b': None, 'rest': [None, (*,)], 'w': *})"
    assert str(pytree.flatten(params)[1]) == structure


def test_a_list_of_floats_is_a_pytree_of_scalars():
    def f(p):
        return p[0] * p[1] ** 2

    assert_same(sg.grad(f, backend=REF)([2.0, 3.0]), [np.asarray(9.0), np.asarray(12.0)])
    assert_same(sg.jit(f)([2.0, 3.0]), np.asarray(18.0))
    assert_same(sg.jit(lambda p: np.sum(np.stack(p)), backend=REF)([2.0, 3.0]), np.asarray(5.0))

    # numpy's functions take the list as one array (as in autograd: np.sum([x, y]))
    assert_same(sg.grad(lambda p: np.sum(p) ** 2, backend=REF)([2.0, 3.0]),
                [np.asarray(10.0), np.asarray(10.0)])

    def exp_of_list(p):
        return np.exp(p)                 # a ufunc makes an array of the list: not traceable

    message = error_of(sg.TracingError, sg.jit(exp_of_list, backend=REF), [2.0, 3.0])
    assert "list" in message and "np.stack" in message and at(exp_of_list, 1) in message


@pytest.mark.parametrize("backend", [REF, "numba"])
def test_aux_is_any_pytree(backend):
    def loss(x):
        total = np.sum(x ** 2)
        return total, {"note": "ok", "count": 3, "mean": np.mean(x), "nothing": None}

    x = np.array([1.0, 3.0])
    g, aux = sg.grad(loss, has_aux=True, backend=backend)(x)
    assert_same(g, 2 * x)
    assert aux["note"] == "ok" and aux["nothing"] is None
    assert_same(aux["mean"], np.asarray(2.0))
    assert_same(aux["count"], np.asarray(3))
    (value, aux), g = sg.value_and_grad(loss, has_aux=True, backend=backend)(x)
    assert_same(value, np.asarray(10.0))
    assert aux["note"] == "ok"
    out, pullback, aux = sg.vjp(loss, x, has_aux=True, backend=backend)
    assert aux["note"] == "ok"
    assert_same(pullback(np.asarray(1.0)), (2 * x,))


def test_has_aux_without_a_pair_says_what_it_got_and_where():
    def call():
        return sg.grad(lambda x: (np.sum(x), 1, 2), has_aux=True, backend=REF)(np.ones(2))

    message = error_of(sg.TracingError, call)
    assert "pair (output, aux)" in message and "tuple of length 3" in message
    assert at(call, 1) in message


def test_jit_of_a_function_returning_none_returns_none():
    assert sg.jit(lambda x: None)(np.ones(2)) is None
    assert_same(sg.jit(lambda x: (x * 2, None), backend=REF)(np.ones(2))[0], np.full(2, 2.0))
    assert sg.jit(lambda x: (x * 2, None), backend=REF)(np.ones(2))[1] is None


def test_export_writes_none_and_static_outputs(tmp_path):
    def loss(x):
        return np.sum(x * x), {"note": "hi", "nothing": None}

    path = sg.export_source(sg.grad(loss, has_aux=True), np.ones(2), path=tmp_path / "m.py")
    spec = importlib.util.spec_from_file_location("exported_loss", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    g, aux = module.loss(np.array([1.0, 2.0]))
    assert_same(g, np.array([2.0, 4.0]))
    assert aux == {"note": "hi", "nothing": None}


# -- sizes checked before compiling -----------------------------------------------------------
def test_a_7_tib_output_raises_numpy_s_memory_error_before_compiling():
    shape = (7 * 2 ** 17, 2 ** 20)

    def huge(x):
        return np.broadcast_to(x, shape) * 2.0

    jitted = sg.jit(huge)                # numba: the error comes before any compile
    message = error_of(MemoryError, jitted, np.ones(1))
    numpy_wording = str(np._core._exceptions._ArrayMemoryError(shape, np.dtype(np.float64)))
    assert numpy_wording == ("Unable to allocate 7.00 TiB for an array with shape "
                             "(917504, 1048576) and data type float64")
    assert message.startswith(numpy_wording) and at(huge, 1) in message
    assert not jitted.cache
    with pytest.raises(sg.TracingError):
        sg.jit(huge, backend=REF)(np.ones(1))


# -- concrete values inside a trace -----------------------------------------------------------
@pytest.mark.parametrize("use, what", [
    (lambda loss: float(loss), "float()"),
    (lambda loss: loss.item(), ".item()"),
    (lambda loss: int(loss), "int()"),
    (lambda loss: bool(loss), "bool()"),
    (lambda loss: round(loss, 2), "round()"),
    (lambda loss: f"{loss:.3f}", "Formatting with '.3f'"),
    (lambda loss: math.exp(loss), "float()"),
    (lambda loss: operator.index(loss), "as an index"),
    (lambda loss: range(loss), "as an index"),
    (lambda loss: complex(loss), "complex()"),
    (lambda loss: np.ascontiguousarray(loss), "concrete array"),
    (lambda loss: loss.tolist(), ".tolist()"),
])
def test_a_concrete_value_of_a_traced_loss_is_a_clear_error_at_the_line(use, what):
    def step(x):
        loss = np.sum(x * x)
        return use(loss)

    message = error_of(sg.TracingError, sg.jit(step, backend=REF), np.ones(2))
    assert what in message and "traces the function once" in message
    assert THIS_FILE in message


def test_item_of_a_loss_tensor_inside_a_compiled_training_step():
    model = nn.Linear(3, 1)
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    seen = []

    def step(x, y):
        optimizer.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        optimizer.step()
        seen.append(loss.item())         # fine eagerly, refused while traced
        return loss

    x, y = np.ones((4, 3), np.float32), np.ones((4, 1), np.float32)
    message = error_of(sg.TracingError, sg.train, step, data=(x, y), steps=3, progress=False)
    assert "concrete" in message and ".item()" in message and at(step, 5) in message


@pytest.mark.parametrize("call, what", [(len, "len() of unsized object"),
                                        (list, "iteration over a 0-d array")])
def test_len_and_iteration_of_a_0d_tracer_are_numpy_s_type_errors(call, what):
    with pytest.raises(TypeError, match=what.replace("(", r"\(").replace(")", r"\)")):
        call(np.ones(()))                # numpy's own 0-d array
    message = error_of(TypeError, sg.jit(lambda x: call(np.sum(x)), backend=REF), np.ones(2))
    assert what in message and THIS_FILE in message


def test_check_grad_takes_one_argnum_as_an_int():
    report = sg.check_grad(lambda x, y: np.sum(x * y), np.ones(2), np.arange(2.0), argnums=0,
                           backend=REF)
    assert report.max_error < 1e-8
