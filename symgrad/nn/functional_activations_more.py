"""More activation functions with PyTorch's formulas, arguments, errors and ``grad_fn`` names:
``selu``, ``celu``, ``hardswish``, ``hardsigmoid``, ``logsigmoid``, ``softsign``,
``tanhshrink``, ``softshrink``, ``hardshrink``, ``threshold``, ``prelu``, ``rrelu``,
``glu``, ``softmin``.

Each is one recorded node computed by symgrad ops, so its gradient of any order is derived,
eagerly and when sg.train replays the tape with tracers.

>>> import symgrad as torch
>>> from symgrad.nn import functional as F
>>> F.hardswish(torch.tensor([-4.0, 0.0, 3.0, 4.0])).tolist()
[-0.0, 0.0, 3.0, 4.0]
"""
import numpy as np

import symgrad.core.ops as ops
from symgrad.core.ops.random import random_uniform
from symgrad.eager.sampling import default_generator
from symgrad.eager.softmax import softmax_dim, softmax_of
from symgrad.eager.tensor import Tensor, apply
from symgrad.nn.functional_activations import _check_tensor, elu_of, hardtanh_of, leaky_relu_of

TORCH_DTYPE_NAMES = {"float16": "Half", "float32": "Float", "float64": "Double"}
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


# -- module-level functions the tape replays ---------------------------------------------------
def selu_of(x):
    return ops.multiply(SELU_SCALE, elu_of(x, SELU_ALPHA))


def celu_of(x, alpha):
    below = ops.multiply(alpha, ops.expm1(ops.true_divide(ops.minimum(x, 0.0), alpha)))
    return ops.where(ops.greater(x, 0), x, below)


def hardsigmoid_of(x):
    return ops.true_divide(hardtanh_of(ops.add(x, 3.0), 0.0, 6.0), 6.0)


def hardswish_of(x):
    return ops.multiply(x, hardsigmoid_of(x))


def logsigmoid_of(x):
    """``min(x, 0) - log1p(exp(-|x|))``: finite for large ``|x|``."""
    return ops.subtract(ops.minimum(x, 0.0), ops.log1p(ops.exp(ops.negative(ops.absolute(x)))))


def softsign_of(x):
    return ops.true_divide(x, ops.add(ops.absolute(x), 1.0))


def tanhshrink_of(x):
    return ops.subtract(x, ops.tanh(x))


def softshrink_of(x, lambd):
    return ops.where(ops.greater(x, lambd), ops.subtract(x, lambd),
                     ops.where(ops.less(x, -lambd), ops.add(x, lambd), 0.0))


def hardshrink_of(x, lambd):
    return ops.where(ops.greater(ops.absolute(x), lambd), x, 0.0)


def threshold_of(x, threshold, value):
    return ops.where(ops.greater(x, threshold), x, value)


def prelu_of(x, weight):
    """``x`` where positive, ``weight * x`` elsewhere; ``weight`` along dim 1 (the channels)."""
    if x.ndim >= 2:
        weight = ops.reshape(weight, (-1,) + (1,) * (x.ndim - 2))
    return ops.where(ops.greater(x, 0), x, ops.multiply(weight, x))


def rrelu_of(x, key, lower, upper):
    """Negative elements scaled by slopes drawn uniformly from [lower, upper)."""
    slope = ops.add(lower, ops.multiply(upper - lower, random_uniform(key, x.shape, x.dtype)))
    return ops.where(ops.greater_equal(x, 0), x, ops.multiply(x, slope))


def glu_of(x, axis):
    half = x.shape[axis] // 2
    first, second = ops.split(x, [half], axis)
    return ops.multiply(first, ops.sigmoid(second))


# -- the functions -----------------------------------------------------------------------------
def selu(input, inplace=False):
    """``scale * elu(x, alpha)`` with the self-normalizing constants."""
    _check_tensor(input, "selu")
    return apply("EluBackward0", selu_of, input)


