"""RMSprop, Adagrad and Adadelta with PyTorch's update rules (its single-tensor code,
operation for operation):

    RMSprop:  v = alpha v + (1 - alpha) g²;  avg = sqrt(v - ḡ²) (centered, ḡ = lerp(ḡ, g, 1 - alpha))
              or sqrt(v), + eps;  buf = momentum buf + g / avg, p -= lr buf  (else p -= lr g / avg)
    Adagrad:  sum += g²;  p -= lr / (1 + (t - 1) lr_decay) * g / (sqrt(sum) + eps)
    Adadelta: v = rho v + (1 - rho) g²;  d = sqrt(u + eps) / sqrt(v + eps) * g;
              u = rho u + (1 - rho) d²;  p -= lr d

>>> import symgrad as torch
>>> from symgrad import optim
>>> w = torch.tensor([1.0, -1.0], requires_grad=True)
>>> opt = optim.Adagrad([w], lr=0.5)
>>> (w * w).sum().backward()
>>> opt.step()
>>> w
tensor([ 0.5000, -0.5000], requires_grad=True)
"""
import numpy as np

from symgrad.optim._update import implementation_options, like
from symgrad.optim.optimizer import _check_number
from symgrad.optim.rule import RuleOptimizer, with_weight_decay, zeros_like


class RMSprop(RuleOptimizer):
    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered, maximize=maximize,
                                      **implementation_options(differentiable, foreach=foreach,
                                                               capturable=capturable)))

    def _validate_group(self, group):
        for name, key in (("learning rate", "lr"), ("epsilon value", "eps"),
                          ("momentum value", "momentum"), ("weight_decay value", "weight_decay"),
                          ("alpha value", "alpha")):
            _check_number(name, group[key])

    def _new_state(self, param, group):
        state = {"square_avg": zeros_like(param)}
        if group["momentum"] > 0:
            state["momentum_buffer"] = zeros_like(param)
        if group["centered"]:
            state["grad_avg"] = zeros_like(param)
        return state

    def _rule(self, w, g, state, step, group):
        alpha, lr = group["alpha"], like(group["lr"], w)
        g = with_weight_decay(g, w, group)
        new = {"square_avg": state["square_avg"] * alpha + (1 - alpha) * (g * g)}
        if group["centered"]:
            new["grad_avg"] = state["grad_avg"] + (1 - alpha) * (g - state["grad_avg"])
            avg = np.sqrt(new["square_avg"] - new["grad_avg"] * new["grad_avg"])
        else:
            avg = np.sqrt(new["square_avg"])
        avg = avg + group["eps"]
        if group["momentum"] > 0:
            new["momentum_buffer"] = state["momentum_buffer"] * group["momentum"] + g / avg
            return w - lr * new["momentum_buffer"], new
        return w - lr * (g / avg), new


class Adagrad(RuleOptimizer):
    _state_at_construction = True

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, foreach=None, *, maximize=False, differentiable=False, fused=None):
        _check_number("initial_accumulator_value value", initial_accumulator_value)
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      eps=eps, maximize=maximize,
                                      **implementation_options(differentiable, foreach=foreach,
                                                               fused=fused)))

    def _validate_group(self, group):
        for name, key in (("learning rate", "lr"), ("lr_decay value", "lr_decay"),
                          ("weight_decay value", "weight_decay"), ("epsilon value", "eps")):
            _check_number(name, group[key])

    def _new_state(self, param, group):
        return {"sum": np.full(param.shape, group["initial_accumulator_value"], param.dtype)}

    def _rule(self, w, g, state, step, group):
        g = with_weight_decay(g, w, group)
        clr = like(group["lr"] / (1 + (step - 1) * group["lr_decay"]), w)
        total = state["sum"] + g * g
        return w - clr * (g / (np.sqrt(total) + group["eps"])), {"sum": total}


class Adadelta(RuleOptimizer):
    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
                 capturable=False, maximize=False, differentiable=False):
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize,
                                      **implementation_options(differentiable, foreach=foreach,
                                                               capturable=capturable)))

    def _validate_group(self, group):
        for name, key in (("learning rate", "lr"), ("epsilon value", "eps"),
                          ("weight_decay value", "weight_decay")):
            _check_number(name, group[key])

    def _new_state(self, param, group):
        return {"square_avg": zeros_like(param), "acc_delta": zeros_like(param)}

    def _rule(self, w, g, state, step, group):
        rho, eps = group["rho"], group["eps"]
        g = with_weight_decay(g, w, group)
        square_avg = state["square_avg"] * rho + (1 - rho) * (g * g)
        delta = np.sqrt(state["acc_delta"] + eps) / np.sqrt(square_avg + eps) * g
        acc_delta = state["acc_delta"] * rho + (1 - rho) * (delta * delta)
        return w - like(group["lr"], w) * delta, {"square_avg": square_avg,
                                                  "acc_delta": acc_delta}
