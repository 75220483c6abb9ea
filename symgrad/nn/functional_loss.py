"""Pointwise losses (PyTorch's ``torch.nn.functional`` names and signatures): ``mse_loss``,
``l1_loss``, ``smooth_l1_loss``, ``huber_loss``, ``binary_cross_entropy``,
``binary_cross_entropy_with_logits``, ``kl_div``, ``cosine_embedding_loss``.

Each is one recorded node (PyTorch's grad_fn name) whose value a rule of symgrad ops
computes, so gradients of every order come from reverse mode, eagerly and inside sg.train.

>>> import symgrad as torch
>>> from symgrad.nn import functional as F
>>> F.huber_loss(torch.tensor([0.0, 3.0]), torch.tensor([0.5, 0.0]), delta=1.0).item()
1.3125
"""
import warnings

import numpy as np

import symgrad.core.ops as ops
from symgrad.eager.tensor import Tensor, apply

REDUCTIONS = ("none", "mean", "sum")


def check_tensor(value, name, function):
    if not isinstance(value, Tensor):
        raise TypeError(f"{function}(): argument '{name}' must be a symgrad Tensor, "
                        f"got {type(value).__name__}")


def legacy_reduction(size_average, reduce, reduction, allowed=REDUCTIONS):
    """``reduction`` after PyTorch's deprecated ``size_average`` / ``reduce`` flags (seed
    000 writes ``MSELoss(size_average=False)``, which means 'sum'), checked."""
    if size_average is not None or reduce is not None:
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = "none" if not reduce else ("mean" if size_average else "sum")
    if reduction not in allowed:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def reduce_loss(losses, reduction, weight=None):
    """'sum', 'mean' (over the weights when given, as PyTorch does) or 'none'."""
    if weight is not None:
        losses = ops.multiply(losses, weight)
    if reduction == "sum":
        return ops.sum(losses)
    if reduction == "mean":
        return ops.true_divide(ops.sum(losses), ops.sum(weight)) if weight is not None \
            else ops.mean(losses)
    return losses


def broadcast_mismatch(a, b):
    """PyTorch's words for shapes that do not broadcast (None when they do)."""
    a, b = tuple(a), tuple(b)
    ndim = max(len(a), len(b))
    for dim in reversed(range(ndim)):
        size_a = a[dim - ndim + len(a)] if dim - ndim + len(a) >= 0 else 1
        size_b = b[dim - ndim + len(b)] if dim - ndim + len(b) >= 0 else 1
        if size_a != size_b and 1 not in (size_a, size_b):
            return (f"The size of tensor a ({size_a}) must match the size of tensor b "
                    f"({size_b}) at non-singleton dimension {dim}")
    return None


def as_tensor_like(value, like):
    return value if isinstance(value, Tensor) or value is None else \
        Tensor(np.asarray(value, dtype=like.dtype))


def pointwise_target(input, target, function):
    """``target`` as a Tensor that broadcasts with ``input`` (PyTorch warns when the
    shapes differ and raises when they do not broadcast)."""
    check_tensor(input, "input", function)
    target = as_tensor_like(target, input)
    if tuple(target.shape) != tuple(input.shape):
        mismatch = broadcast_mismatch(input.shape, target.shape)
        if mismatch:
            raise RuntimeError(mismatch)
        warnings.warn(f"Using a target size ({target.shape!r}) that is different to the input "
                      f"size ({input.shape!r}). This will likely lead to incorrect results due "
                      f"to broadcasting. Please ensure they have the same size.", stacklevel=3)
    return target


def _check_sample_weight(weight, input):
    if weight is not None and tuple(weight.shape) != tuple(input.shape):
        raise ValueError("Weights and input must have the same size.")
    return weight


# -- rules: values in, loss out (symgrad ops, so differentiable to any order) ---------------
def _squared(x, y, weight, reduction):
    d = ops.subtract(x, y)
    return reduce_loss(ops.multiply(d, d), reduction, weight)


def _absolute(x, y, weight, reduction):
    return reduce_loss(ops.absolute(ops.subtract(x, y)), reduction, weight)


def _smooth_l1(x, y, reduction, beta):
    z = ops.absolute(ops.subtract(x, y))
    if beta == 0:
        return reduce_loss(z, reduction)
    quadratic = ops.true_divide(ops.multiply(ops.multiply(z, z), 0.5), beta)
    return reduce_loss(ops.where(ops.less(z, beta), quadratic, ops.subtract(z, 0.5 * beta)),
                       reduction)


