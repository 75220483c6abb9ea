"""``torch.distributions`` on symgrad Tensors: PyTorch's distributions, formulas, reprs and
validation messages; ``rsample`` and ``log_prob`` are differentiable (reparameterisation),
sampling uses symgrad's seeded generator (``symgrad.manual_seed``), not PyTorch's streams.

>>> import symgrad as torch
>>> from symgrad.distributions import Normal
>>> loc = torch.tensor(0.0, requires_grad=True)
>>> Normal(loc, 1.0).log_prob(torch.tensor(1.0)).backward(); loc.grad
tensor(1.)
"""
from symgrad.distributions import constraints
from symgrad.distributions.continuous import (
    Cauchy, Exponential, Laplace, LogNormal, Normal, Uniform)
from symgrad.distributions.discrete import (
    Bernoulli, Binomial, Categorical, OneHotCategorical, Poisson)
from symgrad.distributions.distribution import Distribution, ExponentialFamily
from symgrad.distributions.gamma_family import Beta, Dirichlet, Gamma
from symgrad.distributions.kl import kl_divergence, register_kl
from symgrad.distributions.multivariate import Independent, MultivariateNormal

__all__ = ["constraints", "Distribution", "ExponentialFamily", "Normal", "Uniform", "Laplace",
           "Cauchy", "Exponential", "LogNormal", "Bernoulli", "Categorical",
           "OneHotCategorical", "Poisson", "Binomial", "Gamma", "Beta", "Dirichlet",
           "MultivariateNormal", "Independent", "kl_divergence", "register_kl"]
