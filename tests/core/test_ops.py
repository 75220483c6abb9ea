"""Every op: gradients against central differences (first and second order), the reference
interpreter against plain numpy (values and dtypes), and compiled code against the reference.
The functions are plain numpy code, so this also tests how numpy dispatches to tracers
and the operators of Tracer (symgrad/core/tracer_faces.py).

The op table ``CASES`` is plain numpy code; each case is one function that symgrad traces.
``test_every_op_is_covered`` traces them all and fails when a registered op appears in none,
so adding an op to ``symgrad.core.ops`` without adding a case here fails the suite.
"""
from dataclasses import dataclass, field

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import array_shapes, mutually_broadcastable_shapes

import symgrad as sg
from symgrad.core import pytree

from conftest import assert_same
from op_cases_layers import layer_cases
from op_cases_math import math_cases

REF = "reference"
SOURCE_OPS = {"input", "constant"}


def uniform(shape, low=0.5, high=1.5, seed=0):
    return np.random.default_rng(seed).uniform(low, high, shape)


def away_from(values, points, margin=0.05):
    """``values`` nudged so that none lies within ``margin`` of a kink in ``points``."""
    values = np.array(values, dtype=np.float64)
    for point in points:
        near = np.abs(values - point) < margin
        values[near] = point + np.where(values[near] >= point, margin, -margin)
    return values


@dataclass(frozen=True)
class CubeRule:
    """A hand-written VJP (what autograd.Function.backward becomes): d(x**3) = 3x**2."""

    def __call__(self, position, g, out, value, x):
        return g * 3 * x * x


def custom_cube(x):
    """x**3 whose derivative comes from CubeRule, not from differentiating the forward."""
    if not isinstance(x, sg.Tracer):
        return x ** 3
    from symgrad.core.tracing import bind
    return bind("custom_vjp", x ** 3, x, rule=CubeRule())


@dataclass
class Case:
    """A numpy function and float64 example arguments chosen away from kinks/singularities."""
    name: str
    fn: object
    args: tuple
    check: dict = field(default_factory=dict)   # extra keyword arguments for sg.check_grad
    float32: bool = False                        # also compile-compare in float32

    def arguments(self, dtype=np.float64):
        return [np.asarray(a, dtype=dtype).copy() for a in self.args]


# -- functions with in-place assignment and several outputs ----------------------------------
def set_rows(a, v):
    """In-place assignment into an argument traces as a functional set-item node."""
    a[:2] = v                 # broadcast a row into two rows
    a[2, ::-2] = 2 * v[:2]    # negative step
    return a * a


def add_at_rows(a, v):
    """np.add.at: a scatter-add, repeated rows accumulating."""
    a = a * 1.0
    np.add.at(a, [0, 0, 2], v)
    return a


def set_scalar(a):
    a[1:, 0] = 0.5
    return np.sum(a ** 3, axis=1)


X = uniform((3, 4))
Y = uniform((4,), seed=1)
X3 = uniform((2, 3, 4), seed=2)
DISTINCT = np.random.default_rng(5).permutation(12).reshape(3, 4) / 4 + 0.5   # no ties
SIGNED = away_from(np.random.default_rng(3).uniform(-2, 2, (3, 4)), [0.0])

