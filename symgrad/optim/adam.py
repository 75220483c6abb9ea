"""Adam and AdamW with PyTorch's exact update rule (bias correction as torch does it):

    g = grad (negated when maximize) + weight_decay * p       (Adam; AdamW decays p instead)
    m = m + (1 - beta1) * (g - m)           (torch's lerp)
    v = beta2 * v + (1 - beta2) * g * g
    step_size = lr / (1 - beta1 ** t)
    denom = sqrt(v) / sqrt(1 - beta2 ** t) + eps     (v -> running max of v with amsgrad)
    p = p - step_size * m / denom

The bias corrections are computed in float64 from the step count, as torch does with Python
floats, also inside a compiled training step; the two scalars then take the parameter's
dtype, as a Python float would in numpy.

>>> import symgrad as torch
>>> from symgrad import optim
>>> w = torch.tensor([1.0, -1.0], requires_grad=True)
>>> opt = optim.Adam([w], lr=0.1)
>>> (w * w).sum().backward()
>>> opt.step()
>>> w
tensor([ 0.9000, -0.9000], requires_grad=True)
"""
import numpy as np

from symgrad.eager.grad_mode import no_grad
from symgrad.core.ops.elementwise import astype
import symgrad.optim._update as _update
from symgrad.optim.optimizer import Optimizer, _check_number
from symgrad.eager.tensor import Tensor


class Adam(Optimizer):
    _decoupled = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=False):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize,
                        decoupled_weight_decay=decoupled_weight_decay or self._decoupled,
                        **_update.implementation_options(differentiable, foreach=foreach,
                                                         fused=fused, capturable=capturable))
        super().__init__(params, defaults)

    def _validate_group(self, group):
        _check_number("learning rate", group["lr"])
        _check_number("epsilon value", group["eps"])
        betas = group["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        for index, beta in enumerate(betas):
            _check_number(f"beta parameter at index {index}", beta, low=0.0, high=1.0)
        _check_number("weight_decay value", group["weight_decay"])

    def _init_state(self, param, state, amsgrad):
        state["step"] = Tensor(np.array(0.0, dtype=np.float32))
        state["exp_avg"] = Tensor(np.zeros(param.shape, param.dtype))
        state["exp_avg_sq"] = Tensor(np.zeros(param.shape, param.dtype))
        if amsgrad:
            state["max_exp_avg_sq"] = Tensor(np.zeros(param.shape, param.dtype))

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns closure's loss."""
        loss = self._closure_loss(closure)
        with no_grad():
            for group in self.param_groups:
                lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
                weight_decay, amsgrad, maximize = (group["weight_decay"], group["amsgrad"],
                                                   group["maximize"])
                for param in group["params"]:
                    if param.grad is None:
                        continue
                    state = self.state[param]
                    if len(state) == 0:
                        self._init_state(param, state, amsgrad)
                    step_t = state["step"]
                    count = step_t._value + 1
                    traced = hasattr(count, "aval")   # inside a compiled training step
                    step_t._value = count if traced else np.asarray(count, np.float32)
                    step = astype(count, np.float64) if traced else float(count)
                    w, g = param._value, param.grad._value
                    m, v = state["exp_avg"], state["exp_avg_sq"]
                    vmax = state.get("max_exp_avg_sq") if amsgrad else None
                    hyper = dict(lr=lr, beta1=beta1, beta2=beta2, eps=eps,
                                 weight_decay=weight_decay, maximize=maximize,
                                 decoupled=group.get("decoupled_weight_decay", self._decoupled))
                    if _update.in_place(w, g) and all(
                            isinstance(t._value, np.ndarray) for t in (m, v)):
                        _adam_in_place(w, np.asarray(g), m._value, v._value,
                                       None if vmax is None else vmax._value, step, **hyper)
                        for t in (param, m, v) + ((vmax,) if vmax is not None else ()):
                            t._version += 1
                    else:
                        new = adam_update(w, g, m._value, v._value,
                                          None if vmax is None else vmax._value, step, **hyper)
                        param.data, m.data, v.data = new[0], new[1], new[2]
                        if vmax is not None:
                            vmax.data = new[3]
        return loss


def _adam_in_place(w, g, m, v, vmax, step, lr, beta1, beta2, eps, weight_decay, maximize,
                   decoupled):
    if maximize:
        g = -g
    if weight_decay != 0:
        if decoupled:
            w *= 1 - lr * weight_decay
        else:
            g = g + weight_decay * w
    diff = g - m
    diff *= 1 - beta1
    m += diff                                       # lerp(m, g, 1 - beta1)
    v *= beta2
    g2 = g * g
    g2 *= 1 - beta2
    v += g2
    bias_correction1 = 1 - beta1 ** step
    bias_correction2_sqrt = np.sqrt(1 - beta2 ** step)
    step_size = lr / bias_correction1
    if vmax is not None:
        np.maximum(vmax, v, out=vmax)
        denom = np.sqrt(vmax)
    else:
        denom = np.sqrt(v)
    denom /= bias_correction2_sqrt
    denom += eps
    update = m * -step_size
    update /= denom
    w += update


def adam_update(w, g, m, v, vmax, step, lr, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0,
                maximize=False, decoupled=False):
    """The Adam update as a pure function of values (numpy arrays or tracers): returns
    (new parameter, exp_avg, exp_avg_sq, max_exp_avg_sq or None). ``step`` counts from 1."""
    if maximize:
        g = -g
    if weight_decay != 0:
        if decoupled:
            w = w * _update.like(1 - lr * weight_decay, w)
        else:
            g = g + weight_decay * w
    m = m + _update.like(1 - beta1, w) * (g - m)
    v = v * _update.like(beta2, w) + _update.like(1 - beta2, w) * (g * g)
    bias_correction2_sqrt = _update.like(np.sqrt(1 - beta2 ** step), w)
    step_size = _update.like(lr / (1 - beta1 ** step), w)
    if vmax is not None:
        vmax = np.maximum(vmax, v)
        denom = np.sqrt(vmax) / bias_correction2_sqrt + eps
    else:
        denom = np.sqrt(v) / bias_correction2_sqrt + eps
    return w + (m * -step_size) / denom, m, v, vmax


class AdamW(Adam):
    """Adam with decoupled weight decay: ``p = p * (1 - lr * weight_decay)`` before the
    Adam step (default weight_decay 1e-2, as in PyTorch)."""
    _decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False, foreach=None, capturable=False,
                 differentiable=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         foreach=foreach, capturable=capturable, differentiable=differentiable,
                         fused=fused)
