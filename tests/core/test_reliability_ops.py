"""Issue 15's reproducers for the ops and nn losses, each a test, with their siblings: axes
out of range (numpy's AxisError at the user's line), np.prod's gradient at zeros, NaN where
PyTorch is finite, integer powers and reshape validation, and the gradient conventions
(ties of maximum, relu at 0, clip at its bounds) and float32 accumulation.

PyTorch is the oracle where installed (``torch`` tests are skipped cleanly without it); the
reference backend is the numpy oracle for compiled code.
"""
import os

import numpy as np
import pytest

import symgrad as sg
from symgrad import nn
from symgrad.nn import functional as F

from conftest import assert_same

REF = "reference"
THIS_FILE = os.path.basename(__file__)
A = np.arange(6.0).reshape(2, 3)


def raised(call, *args, backend=REF):
    """The exception that tracing ``call`` on ``args`` raises."""
    with pytest.raises(Exception) as info:
        sg.jit(call, backend=backend)(*args)
    return info.value


def numpy_error(call, *args):
    with pytest.raises(Exception) as info:
        call(*args)
    return info.value


# -- item 2: an axis out of range is numpy's AxisError, at the user's line --------------------
OUT_OF_RANGE = [  # (id, the function named in the message, the call)
    ("concatenate_-3", "concatenate", lambda a: np.concatenate([a, a], axis=-3)),
    ("concatenate_2", "concatenate", lambda a: np.concatenate([a, a], axis=2)),
    ("stack_3", "stack", lambda a: np.stack([a, a], axis=3)),
    ("stack_-4", "stack", lambda a: np.stack([a, a], axis=-4)),
    ("swapaxes_0_5", "swapaxes", lambda a: np.swapaxes(a, 0, 5)),
    ("method_swapaxes", "swapaxes", lambda a: a.swapaxes(-3, 1)),
    ("transpose_0_5", "transpose", lambda a: a.transpose(0, 5)),
    ("np_transpose", "transpose", lambda a: np.transpose(a, (2, 0))),
    ("sum_2", "sum", lambda a: a.sum(axis=2)),
    ("np_sum_tuple", "sum", lambda a: np.sum(a, axis=(0, 2))),
    ("mean_-3", "mean", lambda a: np.mean(a, axis=-3)),
    ("max_2", "max", lambda a: np.max(a, axis=2)),
    ("min_2", "min", lambda a: a.min(axis=2)),
    ("prod_2", "prod", lambda a: np.prod(a, axis=2)),
    ("expand_dims_5", "expand_dims", lambda a: np.expand_dims(a, 5)),
    ("expand_dims_-4", "expand_dims", lambda a: np.expand_dims(a, -4)),
    ("squeeze_4", "squeeze", lambda a: np.squeeze(a[None], 4)),
]


@pytest.mark.parametrize("function, call", [pytest.param(*case[1:], id=case[0])
                                            for case in OUT_OF_RANGE])
def test_an_axis_out_of_range_raises_numpys_axis_error_at_the_users_line(function, call):
    error = raised(call, A)
    assert isinstance(error, np.exceptions.AxisError) and isinstance(error, sg.TracingError)
    expected = str(numpy_error(call, A)).split(": ")[-1]     # numpy's "axis 2 is out of ..."
    first_line, location = str(error).splitlines()[:2]
    assert first_line == f"{function}: {expected}"
    assert location.startswith("  at ") and f"{THIS_FILE}:" in location    # file:line


def test_an_axis_error_names_the_function_and_every_axis_kind_is_checked():
    message = str(raised(lambda a: np.concatenate([a, a], axis=2), A))
    assert message.splitlines()[0] == "concatenate: axis 2 is out of bounds for array of dimension 2"
    message = str(raised(lambda a: np.stack([a, a], axis=3), A))
    assert message.splitlines()[0] == "stack: axis 3 is out of bounds for array of dimension 3"


