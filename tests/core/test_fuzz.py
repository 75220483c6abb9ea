"""A differential fuzzer: random numpy programs made of the op registry's ops, run by numpy,
by the reference interpreter (``backend="reference"``) and compiled (numba). The compiled
gradients (to second order on every SECOND_ORDER_EVERY-th program) must equal the
reference interpreter's, and those central differences (``sg.check_grad``): one compile a
program, values and gradients together.

A program is Python source over numpy (``v3 = np.sum(v1 * x0, axis=(0,), keepdims=True)``),
grown one op at a time on example inputs: an op joins only when numpy runs it and its
value stays finite and moderate, and a non-smooth op (abs, comparisons, max...) only away
from its kinks, so central differences are a fair oracle. Operands broadcast against new
inputs, earlier values, Python scalars and captured constants (some of them strided views);
inputs reach the compiled code in several layouts. A failure prints the program: a
reproducer to paste.

``pytest tests/core/test_fuzz.py --fuzz-count 500`` runs more programs (the first ones are
always the default run's); every program's seed is (FUZZ_SEED, its number).
"""
import math
import re
import textwrap

import numpy as np

import symgrad as sg
from symgrad.core.ops.registry import OPS

FUZZ_SEED = 15
SECOND_ORDER_EVERY = 5
FLOAT32_EVERY = 5            # every 5th program runs in float32 (no central differences)
MAX_INPUTS = 4
MAX_SIZE = 24                # elements of an input
KINK = 1e-3                  # how far a non-smooth op's operands stay from its kinks
LARGEST = 1e3                # how large a value may grow

# Ops the fuzzer does not generate, and why.
NOT_FUZZED = {
    "input": "every program's arguments",
    **dict.fromkeys(("real", "imag", "conj", "fft"),
                    "complex values (the fuzzer's programs are real): tests/core/test_complex.py, "
                    "op table case complex_parts_and_fft"),
    **dict.fromkeys(("scan", "while", "switch", "result"),
                    "control flow with traced bodies: tests/core/test_control_flow.py, op table cases"),
    "constant": "made by every Python scalar and captured array",
    "custom_vjp": "user-written VJP rules: tests/test_ops.py, tests/test_api.py",
    "stop_gradient": "a gradient of 0 by design (numeric gradients disagree): tests/test_ops.py, "
                     "tests/test_custom_rules.py",
    "remat_barrier": "sg.checkpoint's backward only: tests/test_ops.py, tests/test_checkpoint.py",
    **dict.fromkeys(["conv2d", "conv2d_input_grad", "conv2d_weight_grad", "max_pool2d",
                     "max_pool2d_grad", "max_pool2d_gather", "avg_pool2d", "avg_pool2d_grad"],
                    "convolution and pooling: tests/test_conv.py"),
    **dict.fromkeys(["erfc", "gammaln", "gamma", "polygamma", "i0", "i1", "erfinv", "erfcinv",
                     "gammainc", "gammaincc"],
                    "scipy.special's functions (templates name scipy, poles at 0, -1, ...): "
                    "tests/core/test_special.py"),
    **dict.fromkeys(["solve", "slogdet", "cholesky", "eigh", "svd", "pinv"],
                    "LAPACK (needs well-conditioned, some symmetric, matrices): "
                    "tests/core/test_linalg.py"),
    **dict.fromkeys(["bitwise_and", "bitwise_or", "bitwise_xor", "invert", "logical_and",
                     "logical_or", "logical_xor", "logical_not"],
                    "booleans and integers only: the 'logical' case of tests/core/op_cases_math.py"),
    "random_uniform": "random numbers of a key, no gradient: tests/core/op_cases_layers.py",
}


class Rejected(Exception):
    """This op cannot join the program here (numpy refuses it, or a value would be unfit)."""


