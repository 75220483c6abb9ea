"""Discrete distributions with PyTorch's formulas: ``Bernoulli``, ``Categorical``,
``OneHotCategorical``, ``Poisson``, ``Binomial``. Parameters are ``probs`` or ``logits``
(one of the two; the other is computed on first read); ``log_prob`` is differentiable in
them, ``sample`` draws without gradient.

>>> import symgrad as torch
>>> from symgrad.distributions import Categorical
>>> d = Categorical(probs=torch.tensor([0.25, 0.75]))
>>> round(d.log_prob(torch.tensor(1)).exp().item(), 4)
0.75
"""
import math
import numbers

import numpy as np

import symgrad.public_functions as F
from symgrad.distributions import constraints
from symgrad.distributions.distribution import (
    Distribution, ExponentialFamily, broadcast_all, draw, lazy_property, logits_to_probs,
    probs_to_logits, values_of)
from symgrad.eager.creation import arange, eye, full
from symgrad.eager.dtypes import finfo
from symgrad.eager.grad_mode import no_grad
from symgrad.eager.sampling import bernoulli
from symgrad.eager.tensor import Size, Tensor
from symgrad.nn.functional import binary_cross_entropy_with_logits, one_hot


def _one_of(probs, logits):
    if (probs is None) == (logits is None):
        raise ValueError("Either `probs` or `logits` must be specified, but not both.")


class _ProbsOrLogits(Distribution):
    """Shared by the distributions given by ``probs`` or ``logits``: ``_param`` is the one
    given; ``expand`` expands whichever is held."""
    _is_binary = True

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs, is_binary=self._is_binary)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits, is_binary=self._is_binary)

    @property
    def param_shape(self):
        return self._param.size()

    def _expanded_params(self, _instance, batch_shape, param_shape, **attributes):
        """``expand``: the held ``probs``/``logits`` expanded to ``param_shape``."""
        held = {name: self.__dict__[name].expand(param_shape) for name in ("probs", "logits")
                if name in self.__dict__}
        new = self._rebuilt(_instance, batch_shape, **held, **attributes)
        new._param = held.get("logits", held.get("probs"))
        return new


