"""Margin, ranking and likelihood losses (PyTorch's ``torch.nn.functional`` names, formulas,
defaults and errors): ``margin_ranking_loss``, ``hinge_embedding_loss``, ``soft_margin_loss``,
``multilabel_soft_margin_loss``, ``multi_margin_loss``, ``multilabel_margin_loss``,
``triplet_margin_loss``, ``gaussian_nll_loss``, ``poisson_nll_loss``.

Each is one recorded node whose value a rule of symgrad ops computes (gradients of every
order from reverse mode, eagerly and inside sg.train).

>>> import symgrad as torch
>>> from symgrad.nn import functional as F
>>> F.margin_ranking_loss(torch.tensor([1.0, 2.0]), torch.tensor([2.0, 0.0]),
...                       torch.tensor([1.0, 1.0])).item()
0.5
"""
import math

import numpy as np

import symgrad.core.ops as ops
from symgrad.core.ops.custom import stop_gradient
from symgrad.nn.functional_activations_more import logsigmoid_of
from symgrad.nn.functional_distance import pairwise_distance_of
from symgrad.nn.functional_loss import (_BY_REDUCTION, REDUCTIONS, as_tensor_like,
                                        broadcast_mismatch, check_tensor, legacy_reduction,
                                        reduce_loss)
from symgrad.eager.tensor import Tensor, apply


# -- rules: values in, loss out ----------------------------------------------------------------
def _margin_ranking(a, b, y, margin, reduction):
    return reduce_loss(ops.maximum(ops.add(ops.multiply(ops.negative(y), ops.subtract(a, b)),
                                           margin), 0.0), reduction)


def _hinge_embedding(x, y, margin, reduction):
    """PyTorch's: ``max(0, margin - x)`` where the target is not 1, plus ``x`` where it is
    not -1."""
    clamped = ops.where(ops.not_equal(y, 1), ops.maximum(ops.subtract(margin, x), 0.0), 0.0)
    return reduce_loss(ops.add(clamped, ops.where(ops.not_equal(y, -1), x, 0.0)), reduction)


def _soft_margin(x, y, reduction):
    return reduce_loss(ops.negative(logsigmoid_of(ops.multiply(y, x))), reduction)


def _multilabel_soft_margin(x, y, weight, reduction):
    loss = ops.negative(ops.add(ops.multiply(y, logsigmoid_of(x)),
                                ops.multiply(ops.subtract(1.0, y), logsigmoid_of(ops.negative(x)))))
    if weight is not None:
        loss = ops.multiply(loss, weight)
    return reduce_loss(ops.true_divide(ops.sum(loss, -1), x.shape[-1]), reduction)


def _multi_margin(x, y, weight, p, margin, reduction):
    """``sum_{i != y} max(0, margin - x[y] + x[i])^p / C`` per sample (times ``weight[y]``)."""
    picked = ops.take_along_axis(x, ops.expand_dims(y, -1), -1)
    hinge = ops.maximum(ops.add(ops.subtract(margin, picked), x), 0.0)
    if p == 2:
        hinge = ops.multiply(hinge, hinge)
    if weight is not None:
        hinge = ops.multiply(hinge, ops.expand_dims(ops.take(weight, y, 0), -1))
    others = ops.not_equal(ops.expand_dims(y, -1), np.arange(x.shape[-1]))
    return reduce_loss(ops.true_divide(ops.sum(ops.where(others, hinge, 0.0), -1), x.shape[-1]),
                       reduction)


def _multilabel_margin(x, y, reduction):
    """``sum_{j target, i not target} max(0, 1 - (x[y_j] - x[i])) / C``; the targets are the
    entries of ``y`` before its first -1."""
    valid = ops.cumprod(ops.astype(ops.not_equal(y, -1), np.int64), -1)
    classes = np.arange(x.shape[-1])
    is_target = ops.any(ops.logical_and(ops.equal(ops.expand_dims(y, -1), classes),
                                        ops.expand_dims(ops.equal(valid, 1), -1)), -2)
    picked = ops.take_along_axis(x, ops.maximum(y, 0), -1)
    hinge = ops.maximum(ops.add(ops.subtract(1.0, ops.expand_dims(picked, -1)),
                                ops.expand_dims(x, -2)), 0.0)
    counted = ops.logical_and(ops.expand_dims(ops.equal(valid, 1), -1),
                              ops.expand_dims(ops.logical_not(is_target), -2))
    loss = ops.sum(ops.where(counted, hinge, 0.0), (-2, -1))
    return reduce_loss(ops.true_divide(loss, x.shape[-1]), reduction)