class Program:
    """A program being grown: its inputs, captured constants and body lines, with the
    value every name has on the example inputs."""

    def __init__(self, rng, dtype):
        self.rng, self.dtype = rng, np.dtype(dtype)
        self.inputs, self.constants, self.lines = [], {}, []
        self.values = {}           # name -> example value (numpy)
        self.derived = []          # names computed from the inputs (operands of new ops)
        self.unused = []           # computed values no later line reads: the outputs

    # -- the program as source --------------------------------------------------------------
    def source(self, outputs):
        names = [f"x{k}" for k in range(len(self.inputs))]
        body = self.lines + [f"return {', '.join(outputs)},"]
        return f"def program({', '.join(names)}):\n" + textwrap.indent("\n".join(body), "    ")

    def function(self, outputs):
        namespace = {"np": np, "sg": sg, **self.constants}
        exec(compile(self.source(outputs), "<fuzzed program>", "exec"), namespace)
        return namespace["program"]

    def reproducer(self, outputs):
        constants = "".join(f"{name} = np.array({value.tolist()!r})  # strides {value.strides}\n"
                            for name, value in self.constants.items())
        inputs = "".join(f"x{k} = np.array({x.tolist()!r}, np.{x.dtype})\n"
                         for k, x in enumerate(self.inputs))
        return f"import numpy as np, symgrad as sg\n{constants}{inputs}{self.source(outputs)}"

    # -- operands -------------------------------------------------------------------------
    def new_input(self, shape):
        if len(self.inputs) >= MAX_INPUTS:
            raise Rejected("no more inputs")
        name = f"x{len(self.inputs)}"
        value = self.rng.uniform(0.3, 1.5, shape) * self.rng.choice([-1, 1], shape)
        self.inputs.append(value.astype(self.dtype))
        self.values[name] = self.inputs[-1]
        self.derived.append(name)
        return name

    def new_constant(self, shape):
        """A captured array, as a closure would hold it: C-ordered, F-ordered or a strided
        view of a larger array."""
        name = f"C{len(self.constants)}"
        layout = self.rng.integers(3)
        value = self.rng.uniform(-1.5, 1.5, shape[::-1] if layout == 1 else (*shape, 2))
        value = value.T if layout == 1 else value[..., 0] if layout == 2 else value[..., 1].copy()
        self.constants[name] = self.values[name] = value.astype(self.dtype)
        return name

    def pick(self, predicate=lambda value: True):
        """An earlier value (name) satisfying ``predicate``: mostly the latest one, so
        programs are chains more than lists of independent ops."""
        names = [n for n in self.derived if predicate(self.values[n])]
        if not names:
            raise Rejected("no operand fits")
        return names[-1] if self.rng.random() < 0.6 else names[self.rng.integers(len(names))]

    def partner(self, shape):
        """A second operand for an elementwise op on ``shape``: an earlier value, a new
        input, a captured constant or a Python scalar, broadcasting as numpy does."""
        choice = self.rng.integers(4)
        if choice == 0:
            return self.pick(lambda v: broadcasts(v.shape, shape))
        if choice == 3:
            return repr(round(float(self.rng.uniform(-2, 2)), 2))
        variant = broadcast_variant(self.rng, shape)
        return self.new_input(variant) if choice == 1 else self.new_constant(variant)

    def value(self, text):
        return eval(text, {"np": np, "sg": sg}, self.values)

    # -- growing -------------------------------------------------------------------------
    def emit(self, expression, setup=()):
        """Add ``name = expression`` (after the ``setup`` lines) if numpy runs it and the
        value is fit: finite, moderate and of the program's dtype; returns the name."""
        name = f"v{len(self.lines) + 1}"
        scope = dict(self.values)
        try:
            with np.errstate(all="raise"):
                for line in setup:
                    exec(line, {"np": np, "sg": sg}, scope)
                value = np.asarray(eval(expression, {"np": np, "sg": sg}, scope))
        except (ValueError, IndexError, TypeError, FloatingPointError) as error:
            raise Rejected(str(error)) from None
        if value.dtype != self.dtype or not np.all(np.abs(value) < LARGEST):
            raise Rejected(f"unfit value of dtype {value.dtype}")
        self.lines += [*setup, f"{name} = {expression}"]
        read = set(NAME.findall(" ".join([*setup, expression])))
        self.unused = [n for n in self.unused if n not in read] + [name]
        self.values[name] = value
        self.derived.append(name)
        return name


