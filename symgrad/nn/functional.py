"""Stateless layer and loss functions (PyTorch's ``torch.nn.functional`` names).

Each works on eager Tensors and records a ``grad_fn`` with PyTorch's name
(``AddmmBackward0``, ``MseLossBackward0``, ``NllLossBackward0``, ...). The losses are single
recorded nodes whose value is computed by symgrad ops, so their gradient is derived by
:mod:`symgrad.core.reverse_mode` like any other op's, also when the tape is replayed with tracers.

>>> import symgrad as torch
>>> from symgrad.nn import functional as F
>>> F.mse_loss(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 4.0]), reduction="sum").item()
4.0
"""
import warnings

import numpy as np

import symgrad.core.ops as ops
from symgrad.eager.softmax import log_softmax as tensor_log_softmax, log_softmax_of as _log_softmax
from symgrad.eager.softmax import softmax as tensor_softmax
from symgrad.eager.tensor import Tensor, apply
from symgrad.eager.tensor_methods import addmm_function, normalize_dim  # noqa: F401  (F.normalize_dim)

_REDUCTIONS = ("none", "mean", "sum")


def _check_tensor(value, name, function):
    if not isinstance(value, Tensor):
        raise TypeError(f"{function}(): argument '{name}' must be a symgrad Tensor, "
                        f"got {type(value).__name__}")


def _check_reduction(reduction, function):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{function}(): reduction must be one of 'none', 'mean', 'sum', "
                         f"got {reduction!r}")


def _reduce(value, reduction):
    if reduction == "sum":
        return ops.sum(value)
    if reduction == "mean":
        return ops.mean(value)
    return value


# -- layers ---------------------------------------------------------------------------------
def linear_mismatch(input_shape, weight_shape):
    """PyTorch's words for an input whose last dimension is not the weight's (the leading
    dimensions flattened into rows, as its matmul sees them)."""
    rows = int(np.prod(input_shape[:-1], dtype=np.int64)) if input_shape else 1
    columns = input_shape[-1] if input_shape else 1
    return (f"mat1 and mat2 shapes cannot be multiplied ({rows}x{columns} and "
            f"{weight_shape[-1]}x{weight_shape[0]})")


def linear(input, weight, bias=None):
    """``input @ weight.T + bias``: ``addmm`` for 2-D input (grad_fn ``AddmmBackward0``)."""
    _check_tensor(input, "input", "linear")
    if input.dim() == 0 or input.shape[-1] != weight.shape[-1]:
        raise RuntimeError(linear_mismatch(input.shape, weight.shape))
    if bias is not None and input.dim() == 2:
        return addmm_function(bias, input, weight.t())
    out = input.matmul(weight.t())
    return out if bias is None else out + bias


# -- activations ----------------------------------------------------------------------------
def relu(input, inplace=False):
    _check_tensor(input, "input", "relu")
    return input.relu()


def sigmoid(input):
    return input.sigmoid()


def tanh(input):
    return input.tanh()


def log_softmax(input, dim=None):
    _check_tensor(input, "input", "log_softmax")
    return tensor_log_softmax(input, dim)


def softmax(input, dim=None):
    _check_tensor(input, "input", "softmax")
    return tensor_softmax(input, dim)


# -- losses ---------------------------------------------------------------------------------
def _broadcast_target(input, target, function):
    _check_tensor(input, "input", function)
    if not isinstance(target, Tensor):
        target = Tensor(np.asarray(target, dtype=input.dtype))
    if tuple(target.shape) != tuple(input.shape):
        try:
            np.broadcast_shapes(tuple(input.shape), tuple(target.shape))
        except ValueError:
            raise ValueError(f"{function}(): the input shape {tuple(input.shape)} and the "
                             f"target shape {tuple(target.shape)} cannot be broadcast together"
                             ) from None
        warnings.warn(f"Using a target size ({tuple(target.shape)}) that is different to the "
                      f"input size ({tuple(input.shape)}). This will likely lead to incorrect "
                      f"results due to broadcasting. Please ensure they have the same size.",
                      stacklevel=3)
    return target


def _mse(x, y, reduction):
    d = ops.subtract(x, y)
    return _reduce(ops.multiply(d, d), reduction)


def mse_loss(input, target, reduction="mean"):
    """Squared error, summed (``'sum'``), averaged (``'mean'``) or per element (``'none'``)."""
    _check_reduction(reduction, "mse_loss")
    target = _broadcast_target(input, target, "mse_loss")
    return apply("MseLossBackward0", _mse, input, target, reduction=reduction)


def _bce_with_logits(x, y, reduction):
    """``max(x, 0) - x y + log(1 + exp(-|x|))``: no overflow for large logits."""
    loss = ops.subtract(ops.maximum(x, 0.0), ops.multiply(x, y))
    return _reduce(ops.add(loss, ops.log1p(ops.exp(ops.negative(ops.absolute(x))))), reduction)