def _triplet_margin(a, positive, negative, margin, p, eps, swap, reduction):
    to_positive = pairwise_distance_of(a, positive, p, eps, False)
    to_negative = pairwise_distance_of(a, negative, p, eps, False)
    if swap:
        to_negative = ops.minimum(to_negative, pairwise_distance_of(positive, negative, p, eps,
                                                                    False))
    return reduce_loss(ops.maximum(ops.add(ops.subtract(to_positive, to_negative), margin), 0.0),
                       reduction)


def _gaussian_nll(x, target, var, full, eps, reduction):
    """``0.5 (log var + (x - target)² / var)``; var clamped at ``eps`` in value only (the
    clamp passes the gradient through, as PyTorch's in-place no-grad clamp does)."""
    var = ops.add(var, stop_gradient(ops.subtract(ops.maximum(var, eps), var)))
    d = ops.subtract(x, target)
    loss = ops.multiply(0.5, ops.add(ops.log(var), ops.true_divide(ops.multiply(d, d), var)))
    if full:
        loss = ops.add(loss, 0.5 * math.log(2 * math.pi))
    return reduce_loss(loss, reduction)


def _poisson_nll(x, target, log_input, full, eps, reduction):
    if log_input:
        loss = ops.subtract(ops.exp(x), ops.multiply(target, x))
    else:
        loss = ops.subtract(x, ops.multiply(target, ops.log(ops.add(x, eps))))
    if full:    # Stirling's approximation of log(target!), where target > 1
        safe = ops.where(ops.greater(target, 1), target, 1.0)
        stirling = ops.add(ops.subtract(ops.multiply(safe, ops.log(safe)), safe),
                           ops.multiply(0.5, ops.log(ops.multiply(2 * math.pi, safe))))
        loss = ops.add(loss, ops.where(ops.greater(target, 1), stirling, 0.0))
    return reduce_loss(loss, reduction)


# -- checks ------------------------------------------------------------------------------------
def _same_broadcast(*tensors):
    for other in tensors[1:]:
        mismatch = broadcast_mismatch(tensors[0].shape, other.shape)
        if mismatch:
            raise RuntimeError(mismatch)


def _class_targets(input, target, who):
    """``target`` as int64 class indices, one per row of (N, C) or (C,) ``input``."""
    target = target if isinstance(target, Tensor) else Tensor(np.asarray(target))
    expected = tuple(input.shape[:-1])
    if input.dim() not in (1, 2) or tuple(target.shape) not in (expected, expected + (1,)) \
            and not (input.dim() == 1 and tuple(target.shape) in ((), (1,))):
        raise RuntimeError(f"{who}: target tensor should be 1-D with size equal to the number "
                           f"of input samples (batch size). Expected target size "
                           f"{list(expected) or [1]}, but got {list(target.shape)}. Input has "
                           f"shape {list(input.shape)}.")
    values = target._value
    if isinstance(values, np.ndarray) and values.size and \
            ((values < 0) | (values >= input.shape[-1])).any():
        raise RuntimeError("target out of range")
    return target.reshape(expected).to(np.int64)


