"""Bad input gets a clear ``symgrad.TracingError``: what was wrong, and where in the user's code
(symgrad/core/errors.py, symgrad/core/source_info.py).

Each test writes the mistake as a user would and checks the message: the user's file and
line, the shapes and op involved, and what to do instead.
"""
import os

import numpy as np
import pytest

import symgrad as sg

from conftest import assert_same

REF = "reference"
THIS_FILE = os.path.basename(__file__)


def line_of(fn, offset):
    """The line number ``offset`` lines below ``def fn``."""
    return fn.__code__.co_firstlineno + offset


def raises_tracing_error(transformed, *args):
    with pytest.raises(sg.TracingError) as info:
        transformed(*args)
    return str(info.value)


def assert_points_at(message, fn, offset):
    assert f"{THIS_FILE}:{line_of(fn, offset)}" in message, message


# -- Python control flow on traced values ----------------------------------------------------
def if_on_tracer(x):
    loss = np.sum(x * x)
    if loss > 0:                     # data-dependent control flow
        return loss
    return -loss


def float_of_tracer(x):
    return float(np.sum(x)) * 2.0


def bool_of_tracer(x):
    return np.sum(x) if bool(x[0]) else -np.sum(x)


def while_on_tracer(x):
    total = np.sum(x)
    while total < 10:
        total = total * 2
    return total


@pytest.mark.parametrize("fn, offset, what", [
    (if_on_tracer, 2, "Python control flow"),
    (float_of_tracer, 1, "float()"),
    (bool_of_tracer, 1, "bool()"),
    (while_on_tracer, 2, "Python control flow"),
])
def test_control_flow_on_a_traced_value_suggests_where(fn, offset, what):
    message = raises_tracing_error(sg.grad(fn, backend=REF), np.ones(3))
    assert what in message
    assert "symgrad.where" in message
    assert_points_at(message, fn, offset)


def test_where_is_the_fix_for_control_flow():
    def fixed(x):
        loss = np.sum(x * x)
        return sg.where(loss > 0, loss, -loss)

    assert_same(sg.grad(fixed, backend=REF)(np.array([1.0, -2.0])), np.array([2.0, -4.0]))


def test_int_and_item_of_a_traced_value():
    assert "int()" in raises_tracing_error(sg.jit(lambda x: x[int(x[0])], backend=REF), np.ones(3))
    assert ".item()" in raises_tracing_error(sg.jit(lambda x: x.sum().item(), backend=REF),
                                             np.ones(3))


# -- grad of a non-scalar output ---------------------------------------------------------------
def test_grad_of_a_non_scalar_output_names_its_shape_and_points_to_vjp():
    def per_example_loss(w, x):
        return (x @ w) ** 2

    message = raises_tracing_error(sg.grad(per_example_loss, backend=REF), np.ones(3),
                                   np.ones((5, 3)))
    assert "per_example_loss" in message and "scalar" in message
    assert "[5]" in message          # the output's shape
    assert "vjp" in message


def test_grad_of_a_non_array_output():
    message = raises_tracing_error(sg.grad(lambda x: "done", backend=REF), np.ones(3))
    assert "scalar" in message and "str" in message


def test_grad_of_an_integer_output():
    message = raises_tracing_error(sg.grad(lambda x: np.sum(x > 0), backend=REF), np.ones(3))
    assert "int64" in message or "bool" in message


# -- shape mismatches ----------------------------------------------------------------------------
def w1_forward_with_swapped_weights(w1, x):
    return np.sum(x @ w1)            # 64x1000 @ 100x10


def w1_forward_with_dot(w1, x):
    return np.sum(x.dot(w1))


@pytest.mark.parametrize("fn", [w1_forward_with_swapped_weights, w1_forward_with_dot])
def test_matmul_shape_mismatch_names_op_shapes_and_line(fn):
    w1, x = np.ones((100, 10)), np.ones((64, 1000))
    message = raises_tracing_error(sg.grad(fn, backend=REF), w1, x)
    assert "matmul" in message
    assert "[64, 1000]" in message and "[100, 10]" in message
    assert_points_at(message, fn, 1)