def celu(input, alpha=1.0, inplace=False):
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``."""
    _check_tensor(input, "celu")
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: alpha cannot be 0 for CELU")
    return apply("CeluBackward0", celu_of, input, alpha=float(alpha))


def hardsigmoid(input, inplace=False):
    """``relu6(x + 3) / 6``."""
    _check_tensor(input, "hardsigmoid")
    return apply("HardsigmoidBackward0", hardsigmoid_of, input)


def hardswish(input, inplace=False):
    """``x * relu6(x + 3) / 6``."""
    _check_tensor(input, "hardswish")
    return apply("HardswishBackward0", hardswish_of, input)


def logsigmoid(input):
    """``log(sigmoid(x))``, stable for large ``|x|``."""
    _check_tensor(input, "log_sigmoid")
    return apply("LogSigmoidBackward0", logsigmoid_of, input)


def softsign(input):
    """``x / (1 + |x|)``."""
    _check_tensor(input, "softsign")
    return apply("DivBackward0", softsign_of, input)


def tanhshrink(input):
    """``x - tanh(x)``."""
    _check_tensor(input, "tanhshrink")
    return apply("SubBackward0", tanhshrink_of, input)


def _check_lambda(lambd, input):
    if lambd < 0:
        dtype = np.dtype(input.dtype)
        raise RuntimeError(f"lambda must be in range [0, {np.finfo(dtype).max:g}] for input "
                           f"dtype {TORCH_DTYPE_NAMES.get(dtype.name, dtype.name)}, but found "
                           f"{lambd:g}")
    return float(lambd)


def softshrink(input, lambd=0.5):
    """``x - lambd`` above ``lambd``, ``x + lambd`` below ``-lambd``, 0 between."""
    _check_tensor(input, "softshrink")
    return apply("SoftshrinkBackward0", softshrink_of, input, lambd=_check_lambda(lambd, input))


def hardshrink(input, lambd=0.5):
    """``x`` where ``|x| > lambd``, else 0."""
    _check_tensor(input, "hardshrink")
    return apply("HardshrinkBackward0", hardshrink_of, input, lambd=_check_lambda(lambd, input))


def threshold(input, threshold, value, inplace=False):
    """``x`` where ``x > threshold``, else ``value``."""
    _check_tensor(input, "threshold")
    return apply("ThresholdBackward0", threshold_of, input, threshold=float(threshold),
                 value=float(value))


def prelu(input, weight):
    """``x`` where positive, ``weight * x`` elsewhere; ``weight`` has 1 element or one per
    channel (dim 1 of the input)."""
    _check_tensor(input, "prelu")
    _check_tensor(weight, "prelu")
    count = weight.numel()
    channels = input.shape[1] if input.dim() >= 2 else 1
    if weight.dim() > 1 or count not in (1, channels):
        raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found "
                           f"parameter numbers = {count} and channel size = {channels}.")
    return apply("PreluKernelBackward0", prelu_of, input, weight)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """Leaky ReLU with random negative slopes in [lower, upper) in training, their mean
    ``(lower + upper) / 2`` otherwise."""
    _check_tensor(input, "rrelu")
    if lower > upper:
        raise RuntimeError("Lower bound should be less than or equal to the upper bound")
    if not training:
        return apply("RreluWithNoiseBackward0", leaky_relu_of, input,
                     negative_slope=(lower + upper) / 2)
    key = Tensor(default_generator.counter_stream.next_key())
    return apply("RreluWithNoiseBackward0", rrelu_of, input, key, lower=float(lower),
                 upper=float(upper))


def glu(input, dim=-1):
    """``a * sigmoid(b)`` of the two halves ``a``, ``b`` of ``input`` along ``dim``."""
    _check_tensor(input, "glu")
    if input.dim() == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    axis = softmax_dim(input, dim, "glu")
    if input.shape[axis] % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {axis} is size "
                           f"{input.shape[axis]}")
    return apply("GluBackward0", glu_of, input, axis=axis)


def softmin_of(x, axis):
    return softmax_of(ops.negative(x), axis)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """``softmax(-x, dim)``."""
    _check_tensor(input, "softmin")
    if dtype is not None:
        input = input.to(dtype)
    return apply("SoftmaxBackward0", softmin_of, input, axis=softmax_dim(input, dim, "softmin"))
