"""Activation functions with PyTorch's formulas, arguments and ``grad_fn`` names: ``gelu``
(exact, or ``approximate='tanh'``), ``leaky_relu``, ``elu``, ``silu``, ``softplus``,
``hardtanh``, ``relu6``, ``mish``.

Each is one recorded node computed by symgrad ops (its gradient of any order is derived);
branches that are not taken are kept finite (``expm1`` of large x, ``exp`` above softplus'
threshold), so their zero gradient stays zero instead of ``0 * inf``.

>>> import symgrad as torch
>>> from symgrad.nn import functional as F
>>> [round(v, 4) for v in F.gelu(torch.tensor([-1.0, 0.0, 1.0])).tolist()]
[-0.1587, 0.0, 0.8413]
"""
import math

import symgrad.core.ops as ops
from symgrad.eager.tensor import Tensor, apply

SQRT_HALF = math.sqrt(0.5)
SQRT_TWO_OVER_PI = math.sqrt(2 / math.pi)


def _check_tensor(input, function):
    if not isinstance(input, Tensor):
        raise TypeError(f"{function}(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")


def gelu_of(x, approximate):
    if approximate == "tanh":
        inner = ops.multiply(SQRT_TWO_OVER_PI, ops.add(x, ops.multiply(0.044715, x * x * x)))
        return ops.multiply(ops.multiply(0.5, x), ops.add(1.0, ops.tanh(inner)))
    return ops.multiply(ops.multiply(0.5, x), ops.add(1.0, ops.erf(ops.multiply(x, SQRT_HALF))))


def gelu(input, approximate="none"):
    """``x * Φ(x)`` (Φ the standard normal CDF), or its tanh approximation."""
    _check_tensor(input, "gelu")
    if approximate not in ("none", "tanh"):
        raise RuntimeError(f"approximate argument must be either none or tanh, got "
                           f"{approximate!r}")
    return apply("GeluBackward0", gelu_of, input, approximate=approximate)


def leaky_relu_of(x, negative_slope):
    return ops.where(ops.greater(x, 0), x, ops.multiply(x, negative_slope))


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """``x`` where positive, ``negative_slope * x`` elsewhere."""
    _check_tensor(input, "leaky_relu")
    return apply("LeakyReluBackward0", leaky_relu_of, input, negative_slope=float(negative_slope))


def elu_of(x, alpha):
    below = ops.multiply(alpha, ops.expm1(ops.minimum(x, 0.0)))
    return ops.where(ops.greater(x, 0), x, below)


def elu(input, alpha=1.0, inplace=False):
    """``x`` where positive, ``alpha * (exp(x) - 1)`` elsewhere."""
    _check_tensor(input, "elu")
    return apply("EluBackward0", elu_of, input, alpha=float(alpha))


def silu_of(x):
    return ops.multiply(x, ops.sigmoid(x))


def silu(input, inplace=False):
    """``x * sigmoid(x)`` (swish)."""
    _check_tensor(input, "silu")
    return apply("SiluBackward0", silu_of, input)


def softplus_of(x, beta, threshold):
    scaled = ops.multiply(x, beta)
    smooth = ops.true_divide(ops.log1p(ops.exp(ops.minimum(scaled, threshold))), beta)
    return ops.where(ops.greater(scaled, threshold), x, smooth)


def softplus(input, beta=1.0, threshold=20.0):
    """``log(1 + exp(beta x)) / beta``, and ``x`` itself where ``beta x > threshold``."""
    _check_tensor(input, "softplus")
    return apply("SoftplusBackward0", softplus_of, input, beta=float(beta),
                 threshold=float(threshold))


def hardtanh_of(x, min_val, max_val):
    """``x`` clamped to [min_val, max_val]; the gradient flows strictly inside (PyTorch's)."""
    return ops.where(ops.less_equal(x, min_val), min_val,
                     ops.where(ops.greater_equal(x, max_val), max_val, x))


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    _check_tensor(input, "hardtanh")
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return apply("HardtanhBackward0", hardtanh_of, input, min_val=float(min_val),
                 max_val=float(max_val))


def relu6(input, inplace=False):
    """``min(max(x, 0), 6)``."""
    _check_tensor(input, "relu6")
    return apply("HardtanhBackward0", hardtanh_of, input, min_val=0.0, max_val=6.0)


def mish_of(x):
    return ops.multiply(x, ops.tanh(softplus_of(x, 1.0, 20.0)))


def mish(input, inplace=False):
    """``x * tanh(softplus(x))``."""
    _check_tensor(input, "mish")
    return apply("MishBackward0", mish_of, input)
