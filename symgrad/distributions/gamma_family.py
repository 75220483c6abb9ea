"""``Gamma``, ``Beta`` and ``Dirichlet`` with PyTorch's formulas. Their ``rsample`` is
reparameterised as PyTorch's is: a standard gamma draw ``x`` of concentration ``a`` moves
with ``a`` by the implicit derivative ``dx/da = -(dP(a, x)/da) / p(x; a)`` (P the
regularized incomplete gamma function, p the density); Dirichlet normalises gamma draws,
Beta is a two-component Dirichlet.

>>> import symgrad as torch
>>> from symgrad.distributions import Gamma
>>> round(Gamma(2.0, 1.0).log_prob(torch.tensor(1.0)).item(), 4)
-1.0
"""
import numbers

import numpy as np

import symgrad.public_functions as F
from symgrad.distributions import constraints
from symgrad.distributions.distribution import (ExponentialFamily, broadcast_all, values_of)
from symgrad.eager.creation import arange, tensor
from symgrad.eager.custom_function import Function
from symgrad.core.ops.elementwise import astype
from symgrad.core.ops.incomplete_gamma import gammainc
from symgrad.core.ops.special import gammaln
from symgrad.eager.dtypes import finfo
from symgrad.eager.sampling import _rng
from symgrad.eager.tensor import Size, Tensor


def standard_gamma_grad(concentration, sample):
    """``d sample / d concentration`` of a Gamma(concentration, 1) draw held at its CDF, on
    arrays or tracers (the shape derivative of P by a central difference in float64)."""
    a, x = astype(concentration, np.float64), astype(sample, np.float64)
    step = 1e-5 * np.maximum(1.0, a)
    dP_da = (gammainc(a + step, x) - gammainc(a - step, x)) / (2 * step)
    density = np.exp((a - 1) * np.log(x) - x - gammaln(a))
    return astype(-dP_da / density, concentration.dtype)


class _StandardGamma(Function):
    """Gamma(concentration, 1) draws, differentiable in the concentration."""

    @staticmethod
    def forward(ctx, concentration):
        a = values_of(concentration)
        tiny = float(finfo(concentration.dtype).tiny)
        draws = Tensor(np.maximum(_rng(None).standard_gamma(a), tiny).astype(a.dtype))
        ctx.save_for_backward(concentration, draws)
        return draws

    @staticmethod
    def backward(ctx, grad):
        concentration, draws = ctx.saved_tensors
        return grad * Tensor(standard_gamma_grad(concentration._value, draws._value))


def standard_gamma(concentration):
    return _StandardGamma.apply(concentration)


class Gamma(ExponentialFamily):
    """``Gamma(concentration, rate)``: density ``rate^c x^(c-1) e^(-rate x) / Gamma(c)``."""
    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, concentration, rate, validate_args=None):
        self._init_broadcast(validate_args, concentration=concentration, rate=rate)

    def expand(self, batch_shape, _instance=None):
        return self._expanded(batch_shape, _instance, ("concentration", "rate"))

    @property
    def mean(self):
        return self.concentration / self.rate

    @property
    def mode(self):
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self):
        return self.concentration / self.rate.pow(2)

    def rsample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        value = standard_gamma(self.concentration.expand(shape)) / self.rate.expand(shape)
        return value.clamp(min=float(finfo(value.dtype).tiny))

    def log_prob(self, value):
        value = Tensor(np.asarray(value, np.dtype(self.rate.dtype))) \
            if not isinstance(value, Tensor) else value
        if self._validate_args:
            self._validate_sample(value)
        return (F.xlogy(self.concentration, self.rate) + F.xlogy(self.concentration - 1, value)
                - self.rate * value - F.lgamma(self.concentration))

    def entropy(self):
        return (self.concentration - F.log(self.rate) + F.lgamma(self.concentration)
                + (1.0 - self.concentration) * F.digamma(self.concentration))

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        from symgrad.scipy.special import gammainc
        return gammainc(self.concentration, self.rate * value)


class Dirichlet(ExponentialFamily):
    """``Dirichlet(concentration)`` on the simplex of the last dimension."""
    arg_constraints = {"concentration": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, concentration, validate_args=None):
        if concentration.dim() < 1:
            raise ValueError("`concentration` parameter must be at least one-dimensional.")
        self.concentration = concentration
        super().__init__(concentration.shape[:-1], concentration.shape[-1:],
                         validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expanded(batch_shape, _instance, ("concentration",))

    def rsample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        draws = standard_gamma(self.concentration.expand(shape))
        return draws / draws.sum(-1, keepdim=True)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return (F.xlogy(self.concentration - 1.0, value).sum(-1)
                + F.lgamma(self.concentration.sum(-1)) - F.lgamma(self.concentration).sum(-1))

    @property
    def mean(self):
        return self.concentration / self.concentration.sum(-1, True)

    @property
    def mode(self):
        concentrationm1 = (self.concentration - 1).clamp(min=0.0)
        mode = concentrationm1 / concentrationm1.sum(-1, True)
        mask = (self.concentration < 1).all(dim=-1)
        largest = mode.argmax(-1, keepdim=True)
        one_hot = (arange(mode.shape[-1]) == largest).type_as(mode)
        return F.where(mask.unsqueeze(-1), one_hot, mode)

    @property
    def variance(self):
        con0 = self.concentration.sum(-1, True)
        return self.concentration * (con0 - self.concentration) / (con0.pow(2) * (con0 + 1))

    def entropy(self):
        k = self.concentration.size(-1)
        a0 = self.concentration.sum(-1)
        return (F.lgamma(self.concentration).sum(-1) - F.lgamma(a0) - (k - a0) * F.digamma(a0)
                - ((self.concentration - 1.0) * F.digamma(self.concentration)).sum(-1))


class Beta(ExponentialFamily):
    """``Beta(concentration1, concentration0)`` on [0, 1] (a two-component Dirichlet)."""
    arg_constraints = {"concentration1": constraints.positive,
                       "concentration0": constraints.positive}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, concentration1, concentration0, validate_args=None):
        if isinstance(concentration1, numbers.Number) and \
                isinstance(concentration0, numbers.Number):
            concentration = tensor([float(concentration1), float(concentration0)])
        else:
            concentration1, concentration0 = broadcast_all(concentration1, concentration0)
            concentration = F.stack([concentration1, concentration0], -1)
        self._dirichlet = Dirichlet(concentration, validate_args=validate_args)
        super().__init__(self._dirichlet._batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._rebuilt(_instance, batch_shape,
                             _dirichlet=self._dirichlet.expand(batch_shape))

    @property
    def concentration1(self):
        return self._dirichlet.concentration[..., 0]

    @property
    def concentration0(self):
        return self._dirichlet.concentration[..., 1]

    @property
    def mean(self):
        return self.concentration1 / (self.concentration1 + self.concentration0)

    @property
    def mode(self):
        return self._dirichlet.mode[..., 0]

    @property
    def variance(self):
        total = self.concentration1 + self.concentration0
        return self.concentration1 * self.concentration0 / (total.pow(2) * (total + 1))

    def rsample(self, sample_shape=()):
        return self._dirichlet.rsample(sample_shape).select(-1, 0)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        heads_tails = F.stack([value, 1.0 - value], -1)
        return self._dirichlet.log_prob(heads_tails)

    def entropy(self):
        return self._dirichlet.entropy()