CASES = [
    # arithmetic with broadcasting, reverse operands and Python scalars
    Case("add", lambda x, y: x + y, (X, Y), float32=True),
    Case("sub_broadcast_both", lambda x, y: x - y, (X[:, :1], Y[None, :])),
    Case("mul_broadcast_3d", lambda x, y: x * y, (X3, X[:, :1])),
    Case("div", lambda x, y: x / y, (X, Y)),
    Case("pow", lambda x, y: x ** y, (X, Y)),
    Case("neg", lambda x: -x, (X,)),
    # the mean over MPI ranks: one process here, so x itself (tests/distributed for several)
    Case("all_reduce_mean", lambda x: sg.distributed.all_reduce_mean(x) * x, (X,), float32=True),
    Case("python_scalar_right", lambda x: (x + 1, x - 2.5, x * 3, x / 2, x ** 2, x ** 0.5),
         (X,), float32=True),
    Case("python_scalar_left", lambda x: (2.0 + x, 3 - x, 2.0 * x, 1 / x, 2.0 ** x),
         (X,), float32=True),
    Case("numpy_ufunc_spelling", lambda x, y: np.add(np.multiply(x, y), np.subtract(x, 1.0)) /
         np.power(y, 2), (X, Y)),
    # unary elementwise
    Case("exp", np.exp, (X,), float32=True),
    Case("log", np.log, (X,)),
    Case("log1p", np.log1p, (X - 0.4,)),
    Case("sqrt", np.sqrt, (X,)),
    Case("abs", np.abs, (SIGNED,)),
    Case("sign", lambda x: np.sign(x) * x ** 2, (SIGNED,)),
    Case("sin", np.sin, (SIGNED,)),
    Case("cos", np.cos, (SIGNED,)),
    Case("tanh", np.tanh, (SIGNED,), float32=True),
    Case("square", np.square, (SIGNED,)),
    Case("copy", lambda x: x.copy() * np.copy(x), (X,)),
    # complex values inside a real function (more in test_complex.py)
    Case("complex_parts_and_fft", lambda x: (
        np.real(np.fft.fft(x) * (1 + 2j)), np.imag(np.conj(np.exp(1j * x))),
        np.abs(x * (1 + 1j)), np.fft.irfft(np.fft.rfft(x, axis=0) * 2, 3, axis=0)),
        (X,), float32=True),
    # binary selection
    Case("maximum", np.maximum, (SIGNED, away_from(SIGNED[0] + 0.3, SIGNED.ravel()))),
    Case("minimum", np.minimum, (SIGNED, away_from(SIGNED[0] + 0.3, SIGNED.ravel()))),
    Case("relu", lambda x: np.maximum(x, 0), (SIGNED,), float32=True),
    Case("activations", lambda x: (sg.ops.relu(x), sg.ops.sigmoid(4 * x)), (SIGNED,),
         float32=True),
    Case("where", lambda x, y: np.where(x > y, x * y, y - x), (SIGNED, Y - 1), float32=True),
    Case("clip", lambda x: (np.clip(x, -0.5, 1.0), x.clip(0.0, None)),
         (away_from(SIGNED, [-0.5, 1.0]),)),
    Case("comparisons", lambda x, y: (np.where(x < y, x, 2 * y), np.where(x <= y, 3 * x, y),
                                      np.where(y >= x, x * y, x), np.where(np.less(x, 0), -x, y),
                                      np.where(np.sign(x) == 1.0, x, -2 * x),
                                      np.where(np.sign(x) != 1.0, x * x, y)),
         (SIGNED, Y - 1)),
    # dtype conversion: through float32 and back (numerically noisy: looser check)
    Case("astype", lambda x: x.astype(np.float32).astype(np.float64) ** 2, (X,),
         check={"eps": 1e-3, "tolerance": 1e-3}),
    # reductions: over all, one axis, several, negative, keepdims
    Case("sum", lambda x: (np.sum(x), x.sum(axis=0), np.sum(x, axis=-1, keepdims=True),
                           x.sum(axis=(0, 2))), (X3,), float32=True),
    Case("mean", lambda x: (np.mean(x), x.mean(axis=1), np.mean(x, axis=(-1, 0), keepdims=True)),
         (X3,), float32=True),
    Case("max", lambda x: (np.max(x), x.max(axis=1), np.amax(x, axis=(-1, 0), keepdims=True)),
         (X3,)),
    Case("min", lambda x: (np.min(x), x.min(axis=-1), np.amin(x, axis=0, keepdims=True)), (X3,)),
    Case("prod", lambda x: (np.prod(x), x.prod(axis=1), np.prod(x, axis=-1, keepdims=True)),
         (X3,)),
    # matrix products
    Case("matmul_2d", lambda a, b: (a @ b, np.dot(a, b), a.dot(b), np.matmul(a, b)),
         (X, uniform((4, 2), seed=4)), float32=True),
    Case("matmul_1d", lambda m, v: (m @ v, v[:3] @ m, np.dot(v, v), v.dot(m.T)), (X, Y)),
    Case("matmul_batched", lambda a, b: a @ b,
         (uniform((2, 1, 2, 3), seed=5), uniform((3, 3, 2), seed=6))),
    # data movement
    Case("transpose", lambda x: (x.T, np.transpose(x, (1, 0, 2)), x.transpose(2, 0, 1),
                                 x.swapaxes(0, -1), np.swapaxes(x, 1, 2), x[0].T), (X3,)),
    Case("reshape", lambda x: (x.reshape(-1), x.reshape(4, -1), np.reshape(x, (2, 6)),
                               x.ravel() * x.reshape(1, 12)), (X,)),
    Case("expand_squeeze", lambda x: (np.expand_dims(x, 0), np.expand_dims(x, -1),
                                      np.squeeze(x[None], 0), x[:, None].squeeze()), (X,)),
    Case("broadcast_to", lambda v: np.broadcast_to(v, (3, 4)) * np.broadcast_to(v[:, None], (4, 2)).sum(),
         (Y,)),
    Case("concatenate", lambda x, v: (np.concatenate([x, v[None]], axis=0),
                                      np.concatenate([x, x[:, :1]], axis=-1),
                                      np.concatenate([v, np.ones(2), v])), (X, Y)),
    Case("stack", lambda u, v: (np.stack([u, v]), np.stack([u, v * v, u], axis=-1)),
         (Y, Y[::-1] + 1)),
    Case("slicing", lambda x: (x[1:, ::2], x[::-1], x[None, ..., 1], x[..., 1:3][:, ::-2],
                               x[-2:, None, -3::-1]), (X,), float32=True),
    Case("integer_index", lambda x: (x[-1], x[0, 2], x[1][-1] * x[:, 0]), (X,)),
    Case("setitem", set_rows, (X, Y)),
    # gathers and scatters (more in test_indexing.py)
    Case("gather_scatter", lambda x, v: (x[[2, 0, 0], 1:], add_at_rows(x, v)), (X, Y)),
    Case("sort_argmax", lambda x: (np.sort(x, axis=0),
                                   x[np.arange(3), np.argmax(x, 1)] * np.argmin(x, axis=1)),
         (DISTINCT,)),
    Case("setitem_scalar", set_scalar, (X,)),
    Case("custom_vjp", lambda a: custom_cube(a) * a, (X,)),
    # stop_gradient of a locally constant value: the numeric derivative agrees
    Case("stop_gradient", lambda x: x * sg.stop_gradient(np.floor(3 * x)),
         (away_from(X, [2 / 3, 1, 4 / 3]),), float32=True),
    # sg.checkpoint's rematerialised backward, and its barrier op alone
    Case("checkpoint", lambda x, y: sg.checkpoint(lambda a, b: np.sin(a) * b)(x, y) * x, (X, Y)),
    Case("remat_barrier", lambda x, y: sg.ops.custom.remat_barrier(x * 2, y) * y, (X, Y)),
    # convolution and pooling (NCHW): the ops and their gradient ops, padded, strided and
    # dilated (stride 1 compiles to the wide unfolding, stride 2 to the narrow one)
    Case("conv2d", lambda x, w, b, g: (
        sg.ops.conv2d(x, w, stride=1, padding=1, dilation=(1, 2), bias=b),
        sg.ops.conv2d_input_grad(g, w, (6, 5), stride=2, padding=1, dilation=(1, 2)),
        sg.ops.conv2d_weight_grad(x, g, (3, 2), stride=2, padding=1, dilation=(1, 2))),
        (uniform((2, 2, 6, 5), -1, 1, seed=10), uniform((3, 2, 3, 2), -1, 1, seed=11),
         uniform((3,), -1, 1, seed=16), uniform((2, 3, 3, 3), -1, 1, seed=12))),
    Case("pooling", lambda x, h, g: (
        sg.ops.max_pool2d(x, 2) * h[:, :, :3, :2], sg.ops.max_pool2d(x, 3, 2, 1),
        sg.ops.max_pool2d_grad(x, g, 3, 2, 1), sg.ops.max_pool2d_gather(x, h, 3, 2, 1),
        sg.ops.avg_pool2d(x * h, 3, 2, 1), sg.ops.avg_pool2d(x, (2, 3), 1, count_include_pad=False),
        sg.ops.avg_pool2d(x, 3, 2, 1, count_include_pad=False),
        sg.ops.avg_pool2d_grad(g * g, (6, 5), 3, 2, 1)),
        # distinct values, far apart: no window has a tie, even after a numeric step
        (np.random.default_rng(13).permutation(60).reshape(1, 2, 6, 5) / 10,
         uniform((1, 2, 6, 5), -1, 1, seed=14), uniform((1, 2, 3, 3), -1, 1, seed=15))),
]
CASES += math_cases(Case, uniform, away_from)
CASES += layer_cases(Case, uniform, away_from)
CASES += [   # control flow (symgrad/control_flow.py): one node each, bodies nested graphs
    Case("fori_loop", lambda x, w: sg.fori_loop(0, 3, lambda i, c: np.sin(c) * w + c, x), (X, Y)),
    Case("scan", lambda w, xs: sg.scan(lambda c, x: (np.tanh(c * w + x), c * x), Y, xs)[1],
         (Y, X)),
    Case("while_loop", lambda x: sg.while_loop(lambda c: np.sum(c) < 40.0, lambda c: c * 1.5, x,
                                               max_trips=30), (X,)),
    Case("cond", lambda x: sg.cond(np.sum(x) > 0, np.sin, lambda a: a * a, x), (X,)),
]
CASES_BY_NAME = {case.name: case for case in CASES}
assert len(CASES_BY_NAME) == len(CASES), "case names must be unique"
CASE_IDS = list(CASES_BY_NAME)