NAME = re.compile(r"\b[vxuC]\d+\b")


def broadcasts(shape, onto):
    """Whether ``shape`` broadcasts onto ``onto`` without growing it."""
    try:
        return np.broadcast_shapes(shape, onto) == tuple(onto)
    except ValueError:
        return False


def broadcast_variant(rng, shape):
    """``shape`` with some leading axes dropped and some axes set to 1."""
    kept = shape[rng.integers(len(shape) + 1):] if shape and rng.random() < 0.4 else shape
    return tuple(1 if rng.random() < 0.3 else d for d in kept)


def random_shape(rng):
    """0 to 3 axes of 1 to 3 (rarely an empty axis), at most MAX_SIZE elements."""
    shape = tuple(int(d) for d in rng.integers(1, 4, rng.choice([0, 1, 2, 2, 3, 3])))
    if shape and rng.random() < 0.05:
        shape = shape[:-1] + (0,)
    while math.prod(shape) > MAX_SIZE:
        shape = shape[1:]
    return shape


def random_axes(rng, ndim):
    """``axis=``: None, one axis (maybe negative) or a tuple of distinct axes."""
    choice = rng.integers(3) if ndim else 0
    if choice == 0:
        return None
    if choice == 1:
        axis = int(rng.integers(ndim))
        return axis - ndim if rng.random() < 0.5 else axis
    return tuple(int(a) for a in rng.choice(ndim, int(rng.integers(1, ndim + 1)), replace=False))


def away_from_zero(values, kink=KINK):
    values = np.asarray(values)
    if values.size and np.min(np.abs(values)) < kink:
        raise Rejected("too close to a kink")


# -- one generator per op: (program, operand name) -> the new value's name ---------------------
def unary(template, domain=None):
    """``template`` on the operand; ``domain(value)`` False: on ``(v * v + 0.5)`` instead."""
    def generate(program, v):
        if domain is not None and not domain(program.values[v]):
            v = f"({v} * {v} + 0.5)"
        return program.emit(template.format(v))
    return generate


def non_smooth_unary(template):
    def generate(program, v):
        away_from_zero(program.values[v])
        return program.emit(template.format(v))
    return generate


def binary(template, smooth=True):
    def generate(program, v):
        w = program.partner(program.values[v].shape)
        if not smooth:
            away_from_zero(program.value(f"{v} - {w}"))
        return program.emit(template.format(v, w))
    return generate


def divide(program, v):
    w = program.partner(program.values[v].shape)
    away_from_zero(program.value(w), 0.3)
    return program.emit(f"{v} / {w}")


def power(program, v):
    if np.all(program.values[v] > 0.3):
        return program.emit(f"{v} ** {program.partner(program.values[v].shape)}")
    return program.emit(f"np.power({v}, {program.rng.choice([2, 3])})")


def comparison(operator):
    """A comparison feeds a selection (np.where) or a cast to float (bool * value)."""
    def generate(program, v):
        w = program.partner(program.values[v].shape)
        away_from_zero(program.value(f"{v} - {w}"))
        if program.rng.random() < 0.5:
            otherwise = program.partner(program.values[v].shape)
            return program.emit(f"np.where({v} {operator} {w}, {v}, {otherwise})")
        return program.emit(f"({v} {operator} {w}) * {v}")
    return generate


def where(program, v):
    away_from_zero(program.values[v])
    return program.emit(f"np.where({v} > 0, {program.partner(program.values[v].shape)}, {v} * 2.0)")


def cast(program, v):
    """float32 programs: through float64 and back; float64 ones: a bool to float cast."""
    if program.dtype == np.float32:
        return program.emit(f"({v}.astype(np.float64) * 2).astype(np.float32)")
    away_from_zero(program.values[v])
    return program.emit(f"({v} > 0).astype(np.float64) + {v}")