def test_axes_in_range_still_match_numpy_with_gradients():
    def f(a):
        return (np.concatenate([a, a], axis=-2), np.stack([a, 2 * a], axis=-3),
                np.swapaxes(a, -1, -2), np.expand_dims(a, -3), np.squeeze(a[None], -3),
                np.concatenate([a, a[:, :1]], axis=None), np.prod(a + 1, axis=-1))
    assert_same(sg.jit(f, backend=REF)(A), f(A))
    sg.check_grad(f, A + 0.5, order=2, backend=REF)


@pytest.mark.parametrize("call, message", [
    (lambda a: a.sum(axis=1.0), "sum: an axis must be an integer, got 1.0 (float)"),
    (lambda a: np.sum(a, axis=(1, -1)), "sum: repeated axis in (1, -1)"),
    (lambda a: np.concatenate([a[0, 0], a[0, 1]]), "concatenate: zero-dimensional arrays "
                                                   "cannot be concatenated"),
    (lambda a: np.stack([a, a.T]), "stack: all input arrays must have the same shape, got "
                                   "shapes (2, 3), (3, 2)"),
    (lambda a: np.stack([a, np.ones(3)]), "stack: all input arrays must have the same shape, "
                                          "got shapes (2, 3), (3,)"),
])
def test_other_axis_mistakes_are_tracing_errors_at_the_users_line(call, message):
    error = raised(call, A)
    assert isinstance(error, sg.TracingError)
    assert str(error).startswith(message) and f"{THIS_FILE}:" in str(error)


def test_torch_style_dims_out_of_range_raise_pytorchs_index_error():
    x = sg.ones(2, 6)
    for module, dim in [(nn.Unflatten(5, (2, 3)), 5), (nn.Unflatten(-3, (2, 3)), -3),
                        (nn.Flatten(0, 4), 4), (nn.Softmax(dim=2), 2), (nn.LogSoftmax(-3), -3)]:
        with pytest.raises(IndexError, match=rf"expected to be in range of \[-2, 1\], but got "
                                             rf"{dim}\) for a tensor of shape \(2, 6\)"):
            module(x)
    assert nn.Unflatten(-1, (2, 3))(x).shape == (2, 2, 3)       # in range: unchanged


@pytest.mark.parametrize("call, error, message", [
    (lambda x: x.permute(0, 5), IndexError,
     r"permute\(\): Dimension out of range \(expected to be in range of \[-2, 1\], but got 5\)"),
    (lambda x: x.flatten(0, 5), IndexError, r"flatten\(\): Dimension out of range"),
    (lambda x: x.flatten(1, 0), RuntimeError, "start_dim cannot come after end_dim"),
    (lambda x: x[:0].view(0, -1), RuntimeError,
     r"cannot reshape tensor of 0 elements into shape \[0, -1\] because the unspecified"),
    (lambda x: x.view(4, -1), RuntimeError, r"shape '\[4, -1\]' is invalid for input of size 6"),
    (lambda x: x.view(-1, -1), RuntimeError, "only one dimension can be inferred"),
    (lambda x: x.unsqueeze(3), IndexError, "axis 3 is out of bounds for array of dimension 3"),
])
def test_tensor_dims_and_views_are_checked_as_in_pytorch(call, error, message):
    with pytest.raises(error, match=message):
        call(sg.zeros(2, 3))


def test_tensor_dims_and_views_in_range_are_unchanged():
    x = sg.zeros(2, 3, 4)
    assert x.permute(-1, 0, 1).shape == (4, 2, 3) and x.flatten(-2).shape == (2, 12)
    assert x[:0].view(-1, 12).shape == (0, 12) and x.view(4, -1).shape == (4, 6)


def test_softmax_of_a_0d_tensor_is_one_and_differentiable():
    for function, value in [(F.softmax, 1.0), (F.log_softmax, 0.0)]:
        x = sg.tensor(1.5, requires_grad=True)
        y = function(x, 0)
        y.backward()
        assert y.item() == value and x.grad.item() == 0.0


# -- item 3: np.prod's gradient at exact zeros (PyTorch's prod_backward) -----------------------
PROD_POINTS = [([0.0, 2.0, 3.0], [6.0, 0.0, 0.0]), ([0.0, 0.0, 3.0], [0.0, 0.0, 0.0]),
               ([2.0, 0.0, 0.0, 5.0], [0.0] * 4), ([1.0, 2.0, 3.0], [6.0, 3.0, 2.0]),
               ([-0.0, 4.0], [4.0, 0.0])]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("x, expected", PROD_POINTS)