def ops_in(graph):
    return {graph.op(node) for node in graph.nodes()}


def numpy_result(case, args):
    return case.fn(*[a.copy() for a in args])


def projected(fn, example_out):
    """A scalar function: every output dotted with a fixed direction of its own dtype."""
    leaves, _ = pytree.flatten(example_out)
    directions = [np.linspace(0.5, 1.5, np.size(leaf)).reshape(np.shape(leaf)).astype(leaf.dtype)
                  for leaf in leaves]

    def scalar(*args):
        return sum(np.sum(leaf * d) for leaf, d in zip(pytree.flatten(fn(*args))[0], directions))
    return scalar


def forward_and_gradient(case, args):
    """One function whose outputs are the case's outputs and the gradient of their
    projection: one graph, so one compilation per case and dtype."""
    scalar = projected(case.fn, numpy_result(case, args))
    gradient = sg.grad(scalar, argnums=tuple(range(len(args))))

    def both(*arguments):
        grads = gradient(*arguments)    # first: case.fn may assign into its arguments
        return case.fn(*arguments), grads
    return both


# -- the op table covers the registry --------------------------------------------------------
def test_every_op_is_covered():
    from test_linalg import CASES as LINALG_CASES     # the linear algebra family's table
    from test_special import CASES as SPECIAL_CASES   # scipy.special and scipy.stats
    covered = set()
    for case in CASES + LINALG_CASES + SPECIAL_CASES:
        covered |= ops_in(sg.trace(case.fn, *case.arguments()))
    missing = set(sg.ops.OPS) - SOURCE_OPS - covered
    assert not missing, f"ops without a case in tests/core/test_ops.py: {sorted(missing)}"