def reduction(*functions, smooth=True):
    """One of ``functions`` (numpy's names) over random axes, as a function or a method."""
    def generate(program, v):
        x, rng = program.values[v], program.rng
        axes, keepdims = random_axes(rng, x.ndim), bool(rng.integers(2))
        if not smooth:
            away_from_ties(x, axes)
        function = functions[rng.integers(len(functions))]
        if rng.random() < 0.5:
            return program.emit(f"{v}.{function}(axis={axes!r}, keepdims={keepdims})")
        return program.emit(f"np.{function}({v}, axis={axes!r}, keepdims={keepdims})")
    return generate


def away_from_ties(x, axes):
    """The two largest (and the two smallest) elements of every reduced group differ."""
    if x.ndim == 0 or x.size == 0:
        return
    axes = range(x.ndim) if axes is None else np.atleast_1d(axes) % x.ndim
    reduced = np.moveaxis(x, list(axes), list(range(-len(axes), 0)))
    groups = np.sort(reduced.reshape(reduced.shape[:x.ndim - len(axes)] + (-1,)), axis=-1)
    if groups.shape[-1] > 1 and min(np.min(groups[..., 1] - groups[..., 0]),
                                    np.min(groups[..., -1] - groups[..., -2])) < KINK:
        raise Rejected("ties in a max/min reduction")


def reshape(program, v):
    x = program.values[v]
    rng = program.rng
    if rng.random() < 0.3 and x.ndim:
        return program.emit(f"np.expand_dims({v}, {int(rng.integers(-x.ndim - 1, x.ndim + 1))})")
    if rng.random() < 0.3 and 1 in x.shape:
        return program.emit(f"np.squeeze({v})")
    shape = factorization(rng, x.size)
    if shape and x.size and rng.random() < 0.4:
        shape[rng.integers(len(shape))] = -1
    return program.emit(f"{v}.reshape({tuple(shape)!r})")


def factorization(rng, size):
    """A random shape of ``size`` elements: 1 to 3 axes (or none for one element)."""
    axes = int(rng.integers(0 if size == 1 else 1, 4))
    shape, rest = [], size
    for _ in range(axes - 1):
        divisors = [d for d in range(1, rest + 1) if rest % d == 0] if rest else [0, 1, 2]
        shape.append(int(rng.choice(divisors)))
        rest = rest // shape[-1] if shape[-1] else 0
    return shape + [rest] if axes else shape


def transpose(program, v):
    x = program.values[v]
    if x.ndim < 2:
        raise Rejected("nothing to transpose")
    form = program.rng.integers(3)
    if form == 0:
        return program.emit(f"{v}.T")
    if form == 1:
        i, j = program.rng.choice(x.ndim, 2, replace=False)
        return program.emit(f"np.swapaxes({v}, {int(i)}, {int(j) - x.ndim})")
    axes = tuple(int(a) for a in program.rng.permutation(x.ndim))
    return program.emit(f"np.transpose({v}, {axes!r})")


def broadcast_to(program, v):
    x = program.values[v]
    shape = tuple(int(program.rng.integers(1, 3)) if d == 1 else d for d in x.shape)
    shape = (int(program.rng.integers(1, 3)),) * int(program.rng.integers(2)) + shape
    return program.emit(f"np.broadcast_to({v}, {shape!r})")


def basic_index(rng, shape):
    """Text of a basic index: an int (maybe negative) or a slice per leading axis."""
    parts = []
    for extent in shape[:int(rng.integers(1, len(shape) + 1))]:
        if rng.random() < 0.3 and extent:
            index = int(rng.integers(extent))
            parts.append(str(index - extent if rng.random() < 0.5 else index))
        else:
            step = int(rng.choice([1, 1, 2, -1]))
            start = int(rng.integers(extent)) if extent and rng.random() < 0.4 else None
            parts.append(f"{'' if start is None else start}::{step}")
    return ", ".join(parts)