def test_matmul_shape_mismatch_is_found_at_trace_time_before_any_compile(monkeypatch):
    import symgrad.staging
    compiled = []
    monkeypatch.setitem(symgrad.staging.BACKENDS, "numba", lambda graph: compiled.append(graph))
    with pytest.raises(sg.TracingError):
        sg.grad(w1_forward_with_swapped_weights)(np.ones((100, 10)), np.ones((64, 1000)))
    assert compiled == []


def test_broadcast_mismatch_names_op_and_shapes():
    def add_bias(x, b):
        return np.sum(x + b)

    message = raises_tracing_error(sg.jit(add_bias, backend=REF), np.ones((4, 3)), np.ones(4))
    assert "add" in message and "(4, 3)" in message and "(4,)" in message
    assert_points_at(message, add_bias, 1)


def test_reshape_mismatch_names_both_shapes():
    message = raises_tracing_error(sg.jit(lambda x: x.reshape(4, 4), backend=REF), np.ones(6))
    assert "reshape" in message and "[6]" in message and "[4, 4]" in message


def test_index_out_of_bounds():
    message = raises_tracing_error(sg.jit(lambda x: x[:, 5], backend=REF), np.ones((2, 3)))
    assert "index 5" in message and "axis 1" in message and "[2, 3]" in message


# -- unsupported numpy functions ---------------------------------------------------------------
@pytest.mark.parametrize("fn, name", [
    (lambda x: np.sum(np.linalg.eig(x)[0]), "np.linalg.eig"),
    (lambda x: np.sum(np.fft.hfft(x[0])), "np.fft.hfft"),
    (lambda x: np.sum(np.unwrap(x)), "np.unwrap"),
    (lambda x: np.sum(np.histogram(x)[0]), "np.histogram"),
    (lambda x: np.add.reduce(x, axis=None), "np.add.reduce"),
    (lambda x: np.sum(np.spacing(x)), "np.spacing"),
])
def test_unsupported_numpy_function_is_named(fn, name):
    message = raises_tracing_error(sg.grad(fn, backend=REF), np.eye(2) + 1)
    assert f"{name} is not supported" in message
    assert THIS_FILE in message


def test_unsupported_keyword_argument_is_named():
    message = raises_tracing_error(sg.grad(lambda x: np.sum(x, where=x > 0), backend=REF),
                                   np.ones(3))
    assert "np.sum" in message and "where" in message


def test_ufunc_keyword_arguments_are_named():
    buffer = np.zeros(3)
    message = raises_tracing_error(sg.jit(lambda x: np.multiply(x, 2.0, out=buffer), backend=REF),
                                   np.ones(3))
    assert "np.multiply" in message and "out" in message


def test_a_traced_boolean_mask_is_rejected_clearly():
    message = raises_tracing_error(sg.grad(lambda x: np.sum(x[x > 0]), backend=REF), np.ones(3))
    assert "data-dependent shape" in message and "np.where(mask, x, 0)" in message


# -- argnums and dtypes ----------------------------------------------------------------------
@pytest.mark.parametrize("argnums", [2, -3, (0, 2)])
def test_argnums_out_of_range(argnums):
    def loss(w, x):
        return np.sum(x @ w)

    message = raises_tracing_error(sg.grad(loss, argnums=argnums, backend=REF), np.ones(3),
                                   np.ones((2, 3)))
    assert f"argnums={argnums!r} is out of range" in message
    assert "loss" in message and "2 positional argument" in message


@pytest.mark.parametrize("bad", [np.arange(3), np.array([True, False]), 3],
                         ids=["int-array", "bool-array", "python-int"])
def test_integer_argument_cannot_be_differentiated(bad):
    message = raises_tracing_error(sg.grad(lambda x: np.sum(x * 2.0), backend=REF), bad)
    assert "cannot differentiate" in message and "argument 0" in message
    assert "floating-point" in message and "astype" in message


def test_integer_argument_in_a_pytree_is_named_by_its_path():
    params = {"w": np.ones(2), "steps": np.arange(2)}
    message = raises_tracing_error(sg.grad(lambda p: np.sum(p["w"] * p["steps"]), backend=REF),
                                   params)
    assert "argument 0['steps']" in message and "int64" in message


def test_integer_argument_outside_argnums_is_fine():
    g = sg.grad(lambda w, idx: np.sum(w * idx), backend=REF)(np.ones(3), np.arange(3))
    assert_same(g, np.array([0.0, 1.0, 2.0]))