# -- gradients against central differences ---------------------------------------------------
@pytest.mark.parametrize("name", CASE_IDS)
def test_gradient_matches_numeric_first_and_second_order(name):
    check_gradient(CASES_BY_NAME[name])


def check_gradient(case):
    """The case's gradient against central differences, first and second order (float64)."""
    report = sg.check_grad(case.fn, *case.arguments(), order=2, backend=REF, **case.check)
    assert report.order == 2


# -- the reference interpreter follows numpy (values and dtypes) -----------------------------
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("name", CASE_IDS)
def test_reference_matches_numpy(name, dtype):
    check_against_numpy(CASES_BY_NAME[name], dtype,
                        rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-6)


def check_against_numpy(case, dtype, **tolerance):
    """The reference interpreter's values against numpy's; the gradients' dtypes and shapes."""
    args = case.arguments(dtype)
    expected = numpy_result(case, args)
    assert_same(sg.jit(case.fn, backend=REF)(*args), expected, **tolerance)
    # gradients have the dtype of the argument they belong to
    grads = sg.grad(projected(case.fn, expected), argnums=tuple(range(len(args))),
                    backend=REF)(*args)
    assert [g.dtype for g in grads] == [np.dtype(dtype)] * len(args)
    assert [g.shape for g in grads] == [a.shape for a in args]