def getitem(program, v):
    x = program.values[v]
    if not x.ndim:
        raise Rejected("a 0-d value has no axes to index")
    return program.emit(f"{v}[{basic_index(program.rng, x.shape)}]")


def setitem(program, v):
    """``u = v * 1.0; u[index] = w``: a functional update of a copy."""
    x = program.values[v]
    if not x.ndim:
        raise Rejected("a 0-d value has no axes to index")
    index = basic_index(program.rng, x.shape)
    value = program.partner(program.value(f"{v}[{index}]").shape)
    copy = f"u{len(program.lines) + 1}"
    return program.emit(copy, setup=[f"{copy} = {v} * 1.0", f"{copy}[{index}] = {value}"])


def gather(program, v):
    """An integer-array index (repeats and negatives) along a random axis: a gather."""
    x, rng = program.values[v], program.rng
    if not x.ndim or not x.shape[-1]:
        raise Rejected("no axis to index")
    axis = int(rng.integers(x.ndim))
    picks = [int(i) for i in rng.integers(-x.shape[axis], x.shape[axis], int(rng.integers(1, 4)))]
    return program.emit(f"{v}[{', '.join([':'] * axis + [str(picks)])}]")


def scatter_add(program, v):
    """``np.add.at`` of a new operand at repeated rows of a copy."""
    x, rng = program.values[v], program.rng
    if not x.ndim or not x.shape[0]:
        raise Rejected("no rows to add at")
    rows = [int(i) for i in rng.integers(0, x.shape[0], int(rng.integers(1, 4)))]
    value = program.partner((len(rows),) + x.shape[1:])
    copy = f"u{len(program.lines) + 1}"
    return program.emit(copy, setup=[f"{copy} = {v} * 1.0", f"np.add.at({copy}, {rows}, {value})"])


def sorting(template):
    """``template`` (an argsort, argmax or argmin along ``{axis}``) without ties there."""
    def generate(program, v):
        x = program.values[v]
        if not x.ndim or not x.size:
            raise Rejected("nothing to sort")
        axis = int(program.rng.integers(x.ndim))
        groups = np.sort(np.moveaxis(x, axis, -1), axis=-1)
        if x.shape[axis] > 1 and np.min(np.diff(groups, axis=-1)) < KINK:
            raise Rejected("ties along the sorted axis")
        return program.emit(template.format(v=v, axis=axis))
    return generate


def concatenate(program, v):
    """``np.concatenate`` with itself or a new input, or ``np.stack`` (a concatenate of
    expanded values)."""
    x, rng = program.values[v], program.rng
    if not x.ndim:
        raise Rejected("a 0-d value cannot be concatenated")
    if rng.random() < 0.3:
        axis = int(rng.integers(-x.ndim - 1, x.ndim + 1))
        return program.emit(f"np.stack([{v}, {v} * 2.0], axis={axis})")
    axis = int(rng.integers(-x.ndim, x.ndim))
    other = list(x.shape)
    other[axis] = int(rng.integers(1, 3))
    w = program.new_input(tuple(other)) if len(program.inputs) < MAX_INPUTS else v
    return program.emit(f"np.concatenate([{v}, {w}], axis={axis})")


def matmul(program, v):
    """``v @ w`` or ``w @ v`` with a new input ``w`` of a fitting shape: vectors, matrices
    and batches broadcast as numpy does."""
    x = program.values[v]
    if not x.ndim:
        raise Rejected("matmul needs an axis")
    rng = program.rng
    on_left = bool(rng.integers(2))
    inner = x.shape[-1] if on_left else (x.shape[-2] if x.ndim > 1 else x.shape[0])
    outer = (int(rng.integers(1, 4)),)
    batch = () if rng.random() < 0.5 else tuple(broadcast_variant(rng, x.shape[:-2]) or (2,))
    shape = ((inner,) if rng.random() < 0.3 else (*batch, inner, *outer)) if on_left else \
        ((inner,) if rng.random() < 0.3 else (*batch, *outer, inner))
    w = program.new_input(shape)
    return program.emit(f"{v} @ {w}" if on_left else f"{w} @ {v}")