def _huber(x, y, weight, reduction, delta):
    z = ops.absolute(ops.subtract(x, y))
    quadratic = ops.multiply(ops.multiply(z, z), 0.5)
    linear = ops.multiply(ops.subtract(z, 0.5 * delta), delta)
    loss = ops.where(ops.less(z, delta), quadratic, linear)
    # PyTorch's weighted Huber mean is over the elements (its MSE and L1 divide by the weights)
    return reduce_loss(loss if weight is None else ops.multiply(loss, weight), reduction)


def _bce(p, y, weight, reduction):
    """``-(y log p + (1 - y) log(1 - p))``, each log clamped at -100 as PyTorch clamps it."""
    log_p = ops.maximum(ops.log(p), -100.0)
    log_q = ops.maximum(ops.log(ops.subtract(1.0, p)), -100.0)
    loss = ops.negative(ops.add(ops.multiply(y, log_p),
                                ops.multiply(ops.subtract(1.0, y), log_q)))
    return reduce_loss(loss if weight is None else ops.multiply(loss, weight), reduction)


def _bce_with_logits(x, y, weight, pos_weight, reduction):
    """``(1 - y) x + (1 + (pos_weight - 1) y) (log1p(exp(-|x|)) + max(-x, 0))``: no
    overflow for large logits (PyTorch's form)."""
    softplus_neg = ops.add(ops.log1p(ops.exp(ops.negative(ops.absolute(x)))),
                           ops.maximum(ops.negative(x), 0.0))
    if pos_weight is not None:
        softplus_neg = ops.multiply(softplus_neg,
                                    ops.add(ops.multiply(ops.subtract(pos_weight, 1.0), y), 1.0))
    loss = ops.add(ops.multiply(ops.subtract(1.0, y), x), softplus_neg)
    if weight is not None:
        loss = ops.multiply(loss, weight)
    return reduce_loss(loss, reduction)


def _kl_div(x, t, reduction, log_target, batch):
    if log_target:
        loss = ops.multiply(ops.exp(t), ops.subtract(t, x))
    else:   # xlogy(t, t) - t x: 0 where t is 0
        t_log_t = ops.multiply(t, ops.log(ops.where(ops.equal(t, 0), 1.0, t)))
        loss = ops.subtract(t_log_t, ops.multiply(t, x))
    if reduction == "batchmean":
        return ops.true_divide(ops.sum(loss), batch)
    return reduce_loss(loss, reduction)


def _cosine_embedding(a, b, y, margin, reduction, axis):
    dot = ops.sum(ops.multiply(a, b), axis)
    norms = ops.multiply(ops.add(ops.sum(ops.multiply(a, a), axis), 1e-12),
                         ops.add(ops.sum(ops.multiply(b, b), axis), 1e-12))
    cosine = ops.true_divide(dot, ops.sqrt(norms))
    similar = ops.where(ops.equal(y, 1), ops.subtract(1.0, cosine), 0.0)
    dissimilar = ops.where(ops.equal(y, -1), ops.maximum(ops.subtract(cosine, margin), 0.0), 0.0)
    return reduce_loss(ops.add(similar, dissimilar), reduction)


# -- the functions ----------------------------------------------------------------------------
_BY_REDUCTION = {"mean": "MeanBackward0", "sum": "SumBackward0"}


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Squared error, averaged (``'mean'``), summed (``'sum'``) or per element (``'none'``);
    ``weight`` (the input's shape) weighs each element (the mean is over the weights)."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    target = pointwise_target(input, target, "mse_loss")
    weight = _check_sample_weight(as_tensor_like(weight, input), input)
    name = "MseLossBackward0" if weight is None else _BY_REDUCTION.get(reduction, "MulBackward0")
    return apply(name, _squared, input, target, weight, reduction=reduction)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Absolute error, averaged, summed or per element (optionally weighted)."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    target = pointwise_target(input, target, "l1_loss")
    weight = _check_sample_weight(as_tensor_like(weight, input), input)
    none = "AbsBackward0" if weight is None else "MulBackward0"
    return apply(_BY_REDUCTION.get(reduction, none), _absolute, input, target, weight,
                 reduction=reduction)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """``0.5 z² / beta`` where ``z = |input - target| < beta``, else ``z - 0.5 beta``."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    target = pointwise_target(input, target, "smooth_l1_loss")
    return apply("SmoothL1LossBackward0", _smooth_l1, input, target, reduction=reduction,
                 beta=float(beta))


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """``0.5 z²`` where ``z = |input - target| < delta``, else ``delta (z - 0.5 delta)``."""
    reduction = legacy_reduction(None, None, reduction)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    target = pointwise_target(input, target, "huber_loss")
    weight = _check_sample_weight(as_tensor_like(weight, input), input)
    return apply("HuberLossBackward0", _huber, input, target, weight, reduction=reduction,
                 delta=float(delta))


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    """Binary cross entropy of probabilities ``input`` against targets in [0, 1];
    ``weight`` broadcasts against the input and scales each element."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_tensor(input, "input", "binary_cross_entropy")
    target = as_tensor_like(target, input)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Using a target size ({target.shape!r}) that is different to the "
                         f"input size ({input.shape!r}) is deprecated. Please ensure they have "
                         f"the same size.")
    weight = _broadcast_weight(as_tensor_like(weight, input), input, "weight")
    return apply("BinaryCrossEntropyBackward0", _bce, input, target, weight,
                 reduction=reduction)