def test_prod_gradient_at_zeros_is_the_product_of_the_others(x, expected, dtype):
    x = np.array(x, dtype)
    assert_same(sg.grad(np.prod, backend=REF)(x), np.array(expected, dtype))
    sg.check_grad(np.prod, x.astype(np.float64), order=2, backend=REF)


ZEROS = np.array([[[0.0, 2.0, 3.0], [1.0, 0.0, 0.0]],
                  [[2.0, 3.0, 4.0], [0.0, -1.5, 2.0]]])
PROD_VARIANTS = {
    "all": lambda x: np.prod(x),
    "last": lambda x: np.prod(x, axis=-1),
    "first_keepdims": lambda x: np.prod(x, axis=0, keepdims=True),
    "two_axes": lambda x: x.prod(axis=(0, 2)),
    "method_keepdims": lambda x: x.prod(axis=1, keepdims=True),
}


@pytest.mark.parametrize("name", list(PROD_VARIANTS))
def test_prod_gradient_with_axes_and_zeros_matches_central_differences_to_second_order(name):
    f = PROD_VARIANTS[name]
    # check_grad's error of a NaN gradient compares False: check finiteness first
    first = sg.grad(lambda x: np.sum(f(x) * np.arange(1.0, np.size(f(x)) + 1).reshape(np.shape(f(x)))),
                    backend=REF)
    second = sg.grad(lambda x: np.sum(first(x) * x), backend=REF)
    assert np.all(np.isfinite(first(ZEROS))) and np.all(np.isfinite(second(ZEROS)))
    sg.check_grad(f, ZEROS, order=2, backend=REF)


def _prod_hessian_rows(x, axis):
    def summed(x):
        return np.sum(np.prod(x, axis=axis))
    return [sg.grad(lambda x, i=i: sg.grad(summed)(x).ravel()[i], backend=REF)(x)
            for i in range(x.size)]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("axis", [None, -1, 0])
def test_prod_gradient_and_hessian_at_zeros_match_pytorch(axis, dtype):
    torch = pytest.importorskip("torch")
    x = ZEROS.astype(dtype)
    t = torch.tensor(x, requires_grad=True)
    (t.prod() if axis is None else t.prod(dim=axis)).sum().backward()
    assert_same(sg.grad(lambda x: np.sum(np.prod(x, axis=axis)), backend=REF)(x),
                t.grad.numpy())
    hessian = torch.autograd.functional.hessian(
        lambda t: (t.prod() if axis is None else t.prod(dim=axis)).sum(), torch.tensor(x))
    assert_same(np.array(_prod_hessian_rows(x, axis)).reshape(hessian.shape), hessian.numpy())


@pytest.mark.numba
def test_prod_gradients_at_zeros_compiled_match_the_reference():
    def both(x):
        def summed(x):
            return np.sum(np.prod(x, axis=-1) * np.arange(1.0, 5.0).reshape(2, 2)) + np.prod(x)
        first = sg.grad(summed)
        return first(x), sg.grad(lambda x: np.sum(first(x) * x))(x)
    for dtype in (np.float64, np.float32):
        x = ZEROS.astype(dtype)
        assert_same(sg.jit(both)(x), sg.jit(both, backend=REF)(x))


# -- item 8: NaN where PyTorch is finite -------------------------------------------------------
MASKED = np.array([[0.0, -np.inf, 1.0], [2.0, 0.5, -np.inf], [-np.inf, 3.0, -1.0]], np.float32)
TARGETS = np.array([2, 0, 1])
LOSS_OPTIONS = [{}, {"reduction": "sum"}, {"reduction": "none"}, {"ignore_index": 1},
                {"ignore_index": 0, "reduction": "sum"},
                {"weight": np.array([1.0, 2.0, 3.0], np.float32)},
                {"weight": np.array([1.0, 2.0, 3.0], np.float32), "ignore_index": 2}]