# -- compiled == reference -------------------------------------------------------------------
COMPILED = [pytest.param(name, np.float64, id=f"{name}-f64") for name in CASE_IDS] + \
    [pytest.param(case.name, np.float32, id=f"{case.name}-f32") for case in CASES if case.float32]


@pytest.mark.numba
@pytest.mark.parametrize("name, dtype", COMPILED)
def test_compiled_matches_reference(name, dtype):
    check_compiled(CASES_BY_NAME[name], dtype)


def check_compiled(case, dtype, **tolerance):
    """Compiled forward and gradient (one graph, one compile) against the reference."""
    args = case.arguments(dtype)
    both = forward_and_gradient(case, args)
    expected = sg.jit(both, backend=REF)(*args)
    assert_same(sg.jit(both)(*args), expected, **tolerance)


# -- specific gradient semantics -------------------------------------------------------------
def test_max_splits_gradient_among_ties():
    x = np.array([[1.0, 3.0, 3.0], [2.0, 0.0, 2.0]])
    assert_same(sg.grad(lambda x: np.max(x), backend=REF)(x),
                np.array([[0, 0.5, 0.5], [0, 0, 0]]))
    assert_same(sg.grad(lambda x: np.sum(np.min(x, axis=1)), backend=REF)(x),
                np.array([[1.0, 0, 0], [0, 1, 0]]))


def test_relu_gradient_is_a_step():
    x = np.array([-2.0, -0.5, 0.0, 0.5, 3.0])
    # np.maximum splits the tie at 0 (as jnp.maximum); ops.relu (nn.ReLU) gives 0 (PyTorch)
    assert_same(sg.grad(lambda x: np.sum(np.maximum(x, 0)), backend=REF)(x),
                np.array([0.0, 0.0, 0.5, 1.0, 1.0]))
    assert_same(sg.grad(lambda x: np.sum(sg.ops.relu(x)), backend=REF)(x),
                np.array([0.0, 0.0, 0.0, 1.0, 1.0]))


@pytest.mark.parametrize("select", [np.maximum, np.minimum])
def test_maximum_and_minimum_split_a_tie_between_the_operands(select):
    x, y = np.array([1.0, 2.0, 3.0]), np.array([3.0, 2.0, 1.0])
    dx, dy = sg.grad(lambda x, y: np.sum(select(x, y)), argnums=(0, 1), backend=REF)(x, y)
    assert_same(dx + dy, np.ones(3))          # moving x and y together moves the output 1:1
    assert dx[1] == dy[1] == 0.5               # as JAX and torch.maximum