# -- the functions -----------------------------------------------------------------------------
def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                        reduction="mean"):
    """``max(0, -target (input1 - input2) + margin)``; targets 1 or -1."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    for name, x in (("input1", input1), ("input2", input2)):
        check_tensor(x, name, "margin_ranking_loss")
    target = as_tensor_like(target, input1)
    _same_broadcast(input1, input2, target)
    return apply(_BY_REDUCTION.get(reduction, "ClampMinBackward0"), _margin_ranking, input1,
                 input2, target, margin=float(margin), reduction=reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None,
                         reduction="mean"):
    """``input`` where the target is 1, ``max(0, margin - input)`` where it is -1."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_tensor(input, "input", "hinge_embedding_loss")
    target = as_tensor_like(target, input)
    _same_broadcast(input, target)
    return apply(_BY_REDUCTION.get(reduction, "AddBackward0"), _hinge_embedding, input, target,
                 margin=float(margin), reduction=reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """``log(1 + exp(-target input))``; targets 1 or -1."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_tensor(input, "input", "soft_margin_loss")
    target = as_tensor_like(target, input)
    _same_broadcast(input, target)
    return apply("SoftMarginLossBackward0", _soft_margin, input, target, reduction=reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,
                                reduction="mean"):
    """Binary cross entropy of logits per class, averaged over the classes (the last
    dimension); ``weight`` per class."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_tensor(input, "input", "multilabel_soft_margin_loss")
    target, weight = as_tensor_like(target, input), as_tensor_like(weight, input)
    _same_broadcast(input, target, *([weight] if weight is not None else []))
    return apply(_BY_REDUCTION.get(reduction, "DivBackward0"), _multilabel_soft_margin, input,
                 target, weight, reduction=reduction)


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None,
                      reduce=None, reduction="mean"):
    """The multi-class hinge loss of class indices ``target`` (PyTorch's
    ``MultiMarginLoss``); ``p`` 1 or 2, ``weight`` per class."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    check_tensor(input, "input", "multi_margin_loss")
    target = _class_targets(input, target, "multi_margin_loss")
    weight = as_tensor_like(weight, input)
    if weight is not None and tuple(weight.shape) != (input.shape[-1],):
        raise RuntimeError(f"inconsistent weight size, expected {input.shape[-1]} but got "
                           f"{list(weight.shape)}")
    return apply("MultiMarginLossBackward0", _multi_margin, input, target, weight, p=int(p),
                 margin=float(margin), reduction=reduction)


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """The multi-label hinge loss: ``target`` (the input's shape) lists each sample's classes,
    ended by the first -1."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_tensor(input, "input", "multilabel_margin_loss")
    check_tensor(target, "target", "multilabel_margin_loss")
    if tuple(target.shape) != tuple(input.shape) or input.dim() not in (1, 2):
        raise RuntimeError(f"multilabel_margin_loss: inconsistent target size: "
                           f"{list(target.shape)} for input of size: {list(input.shape)}")
    values = target._value
    if isinstance(values, np.ndarray) and ((values < -1) | (values >= input.shape[-1])).any():
        raise RuntimeError("argument #2 'target' is out of range")
    return apply("MultilabelMarginLossBackward0", _multilabel_margin, input,
                 target.to(np.int64), reduction=reduction)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False,
                        size_average=None, reduce=None, reduction="mean"):
    """``max(d(anchor, positive) - d(anchor, negative) + margin, 0)``, ``d`` the
    ``p``-norm pairwise distance (``swap``: the smaller of d(a, n) and d(p, n))."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    for name, x in (("anchor", anchor), ("positive", positive), ("negative", negative)):
        check_tensor(x, name, "triplet_margin_loss")
    if len({anchor.dim(), positive.dim(), negative.dim()}) > 1:
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have "
                           f"the same number of dimensions, but got: anchor {anchor.dim()}D, "
                           f"positive {positive.dim()}D, and negative {negative.dim()}D inputs")
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    _same_broadcast(anchor, positive, negative)
    return apply(_BY_REDUCTION.get(reduction, "ClampMinBackward0"), _triplet_margin, anchor,
                 positive, negative, margin=float(margin), p=float(p), eps=float(eps),
                 swap=bool(swap), reduction=reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """The negative log likelihood of ``target`` under N(input, var); ``var`` the input's
    shape, or that shape without (or with 1 in) its last dimension (one variance per row)."""
    if reduction not in REDUCTIONS:
        raise ValueError(f"{reduction} is not valid")
    check_tensor(input, "input", "gaussian_nll_loss")
    target, var = as_tensor_like(target, input), as_tensor_like(var, input)
    if tuple(var.shape) != tuple(input.shape):
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif not (tuple(input.shape[:-1]) == tuple(var.shape[:-1]) and var.shape[-1] == 1):
            raise ValueError("var is of incorrect size")
    values = var._value
    if isinstance(values, np.ndarray) and (values < 0).any():
        raise ValueError("var has negative entry/entries")
    _same_broadcast(input, target)
    name = _BY_REDUCTION.get(reduction, "AddBackward0" if full else "MulBackward0")
    return apply(name, _gaussian_nll, input, target, var, full=bool(full), eps=float(eps),
                 reduction=reduction)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8,
                     reduce=None, reduction="mean"):
    """The negative log likelihood of ``target`` under Poisson(exp(input)) (or
    Poisson(input) when ``log_input=False``); ``full`` adds Stirling's term."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_tensor(input, "input", "poisson_nll_loss")
    target = as_tensor_like(target, input)
    _same_broadcast(input, target)
    none = "AddBackward0" if full else "SubBackward0"
    return apply(_BY_REDUCTION.get(reduction, none), _poisson_nll, input, target,
                 log_input=bool(log_input), full=bool(full), eps=float(eps),
                 reduction=reduction)