def _torch_value_and_grad(torch, module, x, target, options):
    options = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in options.items()}
    tx = torch.tensor(x, requires_grad=True)
    loss = module(**options)(tx, torch.tensor(target))
    loss.sum().backward()
    return loss.detach().numpy(), tx.grad.numpy()


def _symgrad_value_and_grad(module, x, target, options):
    options = {k: sg.tensor(v) if isinstance(v, np.ndarray) else v for k, v in options.items()}
    sx = sg.tensor(x, requires_grad=True)
    loss = module(**options)(sx, sg.tensor(target))
    loss.sum().backward()
    return loss.detach().numpy(), sx.grad.numpy()


@pytest.mark.parametrize("options", LOSS_OPTIONS, ids=str)
@pytest.mark.parametrize("loss", ["CrossEntropyLoss", "NLLLoss"])
def test_losses_with_minus_inf_logits_are_finite_and_match_pytorch(loss, options):
    torch = pytest.importorskip("torch")
    x = MASKED if loss == "CrossEntropyLoss" else \
        torch.log_softmax(torch.tensor(MASKED), 1).numpy()        # -inf log-probabilities
    expected = _torch_value_and_grad(torch, getattr(torch.nn, loss), x, TARGETS, options)
    value, grad = _symgrad_value_and_grad(getattr(nn, loss), x, TARGETS, options)
    assert np.all(np.isfinite(value)) and np.all(np.isfinite(grad))
    np.testing.assert_allclose(value, expected[0], rtol=1e-6)
    np.testing.assert_allclose(grad, expected[1], rtol=1e-6, atol=1e-7)