def test_comparisons_give_booleans_without_gradient():
    x, y = np.array([1.0, 2.0, 3.0]), np.array([2.0, 2.0, 2.0])
    out = sg.jit(lambda x, y: (x < y, x <= y, x > y, x >= y, x == y, x != y), backend=REF)(x, y)
    assert_same(out, (x < y, x <= y, x > y, x >= y, x == y, x != y))
    # a mask built from x does not depend on x: only the selected values carry gradient
    assert_same(sg.grad(lambda x: np.sum(np.where(x > 1.5, x, 0.0) * (x < 2.5)), backend=REF)(x),
                np.array([0.0, 1.0, 0.0]))


def test_astype_gradient_comes_back_in_the_argument_dtype():
    x64 = np.array([1.0, 2.0, 3.0])
    assert_same(sg.grad(lambda x: np.sum(x.astype(np.float32)), backend=REF)(x64), np.ones(3))
    x32 = x64.astype(np.float32)
    assert_same(sg.grad(lambda x: np.sum(x.astype(np.float64) ** 2), backend=REF)(x32), 2 * x32)
    # an integer cast cuts the gradient (the result is piecewise constant)
    assert_same(sg.grad(lambda x: np.sum(x * x.astype(np.int64)), backend=REF)(x64 + 0.5),
                np.array([1.0, 2.0, 3.0]))


def test_setitem_on_an_argument_differentiates_both_operands():
    a, v = np.arange(12.0).reshape(3, 4), np.array([1.0, 2.0, 3.0, 4.0])

    def loss(a, v):
        a[:2] = v
        return np.sum(a * a)

    da, dv = sg.grad(loss, argnums=(0, 1), backend=REF)(a.copy(), v)
    assert_same(da, np.concatenate([np.zeros((2, 4)), 2 * a[2:]]))   # overwritten rows: 0
    assert_same(dv, 2 * 2 * v)                                     # v landed in two rows
    assert_same(a, np.arange(12.0).reshape(3, 4))                  # caller's array untouched


# -- dtype rules match numpy -----------------------------------------------------------------
F32 = np.arange(1, 7, dtype=np.float32).reshape(2, 3)
F64 = F32.astype(np.float64)
I64 = np.arange(1, 7, dtype=np.int64).reshape(2, 3)
I32 = I64.astype(np.int32)

DTYPE_RULES = [
    ("f32 * 2.0 stays f32", lambda x: x * 2.0, F32),
    ("2 * f32 stays f32", lambda x: 2 * x, F32),
    ("f32 / 2 stays f32", lambda x: x / 2, F32),
    ("f32 ** 2 stays f32", lambda x: x ** 2, F32),
    ("f32 + f64 array is f64", lambda x: x + np.ones(3), F32),
    ("f32 + f32 array is f32", lambda x: x + np.ones(3, np.float32), F32),
    ("f32 * np.float64 scalar is f64 (NEP 50)", lambda x: x * np.float64(2.0), F32),
    ("f64 * np.float32 scalar is f64", lambda x: x * np.float32(2.0), F64),
    ("sum of f32 is f32", np.sum, F32),
    ("mean of f32 is f32", lambda x: x.mean(axis=0), F32),
    ("exp of f32 is f32", np.exp, F32),
    ("max(f32, 0) is f32", lambda x: np.maximum(x, 0), F32),
    ("where of f32 and 0.0 is f32", lambda x: np.where(x > 2, x, 0.0), F32),
    ("f32 @ f32 is f32", lambda x: x @ x.T, F32),
    ("int / int is f64", lambda x: x / 2, I64),
    ("int32 / int is f64", lambda x: x / x, I32),
    ("int * 2 stays int", lambda x: x * 2, I64),
    ("int32 * 2 stays int32", lambda x: x * 2, I32),
    ("int * 2.0 is f64", lambda x: x * 2.0, I64),
    ("int32 + f32 array is f64", lambda x: x + np.ones(3, np.float32), I32),
    ("sum of int32 is int64", np.sum, I32),
    ("mean of int is f64", np.mean, I64),
    ("sqrt of int is f64", np.sqrt, I64),
    ("int ** 2 stays int", lambda x: x ** 2, I64),
    ("int @ int stays int", lambda x: x @ x.T, I64),
    ("int comparison is bool", lambda x: x > 2, I64),
    ("int astype f32", lambda x: x.astype(np.float32), I64),
    ("concatenate int and f32 is f64", lambda x: np.concatenate([x, F32]), I64),
    ("max of int stays int", lambda x: np.max(x, axis=1), I32),
]


