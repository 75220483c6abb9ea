"""Class losses (PyTorch's ``cross_entropy`` and ``nll_loss``): class-index targets
(``ignore_index``, ``weight``, ``label_smoothing``) or class-probability targets, for
inputs (C,), (N, C) and (N, C, d1, ...) with the classes along dimension 1.

>>> import symgrad as torch
>>> from symgrad.nn import functional as F
>>> round(F.cross_entropy(torch.zeros(2, 4), torch.tensor([1, 3])).item(), 4)  # log(4)
1.3863
"""
import numpy as np

import symgrad.core.ops as ops
from symgrad.eager.softmax import log_softmax_of as _log_softmax
from symgrad.eager.tensor import Tensor, apply
from symgrad.nn.functional_loss import check_tensor, legacy_reduction

_TORCH_DTYPE_NAMES = {"float16": "Half", "float32": "Float", "float64": "Double"}


def _gather_classes(values, target, axis, num_classes):
    """``values[..., target, ...]`` along the class ``axis``: a selection, not a product with
    a one-hot vector, so a -inf log-probability (a masked logit) of another class stays out
    (0 * -inf would be nan); an ignored target selects 0."""
    classes = np.arange(num_classes).reshape((-1,) + (1,) * (values.ndim - axis - 1))
    return ops.sum(ops.where(ops.equal(ops.expand_dims(target, axis), classes), values, 0), axis)


def _class_shaped(weight, axis, ndim):
    return ops.reshape(weight, (1,) * axis + (-1,) + (1,) * (ndim - axis - 1))


def _reduce(losses, sample_weight, reduction):
    if reduction == "none":
        return losses
    if reduction == "sum":
        return ops.sum(losses)
    return ops.true_divide(ops.sum(losses), ops.sum(sample_weight))


def _nll(logp, target, weight, axis, ignore_index, reduction, num_classes, smoothing=0.0):
    """Negative log likelihood of class-index targets from log-probabilities, mixed with
    the uniform-target loss when ``smoothing`` (PyTorch's label smoothing: the mean
    normalizes both by the kept targets' weights)."""
    kept = ops.not_equal(target, ignore_index)
    if weight is None:
        sample_weight = ops.astype(kept, logp.dtype)
    else:
        sample_weight = ops.where(kept, _gather_classes(_class_shaped(weight, axis, logp.ndim),
                                                        target, axis, num_classes), 0)
    picked = _gather_classes(logp, target, axis, num_classes)
    loss = _reduce(ops.where(kept, ops.multiply(ops.negative(picked), sample_weight), 0),
                   sample_weight, reduction)
    if smoothing == 0:
        return loss
    terms = logp if weight is None else ops.multiply(logp, _class_shaped(weight, axis, logp.ndim))
    uniform = ops.where(kept, ops.negative(ops.sum(terms, axis)), 0)
    return ops.add(ops.multiply(loss, 1.0 - smoothing),
                   ops.multiply(_reduce(uniform, sample_weight, reduction),
                                smoothing / num_classes))


def _cross_entropy_indices(x, target, weight, axis, ignore_index, reduction, num_classes,
                           smoothing):
    return _nll(_log_softmax(x, axis), target, weight, axis, ignore_index, reduction,
                num_classes, smoothing)


def _cross_entropy_probs(x, target, weight, axis, reduction, batch, smoothing, num_classes):
    if smoothing:
        target = ops.add(ops.multiply(target, 1.0 - smoothing), smoothing / num_classes)
    # 0 * log p is 0, also where p's logit is -inf (masked)
    terms = ops.multiply(ops.where(ops.equal(target, 0), 0, _log_softmax(x, axis)), target)
    if weight is not None:
        terms = ops.multiply(terms, _class_shaped(weight, axis, x.ndim))
    losses = ops.negative(ops.sum(terms, axis))
    if reduction == "none":
        return losses
    total = ops.sum(losses)
    return total if reduction == "sum" else ops.true_divide(total, batch)


