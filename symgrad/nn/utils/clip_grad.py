"""Gradient clipping with PyTorch's formulas, written with Tensor operations under
``no_grad`` so that the same code scales concrete gradients eagerly and traced gradients
inside ``sg.train``'s compiled step (where it becomes part of the gradient graph).

    total_norm = vector_norm([vector_norm(g, p) for g in grads], p)
    g *= min(max_norm / (total_norm + 1e-6), 1)
"""
import functools
import math

import numpy as np

from symgrad.core.tracing import Tracer
from symgrad.eager.grad_mode import no_grad
from symgrad.eager.tensor import Tensor


def _parameters(parameters):
    return [parameters] if isinstance(parameters, Tensor) else list(parameters)


def _norm_type(norm_type):
    norm_type = float(norm_type)
    if math.isnan(norm_type):
        raise ValueError(f"norm_type must be a number or inf, got {norm_type}")
    return norm_type


def _vector_norm(value, norm_type):
    flat = value.reshape(-1).abs()
    if norm_type == math.inf:
        return flat.max()
    if norm_type == -math.inf:
        return flat.min()
    if norm_type == 0:
        return (flat != 0).to(value.dtype).sum()
    if norm_type == 1:
        return flat.sum()
    if norm_type == 2:
        return (flat * flat).sum().sqrt()
    return (flat ** norm_type).sum() ** (1.0 / norm_type)


def _combine(norms, norm_type):
    """The norm of the vector of per-tensor norms."""
    if norm_type == math.inf:
        return functools.reduce(lambda a, b: a.maximum(b), norms)
    if norm_type == -math.inf:
        return functools.reduce(lambda a, b: a.minimum(b), norms)
    if norm_type == 0:
        return functools.reduce(lambda a, b: a + b, [(n != 0).to(n.dtype) for n in norms])
    if norm_type == 1:
        return functools.reduce(lambda a, b: a + b, norms)
    if norm_type == 2:
        return functools.reduce(lambda a, b: a + b, [n * n for n in norms]).sqrt()
    return functools.reduce(lambda a, b: a + b, [n ** norm_type for n in norms]) ** (1 / norm_type)


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The ``norm_type`` norm of all ``tensors`` together, as if concatenated."""
    tensors = _parameters(tensors)
    norm_type = _norm_type(norm_type)
    if not tensors:
        return Tensor(np.array(0.0, np.float32))
    with no_grad():
        norms = [_vector_norm(t.detach(), norm_type) for t in tensors]
        total = _combine([n.to(norms[0].dtype) for n in norms], norm_type)
    if error_if_nonfinite and not isinstance(total._value, Tracer) \
            and not np.isfinite(float(total.item())):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from "
                           f"`parameters` is non-finite, so it cannot be clipped. To disable "
                           f"this error and scale the gradients by the non-finite norm anyway, "
                           f"set `error_if_nonfinite=False`")
    return total


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False,
                    foreach=None):
    """Scale the gradients of ``parameters`` in place so that their total ``norm_type``
    norm is at most ``max_norm``; returns the total norm before clipping. Inside
    ``sg.train`` the norm is traced, so ``error_if_nonfinite`` cannot stop the compiled
    loop: non-finite gradients are scaled as with ``error_if_nonfinite=False``.

    >>> import symgrad as torch
    >>> w = torch.tensor([0.3, 0.4], requires_grad=True)
    >>> w.grad = torch.tensor([3.0, 4.0])
    >>> torch.nn.utils.clip_grad_norm_(w, 1.0), w.grad
    (tensor(5.), tensor([0.6000, 0.8000]))
    """
    grads = [p.grad for p in _parameters(parameters) if p.grad is not None]
    total = get_total_norm(grads, norm_type, error_if_nonfinite)
    if not grads:
        return total
    with no_grad():
        coefficient = (float(max_norm) / (total + 1e-6)).clamp(max=1.0)
        for grad in grads:
            grad.mul_(coefficient.to(grad.dtype))
    return total


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient of ``parameters`` in place to [-clip_value, clip_value].

    >>> import symgrad as torch
    >>> w = torch.zeros(2, requires_grad=True)
    >>> w.grad = torch.tensor([-3.0, 0.5])
    >>> torch.nn.utils.clip_grad_value_(w, 1.0); w.grad
    tensor([-1.0000,  0.5000])
    """
    clip_value = float(clip_value)
    with no_grad():
        for param in _parameters(parameters):
            if param.grad is not None:
                param.grad.copy_(param.grad.clamp(min=-clip_value, max=clip_value))
