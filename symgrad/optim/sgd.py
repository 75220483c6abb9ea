"""Stochastic gradient descent with momentum, dampening, Nesterov and weight decay, with
PyTorch's exact update rule:

    g = grad (negated when maximize) + weight_decay * p
    buf = g                                  (first step)
    buf = momentum * buf + (1 - dampening) * g   (later steps)
    g = g + momentum * buf if nesterov else buf  (when momentum != 0)
    p = p - lr * g

>>> import symgrad as torch
>>> from symgrad import optim
>>> w = torch.tensor([1.0, 2.0], requires_grad=True)
>>> opt = optim.SGD([w], lr=0.5)
>>> (w * w).sum().backward()
>>> opt.step()
>>> w
tensor([0., 0.], requires_grad=True)
"""
import numpy as np

from symgrad.eager.grad_mode import no_grad
from symgrad.optim.optimizer import Optimizer, _check_number
import symgrad.optim._update as _update
from symgrad.eager.tensor import Tensor


class SGD(Optimizer):
    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False,
                 *, maximize=False, foreach=None, differentiable=False, fused=None):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize,
                        **_update.implementation_options(differentiable, foreach=foreach,
                                                         fused=fused))
        super().__init__(params, defaults)

    def _validate_group(self, group):
        _check_number("learning rate", group["lr"])
        _check_number("momentum value", group["momentum"])
        _check_number("dampening value", group["dampening"], low=None)
        _check_number("weight_decay value", group["weight_decay"])
        if group["nesterov"] and not _update.is_traced(group["momentum"]) and (
                group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns closure's loss."""
        loss = self._closure_loss(closure)
        with no_grad():
            for group in self.param_groups:
                lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
                weight_decay, nesterov = group["weight_decay"], group["nesterov"]
                maximize = group["maximize"]
                for param in group["params"]:
                    if param.grad is None:
                        continue
                    state = self.state[param]
                    w, g = param._value, param.grad._value
                    buf = state.get("momentum_buffer")
                    if _update.in_place(w, g):
                        g = np.asarray(g)
                        if maximize:
                            g = -g
                        if weight_decay != 0:
                            g = g + weight_decay * w
                        if momentum != 0:
                            if buf is None:
                                buf = state["momentum_buffer"] = Tensor(np.array(g, w.dtype))
                            else:
                                b = buf._value
                                b *= momentum
                                b += (1 - dampening) * g
                                buf._version += 1
                            g = g + momentum * buf._value if nesterov else buf._value
                        w -= lr * g
                        param._version += 1
                    else:
                        new_w, new_buf = sgd_update(
                            w, g, None if buf is None else buf._value, lr=lr,
                            momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                            nesterov=nesterov, maximize=maximize)
                        if _update.is_traced(momentum) or momentum != 0:
                            if buf is None:
                                state["momentum_buffer"] = Tensor(new_buf)
                            else:
                                buf.data = new_buf
                        param.data = new_w
        return loss


def sgd_update(w, g, buf, lr, momentum=0, dampening=0, weight_decay=0, nesterov=False,
               maximize=False):
    """The SGD update as a pure function of values (numpy arrays or tracers): returns the new
    parameter and momentum buffer (None without momentum; ``buf`` None on the first step)."""
    lr, momentum = _update.like(lr, w), _update.like(momentum, w)
    if maximize:
        g = -g
    if weight_decay != 0:
        g = g + weight_decay * w
    if _update.is_traced(momentum) or momentum != 0:
        buf = g if buf is None else buf * momentum + (1 - dampening) * g
        g = g + momentum * buf if nesterov else buf
    return w - lr * g, buf
