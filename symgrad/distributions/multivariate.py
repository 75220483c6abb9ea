"""``MultivariateNormal`` (given by ``covariance_matrix``, ``precision_matrix`` or
``scale_tril``) and ``Independent`` (batch dimensions read as event dimensions), with
PyTorch's formulas; everything is computed from the lower Cholesky factor.

>>> import symgrad as torch
>>> from symgrad.distributions import MultivariateNormal
>>> d = MultivariateNormal(torch.zeros(2), torch.eye(2))
>>> round(d.log_prob(torch.zeros(2)).item(), 4)
-1.8379
"""
import math

import numpy as np

import symgrad.linalg as linalg
from symgrad.distributions import constraints
from symgrad.distributions.distribution import Distribution, draw, lazy_property
from symgrad.eager.tensor import Size


def batch_mahalanobis(scale_tril, diff):
    """``diff^T (L L^T)^-1 diff`` over the last dimension, broadcast over the rest."""
    whitened = (linalg.inv(scale_tril.tril()) @ diff.unsqueeze(-1)).squeeze(-1)
    return whitened.pow(2).sum(-1)


def half_log_det(scale_tril):
    return scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)


def _check_matrix(name, matrix):
    if matrix.dim() < 2:
        raise ValueError(f"{name} must be at least two-dimensional, with optional leading "
                         f"batch dimensions")


class MultivariateNormal(Distribution):
    """``MultivariateNormal(loc, covariance_matrix=None, precision_matrix=None,
    scale_tril=None)``: exactly one of the three matrices."""
    arg_constraints = {"loc": constraints.real_vector,
                       "covariance_matrix": constraints.positive_definite,
                       "precision_matrix": constraints.positive_definite,
                       "scale_tril": constraints.lower_cholesky}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc, covariance_matrix=None, precision_matrix=None, scale_tril=None,
                 validate_args=None):
        if loc.dim() < 1:
            raise ValueError("loc must be at least one-dimensional.")
        given = [(name, m) for name, m in (("covariance_matrix", covariance_matrix),
                                           ("precision_matrix", precision_matrix),
                                           ("scale_tril", scale_tril)) if m is not None]
        if len(given) != 1:
            raise ValueError("Exactly one of covariance_matrix or precision_matrix or "
                             "scale_tril may be specified.")
        name, matrix = given[0]
        _check_matrix("scale_tril matrix" if name == "scale_tril" else name, matrix)
        batch_shape = Size(np.broadcast_shapes(tuple(matrix.shape[:-2]),
                                               tuple(loc.shape[:-1])))
        self.__dict__[name] = matrix.expand(batch_shape + (-1, -1))
        self.loc = loc.expand(batch_shape + (-1,))
        if name == "scale_tril":
            self._unbroadcasted_scale_tril = matrix
        elif name == "covariance_matrix":
            self._unbroadcasted_scale_tril = linalg.cholesky(matrix)
        else:
            self._unbroadcasted_scale_tril = linalg.cholesky(linalg.inv(matrix))
        super().__init__(batch_shape, self.loc.shape[-1:], validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        batch_shape = Size(batch_shape)
        matrices = {name: self.__dict__[name].expand(batch_shape + self.event_shape * 2)
                    for name in ("covariance_matrix", "scale_tril", "precision_matrix")
                    if name in self.__dict__}
        return self._rebuilt(_instance, batch_shape, loc=self.loc.expand(batch_shape +
                                                                        self.event_shape),
                             _unbroadcasted_scale_tril=self._unbroadcasted_scale_tril,
                             **matrices)

    def _matrix_shape(self):
        return self._batch_shape + self._event_shape + self._event_shape

    @lazy_property
    def scale_tril(self):
        return self._unbroadcasted_scale_tril.expand(self._matrix_shape())

    @lazy_property
    def covariance_matrix(self):
        factor = self._unbroadcasted_scale_tril
        return (factor @ factor.mT).expand(self._matrix_shape())

    @lazy_property
    def precision_matrix(self):
        inverse = linalg.inv(self._unbroadcasted_scale_tril)
        return (inverse.mT @ inverse).expand(self._matrix_shape())

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        return self._unbroadcasted_scale_tril.pow(2).sum(-1).expand(
            self._batch_shape + self._event_shape)

    def rsample(self, sample_shape=Size()):
        eps = draw(self._extended_shape(sample_shape), "standard_normal", self.loc.dtype)
        return self.loc + (self._unbroadcasted_scale_tril @ eps.unsqueeze(-1)).squeeze(-1)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        diff = value - self.loc
        mahalanobis = batch_mahalanobis(self._unbroadcasted_scale_tril, diff)
        return (-0.5 * (self._event_shape[0] * math.log(2 * math.pi) + mahalanobis)
                - half_log_det(self._unbroadcasted_scale_tril))

    def entropy(self):
        entropy = (0.5 * self._event_shape[0] * (1.0 + math.log(2 * math.pi))
                   + half_log_det(self._unbroadcasted_scale_tril))
        return entropy if len(self._batch_shape) == 0 else entropy.expand(self._batch_shape)


def sum_rightmost(value, dims):
    return value.reshape(value.shape[:value.dim() - dims] + (-1,)).sum(-1) if dims else value


class Independent(Distribution):
    """``Independent(base, n)``: the rightmost ``n`` batch dimensions of ``base`` become
    event dimensions (``log_prob`` sums over them)."""
    arg_constraints = {}

    def __init__(self, base_distribution, reinterpreted_batch_ndims, validate_args=None):
        if reinterpreted_batch_ndims > len(base_distribution.batch_shape):
            raise ValueError(f"Expected reinterpreted_batch_ndims <= "
                             f"len(base_distribution.batch_shape), actual "
                             f"{reinterpreted_batch_ndims} vs "
                             f"{len(base_distribution.batch_shape)}")
        shape = base_distribution.batch_shape + base_distribution.event_shape
        event_dim = reinterpreted_batch_ndims + len(base_distribution.event_shape)
        self.base_dist = base_distribution
        self.reinterpreted_batch_ndims = reinterpreted_batch_ndims
        super().__init__(shape[:len(shape) - event_dim], shape[len(shape) - event_dim:],
                         validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        base = self.base_dist.expand(Size(batch_shape)
                                     + self.event_shape[:self.reinterpreted_batch_ndims])
        return self._rebuilt(_instance, batch_shape, base_dist=base,
                             reinterpreted_batch_ndims=self.reinterpreted_batch_ndims)

    @property
    def has_rsample(self):
        return self.base_dist.has_rsample

    @property
    def has_enumerate_support(self):
        return False if self.reinterpreted_batch_ndims > 0 else \
            self.base_dist.has_enumerate_support

    @property
    def support(self):
        return constraints.independent(self.base_dist.support, self.reinterpreted_batch_ndims)

    @property
    def mean(self):
        return self.base_dist.mean

    @property
    def mode(self):
        return self.base_dist.mode

    @property
    def variance(self):
        return self.base_dist.variance

    def sample(self, sample_shape=Size()):
        return self.base_dist.sample(sample_shape)

    def rsample(self, sample_shape=Size()):
        return self.base_dist.rsample(sample_shape)

    def log_prob(self, value):
        return sum_rightmost(self.base_dist.log_prob(value), self.reinterpreted_batch_ndims)

    def entropy(self):
        return sum_rightmost(self.base_dist.entropy(), self.reinterpreted_batch_ndims)

    def __repr__(self):
        return f"{type(self).__name__}({self.base_dist}, {self.reinterpreted_batch_ndims})"
