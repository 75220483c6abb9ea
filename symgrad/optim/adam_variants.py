"""Adamax and NAdam with PyTorch's update rules (its single-tensor code):

    Adamax: m = lerp(m, g, 1 - beta1);  u = max(beta2 u, |g| + eps);
            p -= lr / (1 - beta1^t) * m / u
    NAdam:  mu_t = beta1 (1 - 0.96^(t psi) / 2);  mu_prod *= mu_t;  m, v as Adam;
            denom = sqrt(v / (1 - beta2^t)) + eps;
            p -= lr (1 - mu_t) / (1 - mu_prod) g / denom
                 + lr mu_{t+1} / (1 - mu_prod mu_{t+1}) m / denom

>>> import symgrad as torch
>>> from symgrad import optim
>>> w = torch.tensor([1.0, -1.0], requires_grad=True)
>>> opt = optim.Adamax([w], lr=0.1)
>>> (w * w).sum().backward()
>>> opt.step()
>>> w
tensor([ 0.9000, -0.9000], requires_grad=True)
"""
import numpy as np

from symgrad.optim._update import as_float64, implementation_options, like
from symgrad.optim.optimizer import _check_number
from symgrad.optim.rule import RuleOptimizer, with_weight_decay, zeros_like


def _check_adam_group(group):
    _check_number("learning rate", group["lr"])
    _check_number("epsilon value", group["eps"])
    for index, beta in enumerate(group["betas"]):
        _check_number(f"beta parameter at index {index}", beta, high=1.0)
    _check_number("weight_decay value", group["weight_decay"])


def decayed_moments(w, g, state, group):
    """NAdam's and RAdam's weight decay (decoupled: ``w`` shrinks; else added to ``g``)
    and Adam's moment updates: (w, g, exp_avg, exp_avg_sq)."""
    (beta1, beta2), decay = group["betas"], group["weight_decay"]
    if decay != 0 and group["decoupled_weight_decay"]:
        w = w * like(1 - group["lr"] * decay, w)
    elif decay != 0:
        g = g + decay * w
    exp_avg = state["exp_avg"] + like(1 - beta1, w) * (g - state["exp_avg"])
    exp_avg_sq = state["exp_avg_sq"] * like(beta2, w) + like(1 - beta2, w) * (g * g)
    return w, g, exp_avg, exp_avg_sq


class Adamax(RuleOptimizer):
    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 foreach=None, *, maximize=False, differentiable=False, capturable=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize,
                                      **implementation_options(differentiable, foreach=foreach,
                                                               capturable=capturable)))

    def _validate_group(self, group):
        _check_adam_group(group)

    def _new_state(self, param, group):
        return {"exp_avg": zeros_like(param), "exp_inf": zeros_like(param)}

    def _rule(self, w, g, state, step, group):
        (beta1, beta2), eps = group["betas"], group["eps"]
        g = with_weight_decay(g, w, group)
        exp_avg = state["exp_avg"] + like(1 - beta1, w) * (g - state["exp_avg"])
        exp_inf = np.maximum(state["exp_inf"] * like(beta2, w), np.abs(g) + eps)
        step_size = like(group["lr"] / (1 - beta1 ** step), w)
        return w - step_size * (exp_avg / exp_inf), {"exp_avg": exp_avg, "exp_inf": exp_inf}


class NAdam(RuleOptimizer):
    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None,
                 maximize=False, capturable=False, differentiable=False):
        _check_number("momentum_decay value", momentum_decay)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize,
                                      **implementation_options(differentiable, foreach=foreach,
                                                               capturable=capturable)))

    def _validate_group(self, group):
        _check_adam_group(group)

    def _new_state(self, param, group):
        return {"mu_product": np.array(1.0, np.float32), "exp_avg": zeros_like(param),
                "exp_avg_sq": zeros_like(param)}

    def _rule(self, w, g, state, step, group):
        (beta1, beta2), lr, eps = group["betas"], group["lr"], group["eps"]
        w, g, exp_avg, exp_avg_sq = decayed_moments(w, g, state, group)
        psi = group["momentum_decay"]
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * psi))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * psi))
        # PyTorch keeps the product in a float32 tensor and reads it back as a Python float
        mu_product = state["mu_product"] * like(mu, state["mu_product"])
        product = as_float64(mu_product)
        denom = np.sqrt(exp_avg_sq / like(1 - beta2 ** step, w)) + eps
        w = w + like(-lr * (1.0 - mu) / (1.0 - product), w) * (g / denom)
        w = w + like(-lr * mu_next / (1.0 - product * mu_next), w) * (exp_avg / denom)
        return w, {"mu_product": mu_product, "exp_avg": exp_avg, "exp_avg_sq": exp_avg_sq}