def _broadcast_weight(weight, input, name):
    if weight is not None:
        mismatch = broadcast_mismatch(input.shape, weight.shape)
        if mismatch or len(weight.shape) > len(input.shape):
            raise RuntimeError(mismatch or f"{name} of shape {list(weight.shape)} does not "
                               f"broadcast to the input's shape {list(input.shape)}")
    return weight


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    """Binary cross entropy of logits (PyTorch's stable form); ``pos_weight`` (one per
    class, the last dimension) weighs the positive term, ``weight`` each element."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_tensor(input, "input", "binary_cross_entropy_with_logits")
    target = as_tensor_like(target, input)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Target size ({target.shape!r}) must be the same as input size "
                         f"({input.shape!r})")
    weight = _broadcast_weight(as_tensor_like(weight, input), input, "weight")
    pos_weight = _broadcast_weight(as_tensor_like(pos_weight, input), input, "pos_weight")
    return apply("BinaryCrossEntropyWithLogitsBackward0", _bce_with_logits, input, target,
                 weight, pos_weight, reduction=reduction)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """Kullback-Leibler divergence of ``target`` (probabilities, or log-probabilities with
    ``log_target``) from log-probabilities ``input``; ``'batchmean'`` divides the sum by
    the batch size (the mathematical KL divergence), ``'mean'`` by the element count."""
    reduction = legacy_reduction(size_average, reduce, reduction, REDUCTIONS + ("batchmean",))
    check_tensor(input, "input", "kl_div")
    target = as_tensor_like(target, input)
    mismatch = broadcast_mismatch(target.shape, input.shape)
    if mismatch:
        raise RuntimeError(mismatch)
    if reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the "
                      "support size.'batchmean' divides only by the batch size, and aligns with "
                      "the KL div math definition.'mean' will be changed to behave the same as "
                      "'batchmean' in the next major release.", stacklevel=2)
    batch = input.shape[0] if input.dim() else 1
    name = {"batchmean": "DivBackward0", "none": "MulBackward0" if log_target else "SubBackward0"}
    return apply(name.get(reduction) or _BY_REDUCTION[reduction], _kl_div, input, target,
                 reduction=reduction, log_target=bool(log_target), batch=batch)


def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                          reduction="mean"):
    """``1 - cos(x1, x2)`` where ``target`` is 1, ``max(0, cos(x1, x2) - margin)`` where it
    is -1; rows of (N, D) inputs, or one (D,) pair with a 0-d target."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_tensor(input1, "input1", "cosine_embedding_loss")
    check_tensor(input2, "input2", "cosine_embedding_loss")
    target = as_tensor_like(target, input1)
    if target.dim() == 1 and input1.dim() != 2 or target.dim() == 0 and input1.dim() != 1:
        raise RuntimeError(f"{target.dim()}D target tensor expects {target.dim() + 1}D input "
                           f"tensors, but found inputs with sizes {list(input1.shape)} and "
                           f"{list(input2.shape)}.")
    if target.dim() > 1:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    mismatch = broadcast_mismatch(input1.shape, input2.shape) or \
        broadcast_mismatch(input1.shape[:1] if target.dim() else (), target.shape)
    if mismatch:
        raise RuntimeError(mismatch)
    name = _BY_REDUCTION.get(reduction, "AddBackward0")
    return apply(name, _cosine_embedding, input1, input2, target, margin=float(margin),
                 reduction=reduction, axis=target.dim())