def away_from_halves(values, kink=KINK):
    """Rounding's kinks: no value within ``kink`` of a multiple of 1/2."""
    doubled = 2 * np.asarray(values, np.float64)
    if doubled.size and np.min(np.abs(doubled - np.round(doubled))) < 2 * kink:
        raise Rejected("too close to a rounding kink")


def rounding(function):
    """``np.<function>(v) * v``: a piecewise constant factor, away from its jumps."""
    def generate(program, v):
        away_from_halves(program.values[v])
        return program.emit(f"np.{function}({v}) * {v}")
    return generate


def away_from_origin(template):
    """A binary function singular where its second operand is 0 (arctan2, hypot)."""
    def generate(program, v):
        w = program.partner(program.values[v].shape)
        away_from_zero(program.value(w), 0.3)
        return program.emit(template.format(v, w))
    return generate


def division_remainder(template):
    """``%``, ``fmod``, ``//``: a divisor away from 0, quotients away from integers."""
    def generate(program, v):
        w = program.partner(program.values[v].shape)
        away_from_zero(program.value(w), 0.3)
        quotient = program.value(f"{v} / {w}")
        away_from_halves(quotient, 0.01)
        return program.emit(template.format(v, w))
    return generate


def copysign(program, v):
    w = program.partner(program.values[v].shape)
    away_from_zero(program.values[v])
    away_from_zero(program.value(w))
    return program.emit(f"np.copysign({v}, {w})")


def nonfinite_test(function):
    return unary(f"np.where(np.{function}({{0}}), 0.0, {{0}})" if function != "isfinite"
                 else "np.where(np.isfinite({0}), {0}, 0.0)")


MATH_GENERATORS = {
    "tan": unary("np.tan(np.tanh({0}))"), "arcsin": unary("np.arcsin(0.9 * np.tanh({0}))"),
    "arccos": unary("np.arccos(0.9 * np.tanh({0}))"), "arctan": unary("np.arctan({0})"),
    "sinh": unary("np.sinh({0})", lambda x: np.all(np.abs(x) < 3)),
    "cosh": unary("np.cosh({0})", lambda x: np.all(np.abs(x) < 3)),
    "arcsinh": unary("np.arcsinh({0})"), "arccosh": unary("np.arccosh({0} * {0} + 1.5)"),
    "arctanh": unary("np.arctanh(0.9 * np.tanh({0}))"),
    "expm1": unary("np.expm1({0})", lambda x: np.all(x < 3)),
    "exp2": unary("np.exp2({0})", lambda x: np.all(x < 3)),
    "log2": unary("np.log2({0})", lambda x: np.all(x > 0.3)),
    "log10": unary("np.log10({0})", lambda x: np.all(x > 0.3)),
    "cbrt": unary("np.cbrt({0})", lambda x: np.all(x > 0.3)),
    "logaddexp": binary("np.logaddexp({0}, {1})"),
    "arctan2": away_from_origin("np.arctan2({0}, {1})"),
    "hypot": away_from_origin("np.hypot({0}, {1})"), "copysign": copysign,
    "floor": rounding("floor"), "ceil": rounding("ceil"), "trunc": rounding("trunc"),
    "rint": rounding("rint"),
    "remainder": division_remainder("{0} % {1}"), "fmod": division_remainder("np.fmod({0}, {1})"),
    "floor_divide": division_remainder("({0} // {1}) * {0}"),
    "isnan": nonfinite_test("isnan"), "isinf": nonfinite_test("isinf"),
    "isfinite": nonfinite_test("isfinite"),
    "erf": unary("sg.erf({0})"),
}