# -- in-place assignment -----------------------------------------------------------------------
def test_in_place_assignment_traces_as_functional_set_item():
    def loss(a, v):
        a[:2] = v                    # overwrite two rows of the argument
        return np.sum(a ** 2)

    a, v = np.arange(8.0).reshape(4, 2), np.array([1.0, -1.0])
    graph = sg.grad(loss, argnums=(0, 1), backend=REF).trace(a, v)
    assert "setitem" in {graph.op(n) for n in graph.nodes()}
    da, dv = sg.grad(loss, argnums=(0, 1), backend=REF)(a, v)
    assert_same(da, np.concatenate([np.zeros((2, 2)), 2 * a[2:]]))
    assert_same(dv, 2 * 2 * v)
    assert_same(a, np.arange(8.0).reshape(4, 2))       # the caller's array is not modified
    sg.check_grad(loss, a, v, order=2, backend=REF)


def test_augmented_assignment_into_a_slice():
    def f(a):
        a[1:] += a[:-1]
        return np.sum(a * a)

    a = np.array([1.0, 2.0, 3.0])
    expected_value = np.sum(np.array([1.0, 3.0, 5.0]) ** 2)
    assert_same(sg.jit(f, backend=REF)(a), np.asarray(expected_value))
    sg.check_grad(f, a, order=2, backend=REF)


# -- captured numpy arrays -----------------------------------------------------------------------
def test_method_of_a_captured_numpy_array_on_a_tracer_fails_clearly():
    data = np.ones((4, 3))           # captured from outside: a plain numpy array

    def loss(w):
        return np.sum(data.dot(w))   # ndarray.dot does not dispatch to the tracer

    message = raises_tracing_error(sg.grad(loss, backend=REF), np.ones(3))
    assert "data.dot" in message and "np.dot(a, b)" in message and "a @ b" in message
    assert_points_at(message, loss, 1)


def test_captured_numpy_array_with_operators_is_fine():
    data = np.arange(6.0).reshape(2, 3)
    g = sg.grad(lambda w: np.sum(data @ w + np.dot(data, w) * data.sum()), backend=REF)(np.ones(3))
    assert_same(g, data.sum(axis=0) * (1 + data.sum()))


def test_a_numpy_array_method_given_a_tracer_fails_clearly():
    data = np.ones((2, 2))
    message = raises_tracing_error(sg.jit(lambda x: data.dot(x), backend=REF), np.ones(2))
    assert "concrete array" in message and "np.dot(a, b)" in message


def test_a_tracer_leaked_from_another_trace_is_reported():
    leaked = []

    def remember(x):
        leaked.append(x)
        return np.sum(x)

    sg.jit(remember, backend=REF)(np.ones(2))
    message = raises_tracing_error(sg.jit(lambda y: np.sum(y * leaked[0]), backend=REF),
                                   np.ones(2))
    assert "different traces" in message and "argument" in message


# -- vjp and has_aux misuse ----------------------------------------------------------------------
def test_vjp_seed_of_the_wrong_shape():
    _, pullback = sg.vjp(lambda x: x * 2, np.ones(3), backend=REF)
    with pytest.raises(sg.TracingError, match=r"cotangent of shape \[2\] does not match the "
                                              r"output of shape \[3\]"):
        pullback(np.ones(2))


def test_has_aux_without_a_pair():
    message = raises_tracing_error(sg.grad(lambda x: np.sum(x), has_aux=True, backend=REF),
                                   np.ones(3))
    assert "has_aux=True" in message and "pair" in message


# -- all errors share one class and leave no state behind --------------------------------------
def test_a_failed_trace_leaves_the_cache_usable():
    calls = []

    def f(x):
        calls.append(x.shape)
        return np.sum(x @ np.ones((3, 2)))

    jitted = sg.jit(f, backend=REF)
    with pytest.raises(sg.TracingError):
        jitted(np.ones((2, 4)))
    assert_same(jitted(np.ones((2, 3))), np.asarray(12.0))
    with pytest.raises(sg.TracingError):    # not cached as a success: it fails again
        jitted(np.ones((2, 4)))
    assert len(calls) == 3


def test_tracing_error_is_an_exception_class_of_symgrad():
    assert issubclass(sg.TracingError, Exception)
    assert sg.TracingError.__module__.startswith("symgrad")