class Bernoulli(_ProbsOrLogits, ExponentialFamily):
    """``Bernoulli(probs=p)`` or ``Bernoulli(logits=l)``: 1 with probability p."""
    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.boolean
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        _one_of(probs, logits)
        given = probs if probs is not None else logits
        (param,) = broadcast_all(given)
        self.__dict__["probs" if probs is not None else "logits"] = self._param = param
        super().__init__(Size() if isinstance(given, numbers.Number) else param.size(),
                         validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expanded_params(_instance, batch_shape, Size(batch_shape))

    @property
    def mean(self):
        return self.probs

    @property
    def mode(self):
        mode = (self.probs >= 0.5).type_as(self.probs)
        return F.where(self.probs == 0.5, math.nan, mode)

    @property
    def variance(self):
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        with no_grad():
            return bernoulli(self.probs.expand(shape))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        return -binary_cross_entropy_with_logits(logits, value, reduction="none")

    def entropy(self):
        return binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none")

    def enumerate_support(self, expand=True):
        values = arange(2, dtype=self._param.dtype).view((-1,) + (1,) * len(self._batch_shape))
        return values.expand((-1,) + self._batch_shape) if expand else values


class Categorical(_ProbsOrLogits):
    """``Categorical(probs=p)`` or ``(logits=l)`` over the indices of the last dimension
    (probs are normalised, logits shifted to log-probabilities)."""
    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    has_enumerate_support = True
    _is_binary = False

    def __init__(self, probs=None, logits=None, validate_args=None):
        _one_of(probs, logits)
        name = "probs" if probs is not None else "logits"
        given = probs if probs is not None else logits
        if given.dim() < 1:
            raise ValueError(f"`{name}` parameter must be at least one-dimensional.")
        param = given / given.sum(-1, keepdim=True) if probs is not None else \
            given - given.logsumexp(dim=-1, keepdim=True)
        self.__dict__[name] = self._param = param
        self._num_events = param.size()[-1]
        super().__init__(param.size()[:-1] if param.dim() > 1 else Size(),
                         validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expanded_params(_instance, batch_shape,
                                     Size(batch_shape) + Size((self._num_events,)),
                                     _num_events=self._num_events)

    @property
    def support(self):
        return constraints.integer_interval(0, self._num_events - 1)

    @property
    def mean(self):
        return full(self._extended_shape(), math.nan, dtype=self.probs.dtype)

    @property
    def mode(self):
        return self.probs.argmax(dim=-1)

    @property
    def variance(self):
        return full(self._extended_shape(), math.nan, dtype=self.probs.dtype)

    def sample(self, sample_shape=Size()):
        sample_shape = Size(sample_shape)
        probs = values_of(self.probs).reshape(-1, self._num_events).astype(np.float64)
        cumulative = np.cumsum(probs, -1)
        count = max(int(np.prod(sample_shape)), 1) if sample_shape else 1
        uniform = draw((count, probs.shape[0], 1), "random", np.float64).numpy()
        indices = (uniform * cumulative[:, -1:] >= cumulative).sum(-1)
        indices = np.minimum(indices, self._num_events - 1).astype(np.int64)
        return Tensor(indices.reshape(self._extended_shape(sample_shape)))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        value = value.long().unsqueeze(-1)
        value, log_pmf = F.broadcast_tensors(value, self.logits)
        return log_pmf.gather(-1, value[..., :1]).squeeze(-1)

    def entropy(self):
        logits = self.logits.clamp(min=float(finfo(self.logits.dtype).min))
        return -(logits * self.probs).sum(-1)

    def enumerate_support(self, expand=True):
        values = arange(self._num_events).view((-1,) + (1,) * len(self._batch_shape))
        return values.expand((-1,) + self._batch_shape) if expand else values


class OneHotCategorical(Distribution):
    """A ``Categorical`` whose values are one-hot vectors (event shape ``(n,)``)."""
    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.one_hot
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        self._categorical = Categorical(probs, logits)
        super().__init__(self._categorical.batch_shape, self._categorical.param_shape[-1:],
                         validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._rebuilt(_instance, batch_shape,
                             _categorical=self._categorical.expand(batch_shape))

    @property
    def _param(self):
        return self._categorical._param

    @property
    def probs(self):
        return self._categorical.probs

    @property
    def logits(self):
        return self._categorical.logits

    @property
    def param_shape(self):
        return self._categorical.param_shape

    @property
    def mean(self):
        return self._categorical.probs

    @property
    def mode(self):
        probs = self._categorical.probs
        return one_hot(probs.argmax(dim=-1), num_classes=probs.shape[-1]).to(probs.dtype)

    @property
    def variance(self):
        return self._categorical.probs * (1 - self._categorical.probs)

    def sample(self, sample_shape=Size()):
        indices = self._categorical.sample(Size(sample_shape))
        return one_hot(indices, self._categorical._num_events).to(self.probs.dtype)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return self._categorical.log_prob(value.max(-1)[1])

    def entropy(self):
        return self._categorical.entropy()

    def enumerate_support(self, expand=True):
        n = self.event_shape[0]
        values = eye(n, dtype=self._param.dtype).view((n,) + (1,) * len(self.batch_shape) + (n,))
        return values.expand((n,) + self.batch_shape + (n,)) if expand else values


class Poisson(ExponentialFamily):
    """``Poisson(rate)``: counts with mean and variance ``rate``."""
    arg_constraints = {"rate": constraints.nonnegative}
    support = constraints.nonnegative_integer

    def __init__(self, rate, validate_args=None):
        self._init_broadcast(validate_args, rate=rate)

    def expand(self, batch_shape, _instance=None):
        return self._expanded(batch_shape, _instance, ("rate",))

    @property
    def mean(self):
        return self.rate

    @property
    def mode(self):
        return self.rate.floor()

    @property
    def variance(self):
        return self.rate

    def sample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        rate = np.broadcast_to(values_of(self.rate), shape)
        return draw(shape, "poisson", self.rate.dtype, lam=rate)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        rate, value = broadcast_all(self.rate, value)
        return value.xlogy(rate) - rate - (value + 1).lgamma()


def _clamp_by_zero(x):
    return (x.clamp(min=0) + x - x.clamp(max=0)) / 2


class Binomial(_ProbsOrLogits):
    """``Binomial(total_count, probs=p)`` or ``(..., logits=l)``: successes of
    ``total_count`` trials."""
    arg_constraints = {"total_count": constraints.nonnegative_integer,
                       "probs": constraints.unit_interval, "logits": constraints.real}
    has_enumerate_support = True

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        _one_of(probs, logits)
        name = "probs" if probs is not None else "logits"
        total_count, param = broadcast_all(total_count, probs if probs is not None else logits)
        self.total_count = total_count.type_as(param)
        self.__dict__[name] = self._param = param
        super().__init__(param.size(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expanded_params(_instance, batch_shape, Size(batch_shape),
                                     total_count=self.total_count.expand(Size(batch_shape)))

    @property
    def support(self):
        return constraints.integer_interval(0, self.total_count)

    @property
    def mean(self):
        return self.total_count * self.probs

    @property
    def mode(self):
        return ((self.total_count + 1) * self.probs).floor().clamp(max=self.total_count)

    @property
    def variance(self):
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        counts = np.broadcast_to(values_of(self.total_count), shape).astype(np.int64)
        return draw(shape, "binomial", self.probs.dtype, n=counts,
                    p=np.broadcast_to(values_of(self.probs), shape))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        log_factorial_n = F.lgamma(self.total_count + 1)
        log_factorial_k = F.lgamma(value + 1)
        log_factorial_nmk = F.lgamma(self.total_count - value + 1)
        normalize_term = (self.total_count * _clamp_by_zero(self.logits)
                          + self.total_count * F.log1p(F.exp(-F.abs(self.logits)))
                          - log_factorial_n)
        return value * self.logits - log_factorial_k - log_factorial_nmk - normalize_term

    def entropy(self):
        total_count = int(self.total_count.max())
        if not bool((self.total_count == total_count).all()):
            raise NotImplementedError("Inhomogeneous total count not supported by "
                                      "`enumerate_support`.")
        log_prob = self.log_prob(self.enumerate_support(False))
        return -(F.exp(log_prob) * log_prob).sum(0)

    def enumerate_support(self, expand=True):
        total_count = int(self.total_count.max())
        if not bool((self.total_count == total_count).all()):
            raise NotImplementedError("Inhomogeneous total count not supported by "
                                      "`enumerate_support`.")
        values = arange(1 + total_count, dtype=self._param.dtype)
        values = values.view((-1,) + (1,) * len(self._batch_shape))
        return values.expand((-1,) + self._batch_shape) if expand else values