GENERATORS = {
    "neg": unary("-{0}"), "abs": non_smooth_unary("np.abs({0})"),
    "sign": non_smooth_unary("np.sign({0}) * {0}"), "square": unary("np.square({0})"),
    "identity": unary("{0}.copy()"),
    "all_reduce_mean": unary("sg.distributed.all_reduce_mean({0})"), "exp": unary("np.exp({0})", lambda x: np.all(x < 3)),
    "log": unary("np.log({0})", lambda x: np.all(x > 0.3)),
    "log1p": unary("np.log1p({0})", lambda x: np.all(x > -0.7)),
    "sqrt": unary("np.sqrt({0})", lambda x: np.all(x > 0.3)), "sin": unary("np.sin({0})"),
    "cos": unary("np.cos({0})"), "tanh": unary("np.tanh({0})"),
    "relu": non_smooth_unary("sg.relu({0})"), "sigmoid": unary("sg.sigmoid({0})"),
    "add": binary("{0} + {1}"), "sub": binary("{0} - {1}"), "mul": binary("{0} * {1}"),
    "maximum": binary("np.maximum({0}, {1})", smooth=False),
    "minimum": binary("np.minimum({0}, {1})", smooth=False),
    "div": divide, "pow": power,
    "lt": comparison("<"), "le": comparison("<="), "gt": comparison(">"), "ge": comparison(">="),
    "eq": comparison("=="), "ne": comparison("!="), "where": where, "cast": cast,
    "sum": reduction("sum", "mean"), "max": reduction("max", smooth=False),
    "min": reduction("min", smooth=False), "prod": reduction("prod"),
    "reshape": reshape, "transpose": transpose, "broadcast_to": broadcast_to,
    "getitem": getitem, "setitem": setitem, "concatenate": concatenate, "matmul": matmul,
    "gather": gather, "scatter_add": scatter_add, "argsort": sorting("np.sort({v}, axis={axis})"),
    "argmax": sorting("{v} * np.argmax({v}, axis={axis}, keepdims=True).astype({v}.dtype)"),
    "argmin": sorting("{v} * {v}.argmin({axis}, keepdims=True).astype({v}.dtype)"),
    **MATH_GENERATORS,
}


# How often an op is drawn, against 1 for the others: the ops with lowerings of their own
# (not one scalar template in a loop) and the ops that read operands through views.
WEIGHTS = {"matmul": 4, "sum": 2, "max": 2, "min": 2, "prod": 2, "reshape": 2, "transpose": 3,
           "broadcast_to": 2, "getitem": 2, "setitem": 2, "concatenate": 2}


def grow(seed, dtype):
    """A random program from ``seed`` (2 to 5 ops) and its outputs: every value computed
    that no later op reads."""
    rng = np.random.default_rng(seed)
    program = Program(rng, dtype)
    program.new_input(random_shape(rng))
    names = sorted(GENERATORS)
    weights = np.array([WEIGHTS.get(name, 1) for name in names], float)
    steps, attempts = int(rng.integers(2, 6)), 0
    while len(program.derived) - len(program.inputs) < steps and attempts < 200:
        attempts += 1
        op = names[rng.choice(len(names), p=weights / weights.sum())]
        try:
            GENERATORS[op](program, program.pick())
        except Rejected:
            continue
    return program, program.unused or program.derived[-1:]


# -- checking --------------------------------------------------------------------------------
def in_odd_layouts(arrays, rng):
    """The same values, some F-ordered, some negatively strided views."""
    def relaid(x):
        choice = rng.integers(3) if x.ndim >= 2 else 0
        if choice == 1:
            return np.asfortranarray(x)
        return np.flip(np.flip(x, -1).copy(), -1) if choice == 2 else x
    return [relaid(x) for x in arrays]


TOLERANCES = {np.dtype(np.float32): {"rtol": 2e-4, "atol": 1e-4},
              np.dtype(np.float64): {"rtol": 1e-9, "atol": 1e-9}}


def assert_close(ours, theirs, dtype, what):
    assert len(ours) == len(theirs), what
    for k, (mine, expected) in enumerate(zip(ours, theirs)):
        mine, where = np.asarray(mine), f"{what}, output {k}"
        assert (mine.shape, mine.dtype) == (expected.shape, expected.dtype), \
            f"{where}: {mine.dtype}{list(mine.shape)} != {expected.dtype}{list(expected.shape)}"
        np.testing.assert_allclose(mine, expected, err_msg=where, **TOLERANCES[np.dtype(dtype)])