def binary_cross_entropy_with_logits(input, target, reduction="mean"):
    """Binary cross entropy of logits against targets in [0, 1] (PyTorch's stable form)."""
    _check_reduction(reduction, "binary_cross_entropy_with_logits")
    target = _broadcast_target(input, target, "binary_cross_entropy_with_logits")
    return apply("BinaryCrossEntropyWithLogitsBackward0", _bce_with_logits, input, target,
                 reduction=reduction)


def _bce(p, y, reduction):
    """``-(y log p + (1 - y) log(1 - p))``, each log clamped at -100 as PyTorch clamps it."""
    log_p = ops.maximum(ops.log(p), -100.0)
    log_q = ops.maximum(ops.log(ops.subtract(1.0, p)), -100.0)
    loss = ops.add(ops.multiply(y, log_p), ops.multiply(ops.subtract(1.0, y), log_q))
    return _reduce(ops.negative(loss), reduction)


def binary_cross_entropy(input, target, reduction="mean"):
    """Binary cross entropy of probabilities against targets in [0, 1]."""
    _check_reduction(reduction, "binary_cross_entropy")
    target = _broadcast_target(input, target, "binary_cross_entropy")
    return apply("BinaryCrossEntropyBackward0", _bce, input, target, reduction=reduction)


def _l1(x, y, reduction):
    return _reduce(ops.absolute(ops.subtract(x, y)), reduction)


def l1_loss(input, target, reduction="mean"):
    """Absolute error, summed, averaged or per element."""
    _check_reduction(reduction, "l1_loss")
    target = _broadcast_target(input, target, "l1_loss")
    name = {"mean": "MeanBackward0", "sum": "SumBackward0", "none": "AbsBackward0"}[reduction]
    return apply(name, _l1, input, target, reduction=reduction)


def _gather_classes(values, target, axis, num_classes):
    """``values[..., target, ...]`` along the class ``axis``: a selection, not a product with
    a one-hot vector, so a -inf log-probability (a masked logit) of another class stays out
    (0 * -inf would be nan)."""
    classes = np.arange(num_classes).reshape((-1,) + (1,) * (values.ndim - axis - 1))
    return ops.sum(ops.where(ops.equal(ops.expand_dims(target, axis), classes), values, 0), axis)


def _nll_of_log_probs(logp, target, weight, axis, ignore_index, reduction, num_classes):
    """Negative log likelihood of class-index targets, from log-probabilities ``logp``."""
    kept = ops.not_equal(target, ignore_index)
    if weight is None:
        sample_weight = ops.astype(kept, logp.dtype)
    else:
        weights = ops.reshape(weight, (1,) * axis + (-1,) + (1,) * (logp.ndim - axis - 1))
        sample_weight = ops.where(kept, _gather_classes(weights, target, axis, num_classes), 0)
    picked = _gather_classes(logp, target, axis, num_classes)
    losses = ops.where(kept, ops.multiply(ops.negative(picked), sample_weight), 0)
    if reduction == "none":
        return losses
    if reduction == "sum":
        return ops.sum(losses)
    return ops.true_divide(ops.sum(losses), ops.sum(sample_weight))


def _cross_entropy_indices(x, target, weight, axis, ignore_index, reduction, num_classes):
    return _nll_of_log_probs(_log_softmax(x, axis), target, weight, axis, ignore_index,
                             reduction, num_classes)


def _cross_entropy_indices_unweighted(x, target, axis, ignore_index, reduction, num_classes):
    return _cross_entropy_indices(x, target, None, axis, ignore_index, reduction, num_classes)


def _nll_unweighted(logp, target, axis, ignore_index, reduction, num_classes):
    return _nll_of_log_probs(logp, target, None, axis, ignore_index, reduction, num_classes)


def _cross_entropy_probs(x, target, weight, axis, reduction, batch):
    # 0 * log p is 0, also where p's logit is -inf (masked)
    terms = ops.multiply(ops.where(ops.equal(target, 0), 0, _log_softmax(x, axis)), target)
    if weight is not None:
        shape = (-1,) + (1,) * (x.ndim - axis - 1)
        terms = ops.multiply(terms, ops.reshape(weight, shape))
    losses = ops.negative(ops.sum(terms, axis))
    if reduction == "none":
        return losses
    total = ops.sum(losses)
    return total if reduction == "sum" else ops.true_divide(total, batch)


def _cross_entropy_probs_unweighted(x, target, axis, reduction, batch):
    return _cross_entropy_probs(x, target, None, axis, reduction, batch)