def _check_class_targets(input, target, ignore_index):
    """PyTorch's checks of class-index targets; returns the class axis."""
    if input.dim() == 0:
        raise ValueError("Expected 1 or more dimensions (got 0)")
    axis = 1 if input.dim() >= 2 else 0
    if target.dim() > 1 and input.dim() <= 2:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    expected = tuple(input.shape[:axis]) + tuple(input.shape[axis + 1:])
    if input.dim() == 2 and target.shape[0] != input.shape[0]:
        raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target "
                         f"batch_size ({target.shape[0]}).")
    if tuple(target.shape) != expected:
        raise RuntimeError(f"Expected target size {list(expected)}, got {list(target.shape)}")
    values = target._value
    if isinstance(values, np.ndarray) and values.size:
        bad = (values != ignore_index) & ((values < 0) | (values >= input.shape[axis]))
        if bad.any():
            raise IndexError(f"Target {int(values[bad].flat[0])} is out of bounds.")
    return axis


def _check_weight(weight, num_classes):
    if weight is None:
        return None
    if not isinstance(weight, Tensor):
        weight = Tensor(np.asarray(weight, dtype=np.float32))
    if tuple(weight.shape) != (num_classes,):
        raise RuntimeError(f"weight tensor should be defined either for all {num_classes} "
                           f"classes or no classes but got weight tensor of shape: "
                           f"{list(weight.shape)}")
    return weight


def _targets(input, target, function):
    check_tensor(input, "input", function)
    if not isinstance(target, Tensor):
        target = Tensor(np.asarray(target))
    if np.dtype(input.dtype).kind != "f":
        raise RuntimeError(f"{function}: expected floating point input, got "
                           f"{np.dtype(input.dtype).name}")
    return target


def _check_index_dtype(target, input):
    kind = np.dtype(target.dtype).kind
    if kind not in "iu":
        name = _TORCH_DTYPE_NAMES.get(np.dtype(target.dtype).name, np.dtype(target.dtype).name)
        raise RuntimeError(f"expected scalar type Long but found {name}")


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    """Cross entropy between logits ``input`` and class-index targets (integers) or class
    probabilities of the input's shape (floats); ``logsumexp(input) - input[target]``,
    stable for large logits."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    target = _targets(input, target, "cross_entropy")
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    axis = 1 if input.dim() >= 2 else 0
    num_classes = input.shape[axis] if input.dim() else 0
    weight = _check_weight(weight, num_classes)
    smoothing = float(label_smoothing)
    if np.dtype(target.dtype).kind == "f" and tuple(target.shape) == tuple(input.shape):
        batch = int(np.prod(input.shape, dtype=np.int64) // num_classes)
        name = {"mean": "DivBackward0", "sum": "SumBackward0", "none": "NegBackward0"}[reduction]
        return apply(name, _cross_entropy_probs, input, target, weight, axis=axis,
                     reduction=reduction, batch=batch, smoothing=smoothing,
                     num_classes=num_classes)
    _check_class_targets(input, target, ignore_index)
    _check_index_dtype(target, input)
    name = "AddBackward0" if smoothing else "NllLossBackward0"
    return apply(name, _cross_entropy_indices, input, target, weight, axis=axis,
                 ignore_index=int(ignore_index), reduction=reduction, num_classes=num_classes,
                 smoothing=smoothing)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    """Negative log likelihood of class-index targets given log-probabilities ``input``."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    target = _targets(input, target, "nll_loss")
    axis = _check_class_targets(input, target, ignore_index)
    _check_index_dtype(target, input)
    weight = _check_weight(weight, input.shape[axis])
    return apply("NllLossBackward0", _nll, input, target, weight, axis=axis,
                 ignore_index=int(ignore_index), reduction=reduction,
                 num_classes=input.shape[axis])