def dtype_of(number):
    return np.float32 if number % FLOAT32_EVERY == FLOAT32_EVERY - 1 else np.float64


def with_gradients(function, inputs, outputs, rng, second_order):
    """``function``'s outputs, the gradient of their dot product with random directions
    and, if asked, the gradient of that gradient's dot product with other directions."""
    directions = [rng.standard_normal(np.shape(o)) for o in outputs]
    again = [rng.standard_normal(np.shape(x)) for x in inputs]
    everything = tuple(range(len(inputs)))

    def projection(*arrays):
        return sum(np.sum(o * d) for o, d in zip(function(*arrays), directions))

    def directional(*arrays):
        gradient = sg.grad(projection, argnums=everything)(*arrays)
        return sum(np.sum(g * d) for g, d in zip(gradient, again))

    def run(*arrays):
        second = sg.grad(directional, argnums=everything)(*arrays) if second_order else ()
        return function(*arrays), sg.grad(projection, argnums=everything)(*arrays), second
    return run


def check(program, outputs, number):
    """numpy, the reference interpreter and the compiled function agree on the values; the
    compiled gradients (to second order on a sample) agree with the reference's, and the
    reference's with central differences (sg.check_grad)."""
    function, inputs = program.function(outputs), program.inputs
    expected = [np.asarray(x) for x in function(*[x.copy() for x in inputs])]
    second_order = number % SECOND_ORDER_EVERY == 0
    run = with_gradients(function, inputs, expected, np.random.default_rng(number), second_order)
    reference = sg.jit(run, backend="reference")(*inputs)
    compiled = sg.jit(run)(*in_odd_layouts(inputs, np.random.default_rng(number)))
    assert_close(reference[0], expected, program.dtype, "reference vs numpy")
    assert_close(compiled[0], expected, program.dtype, "compiled vs numpy")
    for order in (1, 2):
        assert_close(compiled[order], reference[order], program.dtype,
                     f"compiled vs reference, order-{order} gradient")
        # the program is smooth at its inputs (and sg.check_grad passes NaN gradients)
        assert all(np.all(np.isfinite(g)) for g in reference[order]), \
            f"an order-{order} gradient is not finite: {reference[order]}"
    if program.dtype == np.float64:
        sg.check_grad(function, *inputs, order=2 if second_order else 1, backend="reference")


def pytest_generate_tests(metafunc):
    if "number" in metafunc.fixturenames:
        metafunc.parametrize("number", range(metafunc.config.getoption("fuzz_count")))


def test_fuzzed_program(number):
    program, outputs = grow((FUZZ_SEED, number), dtype_of(number))
    try:
        check(program, outputs, number)
    except Exception as error:
        raise AssertionError(f"fuzzed program {number} failed: {type(error).__name__}: {error}"
                             f"\n\nreproducer:\n{program.reproducer(outputs)}") from error


def test_the_fuzzer_generates_every_op_of_the_registry():
    assert set(GENERATORS) | set(NOT_FUZZED) == set(OPS)
    assert not set(GENERATORS) & set(NOT_FUZZED)


def test_fuzzed_programs_cover_the_registry_and_stay_fit():
    """The default run's programs use most generated ops, and every program computes what
    its source says on its inputs."""
    seen = set()
    for number in range(30):
        program, outputs = grow((FUZZ_SEED, number), dtype_of(number))
        graph = sg.trace(program.function(outputs), *program.inputs)
        seen |= {graph.op(n) for n in graph.nodes()}
        for name, value in zip(outputs, program.function(outputs)(*program.inputs)):
            np.testing.assert_array_equal(value, program.values[name])
    # 30 programs of 2 to 5 ops draw from about 70 generators: most, not all, are seen
    assert len(seen & set(GENERATORS)) >= 0.7 * len(GENERATORS), sorted(set(GENERATORS) - seen)