def _check_class_targets(input, target, function, ignore_index):
    axis = 1 if input.dim() >= 2 else 0
    expected = tuple(input.shape[:axis]) + tuple(input.shape[axis + 1:])
    if tuple(target.shape) != expected:
        raise ValueError(f"{function}(): input of shape {tuple(input.shape)} (classes along "
                         f"dimension {axis}) needs class-index targets of shape {expected}, "
                         f"got {tuple(target.shape)}")
    values = target._value
    if isinstance(values, np.ndarray) and values.size:
        bad = (values != ignore_index) & ((values < 0) | (values >= input.shape[axis]))
        if bad.any():
            raise IndexError(f"{function}(): target {int(values[bad].flat[0])} is out of "
                             f"bounds for {input.shape[axis]} classes")
    return axis


def _check_weight(weight, num_classes, function):
    if weight is None:
        return None
    if not isinstance(weight, Tensor):
        weight = Tensor(np.asarray(weight, dtype=np.float32))
    if tuple(weight.shape) != (num_classes,):
        raise ValueError(f"{function}(): weight should have shape ({num_classes},) (one per "
                         f"class), got {tuple(weight.shape)}")
    return weight


def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean"):
    """Cross entropy between logits ``input`` (N, C) or (C,) and class-index targets (N,)
    (integers), or class probabilities of the same shape as ``input`` (floats).

    Computed as ``logsumexp(input) - input[target]``, stable for large logits.
    """
    _check_tensor(input, "input", "cross_entropy")
    _check_reduction(reduction, "cross_entropy")
    if not isinstance(target, Tensor):
        target = Tensor(np.asarray(target))
    if input.dim() == 0:
        raise ValueError("cross_entropy(): input must have at least one dimension (classes)")
    if np.dtype(input.dtype).kind != "f":
        raise TypeError(f"cross_entropy(): input must be floating point logits, got "
                        f"{np.dtype(input.dtype).name}")
    axis = 1 if input.dim() >= 2 else 0
    num_classes = input.shape[axis]
    weight = _check_weight(weight, num_classes, "cross_entropy")
    if np.dtype(target.dtype).kind == "f":
        if tuple(target.shape) != tuple(input.shape):
            raise ValueError(f"cross_entropy(): class-probability targets must have the "
                             f"input's shape {tuple(input.shape)}, got {tuple(target.shape)} "
                             f"(class-index targets must be integers)")
        batch = int(np.prod(input.shape, dtype=np.int64) // num_classes)
        name = {"mean": "DivBackward0", "sum": "SumBackward0", "none": "NegBackward0"}[reduction]
        if weight is None:
            return apply(name, _cross_entropy_probs_unweighted, input, target, axis=axis,
                         reduction=reduction, batch=batch)
        return apply(name, _cross_entropy_probs, input, target, weight, axis=axis,
                     reduction=reduction, batch=batch)
    if np.dtype(target.dtype).kind not in "iu":
        raise TypeError(f"cross_entropy(): targets must be class indices (integers) or class "
                        f"probabilities (floats), got {np.dtype(target.dtype).name}")
    _check_class_targets(input, target, "cross_entropy", ignore_index)
    static = dict(axis=axis, ignore_index=int(ignore_index), reduction=reduction,
                  num_classes=num_classes)
    if weight is None:
        return apply("NllLossBackward0", _cross_entropy_indices_unweighted, input, target,
                     **static)
    return apply("NllLossBackward0", _cross_entropy_indices, input, target, weight, **static)


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):
    """Negative log likelihood of class-index targets given log-probabilities ``input``."""
    _check_tensor(input, "input", "nll_loss")
    _check_reduction(reduction, "nll_loss")
    if not isinstance(target, Tensor):
        target = Tensor(np.asarray(target))
    if np.dtype(target.dtype).kind not in "iu":
        raise TypeError(f"nll_loss(): targets must be class indices (integers), got "
                        f"{np.dtype(target.dtype).name}")
    axis = _check_class_targets(input, target, "nll_loss", ignore_index)
    weight = _check_weight(weight, input.shape[axis], "nll_loss")
    static = dict(axis=axis, ignore_index=int(ignore_index), reduction=reduction,
                  num_classes=input.shape[axis])
    if weight is None:
        return apply("NllLossBackward0", _nll_unweighted, input, target, **static)
    return apply("NllLossBackward0", _nll_of_log_probs, input, target, weight, **static)


from symgrad.nn.functional_conv import avg_pool2d, conv2d, max_pool2d  # noqa: E402,F401
from symgrad.nn.functional_sparse import embedding  # noqa: E402,F401
from symgrad.nn.functional_norm import batch_norm, group_norm, layer_norm  # noqa: E402,F401
from symgrad.nn.functional_dropout import dropout, dropout1d, dropout2d  # noqa: E402,F401
from symgrad.nn.functional_spatial import (  # noqa: E402,F401
    adaptive_avg_pool2d, conv1d, conv_transpose2d, interpolate)
from symgrad.nn.functional_activations import (  # noqa: E402,F401
    elu, gelu, hardtanh, leaky_relu, mish, relu6, silu, softplus)
from symgrad.nn.functional_attention import scaled_dot_product_attention  # noqa: E402,F401