def test_cross_entropy_with_class_probabilities_and_a_masked_logit_is_finite():
    torch = pytest.importorskip("torch")
    probs = np.array([[0.5, 0.0, 0.5], [1.0, 0.0, 0.0], [0.0, 0.25, 0.75]], np.float32)
    expected = _torch_value_and_grad(torch, torch.nn.CrossEntropyLoss, MASKED, probs, {})
    value, grad = _symgrad_value_and_grad(nn.CrossEntropyLoss, MASKED, probs, {})
    finite_logits = torch.tensor(np.where(np.isinf(MASKED), -1e4, MASKED))
    reference = torch.nn.functional.cross_entropy(finite_logits, torch.tensor(probs))
    assert np.isnan(expected[0])      # PyTorch: 0 * -inf; symgrad: 0 * log 0 is 0
    np.testing.assert_allclose(value, reference.numpy(), rtol=1e-6)
    np.testing.assert_allclose(grad, expected[1], rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_and_tanh_at_large_inputs_match_pytorch(dtype):
    torch = pytest.importorskip("torch")
    x = np.array([-1000.0, -100.0, -20.0, -1.0, 0.0, 1.0, 20.0, 100.0, 1000.0], dtype)
    for name in ("sigmoid", "tanh"):
        tx = torch.tensor(x, requires_grad=True)
        getattr(torch, name)(tx).sum().backward()
        for apply in (getattr(nn, name.capitalize())(), getattr(F, name), getattr(sg, name),
                      lambda t, name=name: getattr(t, name)()):
            sx = sg.tensor(x, requires_grad=True)
            y = apply(sx)
            y.sum().backward()
            np.testing.assert_allclose(y.detach().numpy(), getattr(torch, name)(tx).detach().numpy(),
                                       rtol=2e-7 if dtype == np.float32 else 1e-15, atol=1e-30)
            np.testing.assert_allclose(sx.grad.numpy(), tx.grad.numpy(), rtol=1e-6, atol=1e-30)


def test_softmax_log_softmax_and_logsumexp_with_minus_inf_match_pytorch():
    torch = pytest.importorskip("torch")
    weights = np.arange(9.0, dtype=np.float32).reshape(3, 3)
    for name, ours in [("softmax", lambda t: F.softmax(t, 1)),
                       ("log_softmax", lambda t: F.log_softmax(t, 1)),
                       ("logsumexp", lambda t: sg.logsumexp(t, 1))]:
        tx = torch.tensor(MASKED, requires_grad=True)
        expected = getattr(torch, name)(tx, 1)
        finite = np.isfinite(expected.detach().numpy())    # log_softmax is -inf where masked
        torch.where(torch.tensor(finite), expected, 0.0).sum().backward()
        sx = sg.tensor(MASKED, requires_grad=True)
        value = ours(sx)
        sg.where(sg.tensor(finite), value, 0.0).sum().backward()
        np.testing.assert_allclose(value.detach().numpy(), expected.detach().numpy(), rtol=1e-6)
        assert np.all(np.isfinite(sx.grad.numpy())), name
        np.testing.assert_allclose(sx.grad.numpy(), tx.grad.numpy(), rtol=1e-6, atol=1e-7)


@pytest.mark.numba
def test_sigmoid_relu_and_masked_cross_entropy_compiled_match_the_reference():
    x = np.array([-1000.0, -20.0, -1.0, 0.0, 1.0, 20.0, 1000.0], np.float32)

    def activations(x):
        def loss(x):
            return np.sum(sg.ops.sigmoid(x) * np.arange(7.0, dtype=np.float32)) + \
                np.sum(sg.ops.relu(x))
        return sg.ops.sigmoid(x), sg.ops.relu(x), sg.grad(loss)(x)
    compiled = sg.jit(activations)(x)
    assert_same(compiled, sg.jit(activations, backend=REF)(x))
    assert np.all(np.isfinite(compiled[2])) and compiled[2][3] == 3 * 0.25   # relu'(0) = 0


# -- item 10: integer powers and reshape follow numpy ------------------------------------------
INTEGERS = np.array([1, 2, 3])


@pytest.mark.parametrize("call", [lambda x: x ** -1, lambda x: np.power(x, np.array([1, -2, 1])),
                                  lambda x: x ** np.int64(-3)])
def test_an_integer_power_with_a_negative_exponent_raises_numpys_error(call):
    assert "Integers to negative integer powers are not allowed." in str(numpy_error(call, INTEGERS))
    message = str(raised(call, INTEGERS))
    assert "power: Integers to negative integer powers are not allowed" in message
    assert f"{THIS_FILE}:" in message


def test_an_integer_power_with_a_traced_exponent_is_refused_and_floats_are_fine():
    message = str(raised(lambda x, y: x ** y, INTEGERS, INTEGERS))
    assert "traced exponent" in message and f"{THIS_FILE}:" in message
    assert_same(sg.jit(lambda x: (x ** 2, x ** -1.0, x.astype(float) ** -1), backend=REF)(INTEGERS),
                (INTEGERS ** 2, INTEGERS ** -1.0, INTEGERS.astype(float) ** -1))


@pytest.mark.parametrize("shape, target", [((0, 3), (0, -1)), ((2, 3), (4, -1)), ((2, 3), (5,)),
                                           ((2, 3), (-1, -1)), ((2, 3), (0, -1)),
                                           ((2, 3), (2, 2, -1)), ((0, 3), (2, -1, 0))])
def test_reshape_raises_numpys_error_with_both_shapes(shape, target):
    x = np.ones(shape)
    expected = str(numpy_error(lambda: x.reshape(target)))
    message = str(raised(lambda x: x.reshape(target), x))
    if "unknown dimension" in expected:
        assert message.startswith(f"reshape: can only specify one unknown dimension, got shape "
                                  f"{target}")
    else:
        assert message.startswith(f"reshape: {expected}: shape {list(shape)} to {list(target)}")
    assert f"{THIS_FILE}:" in message


def test_reshape_with_an_inferred_dimension_still_matches_numpy():
    empty = np.ones((0, 3))

    def f(x):
        return x.reshape(-1, 3), x.reshape(3, -1), np.reshape(x, (1, -1, 3)), x.reshape(-2, 3)
    assert_same(sg.jit(f, backend=REF)(empty), f(empty))
    assert sg.jit(lambda a: a.reshape(-1, 2), backend=REF)(A).shape == (3, 2)


def test_reshape_refuses_a_dimension_that_is_not_an_integer():
    message = str(raised(lambda a: a.reshape(2.0, 3), A))
    assert message.startswith("reshape: each dimension of (2.0, 3) must be an integer, got 2.0")


# -- conventions: ties, relu at 0, clip at its bounds, NaN, float32 accumulation ----------------
def test_relu_gradient_at_zero_is_zero_everywhere_as_in_pytorch():
    x = np.array([-1.0, 0.0, 2.0], np.float32)
    for apply in (nn.ReLU(), F.relu, sg.relu, lambda t: t.relu()):
        t = sg.tensor(x, requires_grad=True)
        apply(t).sum().backward()
        assert_same(t.grad.numpy(), np.array([0.0, 0.0, 1.0], np.float32))
    assert_same(sg.grad(lambda x: np.sum(sg.ops.relu(x)), backend=REF)(x),
                np.array([0.0, 0.0, 1.0], np.float32))
    assert_same(sg.jit(sg.ops.relu, backend=REF)(np.array([np.nan, -0.5])),
                np.array([np.nan, 0.0]))        # NaN stays NaN, as torch.relu


def test_maximum_and_minimum_split_ties_as_torch_maximum():
    torch = pytest.importorskip("torch")
    x, y = np.array([1.0, 2.0, 3.0, 0.0]), np.array([3.0, 2.0, 1.0, 0.0])
    for ours, theirs in [(np.maximum, torch.maximum), (np.minimum, torch.minimum)]:
        tx, ty = torch.tensor(x, requires_grad=True), torch.tensor(y, requires_grad=True)
        theirs(tx, ty).sum().backward()
        grads = sg.grad(lambda x, y: np.sum(ours(x, y)), argnums=(0, 1), backend=REF)(x, y)
        assert_same(grads, (tx.grad.numpy(), ty.grad.numpy()))


def test_clip_passes_the_gradient_at_its_bounds_as_torch_clamp():
    torch = pytest.importorskip("torch")
    x = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])
    tx = torch.tensor(x, requires_grad=True)
    torch.clamp(tx, -1.0, 1.0).sum().backward()
    assert_same(sg.grad(lambda x: np.sum(np.clip(x, -1.0, 1.0)), backend=REF)(x), tx.grad.numpy())
    lo, hi = np.array([-1.0] * 5), np.array([1.0] * 5)
    grads = sg.grad(lambda x, lo, hi: np.sum(np.clip(x, lo, hi)), argnums=(0, 1, 2),
                    backend=REF)(x, lo, hi)
    assert_same(grads, (np.array([0, 1, 1, 1, 0.0]), np.array([1, 0, 0, 0, 0.0]),
                        np.array([0, 0, 0, 0, 1.0])))
    values = np.array([np.nan, -3.0, 0.5, 3.0])
    assert_same(sg.jit(lambda x: np.clip(x, -1, 1), backend=REF)(values), np.clip(values, -1, 1))


