"""Normalization functions: ``F.layer_norm``, ``F.group_norm``, ``F.batch_norm`` (PyTorch's
formulas: the biased variance normalizes; batch norm's running variance is the unbiased one).

Each is one recorded node whose value is computed by symgrad ops, so its gradient (of any
order) is derived like any other op's, eagerly and inside sg.train.

>>> import symgrad as torch
>>> from symgrad.nn import functional as F
>>> x = torch.tensor([[1.0, 2.0, 3.0]])
>>> [round(v, 4) for v in F.layer_norm(x, (3,)).tolist()[0]]
[-1.2247, 0.0, 1.2247]
"""
import numpy as np

import symgrad.core.ops as ops
from symgrad.eager.grad_mode import no_grad
from symgrad.eager.tensor import apply


def _normalized(x, axes, eps):
    mean = ops.mean(x, axis=axes, keepdims=True)
    centered = ops.subtract(x, mean)
    variance = ops.mean(ops.multiply(centered, centered), axis=axes, keepdims=True)
    return ops.true_divide(centered, ops.sqrt(ops.add(variance, eps)))


def _affine(y, weight, bias, shape):
    if weight is not None:
        y = ops.multiply(y, ops.reshape(weight, shape))
    if bias is not None:
        y = ops.add(y, ops.reshape(bias, shape))
    return y


def layer_norm_of(x, weight, bias, count, eps):
    axes = tuple(range(x.ndim - count, x.ndim))
    return _affine(_normalized(x, axes, eps), weight, bias, x.shape[x.ndim - count:])


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalize over the last ``len(normalized_shape)`` dimensions, then scale and shift."""
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if tuple(input.shape[input.dim() - len(shape):]) != shape or input.dim() < len(shape):
        raise RuntimeError(f"Given normalized_shape={list(shape)}, expected input with shape "
                           f"[*, {', '.join(map(str, shape))}], but got input of size"
                           f"{list(input.shape)}")
    return apply("NativeLayerNormBackward0", layer_norm_of, input, weight, bias,
                 count=len(shape), eps=float(eps))


def group_norm_of(x, weight, bias, groups, eps):
    grouped = ops.reshape(x, (x.shape[0], groups, -1))
    y = ops.reshape(_normalized(grouped, (2,), eps), x.shape)
    return _affine(y, weight, bias, (1, -1) + (1,) * (x.ndim - 2))


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalize each sample's channels in ``num_groups`` groups, then scale and shift per
    channel."""
    if input.dim() < 2 or input.shape[1] % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by "
                           f"num_groups, but got input of shape {list(input.shape)} and "
                           f"num_groups={num_groups}")
    return apply("NativeGroupNormBackward0", group_norm_of, input, weight, bias,
                 groups=int(num_groups), eps=float(eps))


def _batch_axes(x):
    return (0,) + tuple(range(2, x.ndim))


def _channel_shape(ndim):
    return (1, -1) + (1,) * (ndim - 2)


def batch_norm_of(x, weight, bias, eps):
    return _affine(_normalized(x, _batch_axes(x), eps), weight, bias, _channel_shape(x.ndim))


def batch_norm_by(x, mean, variance, weight, bias, eps):
    shape = _channel_shape(x.ndim)
    y = ops.true_divide(ops.subtract(x, ops.reshape(mean, shape)),
                        ops.sqrt(ops.add(ops.reshape(variance, shape), eps)))
    return _affine(y, weight, bias, shape)


def update_running_statistics(x, running_mean, running_var, momentum):
    """``running = (1 - momentum) * running + momentum * batch statistic`` in place, with the
    unbiased batch variance (PyTorch's rule); ``momentum`` may be a traced value."""
    axes = _batch_axes(x)
    count = x.size // x.shape[1]
    mean = ops.mean(x, axis=axes)
    variance = ops.multiply(ops.var(x, axis=axes), count / (count - 1))
    with no_grad():
        for running, batch in ((running_mean, mean), (running_var, variance)):
            if running is not None:
                kept = ops.multiply(ops.subtract(1.0, momentum), running._value)
                running.copy_(ops.add(kept, ops.multiply(momentum, batch)))


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Normalize each channel (dimension 1) by the batch's statistics when ``training`` (and
    update ``running_mean``/``running_var`` in place), else by the running statistics."""
    if training:
        count = int(np.prod(input.shape, dtype=np.int64)) // input.shape[1]
        if count <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got "
                             f"input size {input.shape}")
        if running_mean is not None or running_var is not None:
            update_running_statistics(input._value, running_mean, running_var, momentum)
        return apply("NativeBatchNormBackward0", batch_norm_of, input, weight, bias,
                     eps=float(eps))
    return apply("NativeBatchNormBackward0", batch_norm_by, input, running_mean,
                 running_var, weight, bias, eps=float(eps))


def instance_norm_of(x, weight, bias, eps):
    y = _normalized(x, tuple(range(2, x.ndim)), eps)
    return _affine(y, weight, bias, _channel_shape(x.ndim))


def update_instance_statistics(x, running_mean, running_var, momentum):
    """The running statistics updated with the batch means of each instance's mean and
    unbiased variance (PyTorch's rule for instance norm)."""
    axes = tuple(range(2, x.ndim))
    count = x.size // (x.shape[0] * x.shape[1])
    mean = ops.mean(ops.mean(x, axis=axes), axis=0)
    variance = ops.mean(ops.multiply(ops.var(x, axis=axes), count / (count - 1)), axis=0)
    with no_grad():
        for running, batch in ((running_mean, mean), (running_var, variance)):
            if running is not None:
                kept = ops.multiply(ops.subtract(1.0, momentum), running._value)
                running.copy_(ops.add(kept, ops.multiply(momentum, batch)))


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    """Normalize each sample's channels over their spatial dimensions (N, C, ...); with
    ``use_input_stats=False``, by the running statistics instead."""
    if input.dim() < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {input.dim()} "
                         f"dimensions)")
    if not use_input_stats:
        return apply("ViewBackward0", batch_norm_by, input, running_mean, running_var, weight,
                     bias, eps=float(eps))
    if int(np.prod(input.shape[2:], dtype=np.int64)) <= 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size "
                         f"{input.shape}")
    if running_mean is not None or running_var is not None:
        update_instance_statistics(input._value, running_mean, running_var, momentum)
    return apply("ViewBackward0", instance_norm_of, input, weight, bias, eps=float(eps))


def local_response_norm_of(x, size, alpha, beta, k):
    """``x / (k + alpha * mean of x² over ``size`` neighbouring channels) ** beta``."""
    squares = ops.multiply(x, x)
    widths = ((0, 0), (size // 2, (size - 1) // 2)) + ((0, 0),) * (x.ndim - 2)
    padded = ops.pad(squares, widths, mode="constant")
    channels = x.shape[1]
    total = padded[:, 0:channels]
    for offset in range(1, size):
        total = ops.add(total, padded[:, offset:offset + channels])
    scale = ops.power(ops.add(ops.multiply(total, alpha / size), k), beta)
    return ops.true_divide(x, scale)


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """Each channel divided by ``(k + alpha / size * sum of the squares of the ``size``
    channels around it) ** beta`` (N, C, ...)."""
    if input.dim() < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {input.dim()} "
                         f"dimensions)")
    if input.numel() == 0:
        return input
    return apply("DivBackward0", local_response_norm_of, input, size=int(size),
                 alpha=float(alpha), beta=float(beta), k=float(k))
