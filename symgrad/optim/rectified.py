"""ASGD, Rprop and RAdam with PyTorch's update rules (its single-tensor code):

    ASGD:  p = p (1 - lambd eta) - eta g;  ax = ax + mu (p - ax)  (ax = p while mu = 1);
           eta = lr / (1 + lambd lr t)^alpha;  mu = 1 / max(1, t - t0)
    Rprop: s = sign(g prev) -> etaplus / etaminus / 1;  step_size = clamp(step_size s);
           g = 0 where s = etaminus;  p -= sign(g) step_size;  prev = g
    RAdam: m, v as Adam;  rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t);
           p -= lr m / (1 - beta1^t) * (rect sqrt(1 - beta2^t) / (sqrt(v) + eps) if rho_t > 5)

>>> import symgrad as torch
>>> from symgrad import optim
>>> w = torch.tensor([1.0, -1.0], requires_grad=True)
>>> opt = optim.Rprop([w], lr=0.1)
>>> (w * w).sum().backward()
>>> opt.step()
>>> w
tensor([ 0.9000, -0.9000], requires_grad=True)
"""
import numpy as np

from symgrad.core.ops.elementwise import astype
from symgrad.optim._update import (as_float64, implementation_options, is_traced, like,
                                    select)
from symgrad.optim.adam_variants import _check_adam_group, decayed_moments
from symgrad.optim.optimizer import _check_number
from symgrad.optim.rule import RuleOptimizer, with_weight_decay, zeros_like


class ASGD(RuleOptimizer):
    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0,
                 foreach=None, maximize=False, differentiable=False, capturable=False):
        super().__init__(params, dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0,
                                      weight_decay=weight_decay, maximize=maximize,
                                      **implementation_options(differentiable, foreach=foreach,
                                                               capturable=capturable)))

    def _validate_group(self, group):
        _check_number("learning rate", group["lr"])
        _check_number("weight_decay value", group["weight_decay"])

    def _new_state(self, param, group):
        return {"eta": np.array(group["lr"], np.float32), "mu": np.array(1.0, np.float32),
                "ax": zeros_like(param)}

    def _rule(self, w, g, state, step, group):
        lambd, lr = group["lambd"], group["lr"]
        g = with_weight_decay(g, w, group)
        eta = as_float64(state["eta"])
        w = w * like(1 - lambd * eta, w) - like(eta, w) * g
        mu = state["mu"]
        ax = select(as_float64(mu) != 1, state["ax"] + (w - state["ax"]) * like(mu, w), w)
        new_eta = lr / ((1 + lambd * lr * step) ** group["alpha"])
        new_mu = 1 / np.maximum(1, step - group["t0"])
        return w, {"ax": ax, "eta": like_state(new_eta), "mu": like_state(new_mu)}


def like_state(value):
    """A float32 0-d state value (as PyTorch stores eta and mu)."""
    return astype(value, np.float32) if is_traced(value) else np.asarray(value, np.float32)


class Rprop(RuleOptimizer):
    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        super().__init__(params, dict(lr=lr, etas=etas, step_sizes=step_sizes,
                                      maximize=maximize,
                                      **implementation_options(differentiable, foreach=foreach,
                                                               capturable=capturable)))

    def _new_state(self, param, group):
        return {"prev": zeros_like(param),
                "step_size": np.full(param.shape, group["lr"], param.dtype)}

    def _rule(self, w, g, state, step, group):
        (etaminus, etaplus), (step_size_min, step_size_max) = group["etas"], group["step_sizes"]
        sign = np.sign(g * state["prev"])
        sign = np.where(sign > 0, like(etaplus, w), np.where(sign < 0, like(etaminus, w),
                                                              like(1.0, w)))
        sign = astype(sign, w.dtype)
        step_size = np.clip(state["step_size"] * sign, step_size_min, step_size_max)
        g = np.where(sign == like(etaminus, w), like(0.0, w), g)
        return w - np.sign(g) * step_size, {"prev": g, "step_size": step_size}


class RAdam(RuleOptimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False,
                 capturable=False, differentiable=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize,
                                      **implementation_options(differentiable, foreach=foreach,
                                                               capturable=capturable)))

    def _validate_group(self, group):
        _check_adam_group(group)

    def _new_state(self, param, group):
        return {"exp_avg": zeros_like(param), "exp_avg_sq": zeros_like(param)}

    def _rule(self, w, g, state, step, group):
        (beta1, beta2), lr, eps = group["betas"], group["lr"], group["eps"]
        w, g, exp_avg, exp_avg_sq = decayed_moments(w, g, state, group)
        bias_correction1, bias_correction2 = 1 - beta1 ** step, 1 - beta2 ** step
        corrected = exp_avg / like(bias_correction1, w)
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
        rectified = rho_t > 5.0
        safe_rho = select(rectified, rho_t, rho_inf)     # the unused branch stays finite
        rect = ((safe_rho - 4) * (safe_rho - 2) * rho_inf
                / ((rho_inf - 4) * (rho_inf - 2) * safe_rho)) ** 0.5
        adaptive_lr = like(bias_correction2 ** 0.5, w) / (np.sqrt(exp_avg_sq) + eps)
        scaled = corrected * like(lr, w)
        update = select(rectified, scaled * adaptive_lr * like(rect, w), scaled)
        return w - update, {"exp_avg": exp_avg, "exp_avg_sq": exp_avg_sq}