@pytest.mark.parametrize("fn, x", [pytest.param(fn, x, id=name) for name, fn, x in DTYPE_RULES])
def test_dtype_rules_follow_numpy(fn, x):
    expected = np.asarray(fn(x))
    assert_same(sg.jit(fn, backend=REF)(x), expected)
    assert sg.trace(fn, x)[sg.trace(fn, x).outputs[0]]["dtype"] == expected.dtype.name


@pytest.mark.numba
@pytest.mark.parametrize("fn, x", [pytest.param(fn, x, id=name) for name, fn, x in DTYPE_RULES
                                   if name in ("f32 * 2.0 stays f32", "int / int is f64",
                                               "sum of int32 is int64", "int @ int stays int")])
def test_dtype_rules_compiled(fn, x):
    assert_same(sg.jit(fn)(x), sg.jit(fn, backend=REF)(x))


# -- broadcasting and reductions with hypothesis (reference backend) ------------------------
BINARY = {"add": np.add, "subtract": np.subtract, "multiply": np.multiply,
          "divide": np.divide, "power": np.power, "maximum": np.maximum, "minimum": np.minimum}


@pytest.mark.parametrize("name", list(BINARY))
@settings(max_examples=12, deadline=None)
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3))
def test_binary_ops_broadcast_like_numpy(name, shapes):
    op = BINARY[name]
    x, y = uniform(shapes.input_shapes[0], seed=7), uniform(shapes.input_shapes[1], seed=8)
    out = sg.jit(op, backend=REF)(x, y)
    assert_same(out, op(x, y))
    # the gradient is summed back to each operand's own shape
    dx, dy = sg.grad(lambda x, y: np.sum(op(x, y)), argnums=(0, 1), backend=REF)(x, y)
    assert dx.shape == x.shape and dy.shape == y.shape
    sg.check_grad(lambda x, y: op(x, y), x, y, order=1, backend=REF)


REDUCTIONS = {"sum": np.sum, "mean": np.mean, "max": np.max, "min": np.min, "prod": np.prod}


@pytest.mark.parametrize("name", list(REDUCTIONS))
@settings(max_examples=12, deadline=None)
@given(data=st.data())
def test_reductions_over_any_axes_like_numpy(name, data):
    shape = data.draw(array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3))
    ndim = len(shape)
    axis = data.draw(st.one_of(
        st.none(), st.integers(-ndim, ndim - 1),
        st.lists(st.integers(0, ndim - 1), unique=True, min_size=1).map(
            lambda axes: tuple(a - ndim if i % 2 else a for i, a in enumerate(axes)))))
    keepdims = data.draw(st.booleans())
    x = uniform(shape, seed=9)
    reduce = REDUCTIONS[name]

    def f(x):
        return reduce(x, axis=axis, keepdims=keepdims)

    assert_same(sg.jit(f, backend=REF)(x), f(x))
    sg.check_grad(f, x, order=1, backend=REF)
