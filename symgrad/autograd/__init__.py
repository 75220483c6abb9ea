"""``symgrad.autograd``: ``Function`` and ``grad(outputs, inputs)`` as in torch.autograd.

>>> import symgrad as torch
>>> x = torch.tensor([3.0], requires_grad=True)
>>> torch.autograd.grad((x * x).sum(), x)
(tensor([6.]),)
"""
import numpy as np

from symgrad.eager.custom_function import Function, FunctionCtx  # noqa: F401
from symgrad.eager.tape import gradients
from symgrad.eager.tensor import Tensor
import symgrad.autograd.functional as functional  # noqa: F401  (torch.autograd.functional)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=False):
    """Gradients of ``outputs`` with respect to ``inputs``, returned (not accumulated)."""
    if create_graph:
        raise NotImplementedError("create_graph=True is not supported by eager symgrad yet; "
                                  "use symgrad.grad(symgrad.grad(f)) for higher derivatives")
    single = isinstance(inputs, Tensor)
    inputs = [inputs] if single else list(inputs)
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    seeds = grad_outputs if isinstance(grad_outputs, (list, tuple)) else [grad_outputs] * len(outputs)
    totals = [np.zeros(t.shape, t.dtype) for t in inputs]
    for position, (output, seed) in enumerate(zip(outputs, seeds)):
        keep = bool(retain_graph) or position < len(outputs) - 1
        _, grads = gradients(output, seed, inputs, keep)
        totals = [total + g for total, g in zip(totals, grads)]
    return tuple(Tensor(total) for total in totals)


def Variable(data, requires_grad=False, volatile=False):  # noqa: N802 - PyTorch's legacy name
    """``torch.autograd.Variable(t, requires_grad=...)``: since PyTorch 0.4 a Variable is the
    tensor itself; ``requires_grad=True`` makes it require gradients."""
    tensor = data if isinstance(data, Tensor) else Tensor(np.asarray(data))
    if requires_grad:
        tensor.requires_grad_(True)
    return tensor