@pytest.mark.numba
def test_compiled_maximum_minimum_max_and_min_keep_nan_as_numpy():
    x = np.array([[np.nan, 1.0, 0.0], [2.0, np.nan, 0.0]])
    y = np.array([0.0, np.nan, 1.0])

    def f(x, y):
        return (np.maximum(x, y), np.minimum(x, y), np.maximum(y, x), np.max(x), np.min(x, axis=1),
                np.max(x, axis=0), np.minimum(x, 0.5), np.clip(x, 0.5, 1.5))
    assert_same(sg.jit(f)(x, y), f(x, y))


@pytest.mark.numba
@pytest.mark.parametrize("axis", [0, 1, None])
def test_compiled_float32_sum_and_mean_of_a_million_rows_are_accurate(axis):
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (10**6, 2) if axis != 1 else (2, 10**6)).astype(np.float32)
    exact = x.astype(np.float64)
    mean, total = sg.jit(lambda x: (np.mean(x, axis=axis), np.sum(x, axis=axis)))(x)
    assert mean.dtype == total.dtype == np.float32
    # the float32 rounding of the results is the only error left (a float32 running sum's is
    # 2e-5, and so is numpy's own along axis 0)
    np.testing.assert_allclose(total, exact.sum(axis=axis), rtol=1e-7)
    np.testing.assert_allclose(mean, exact.mean(axis=axis), rtol=2.5e-7)
