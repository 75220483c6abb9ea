"""``Distribution``: PyTorch's base class (``torch.distributions.Distribution``): batch and
event shapes, ``sample``/``rsample`` from symgrad's seeded generator, argument and sample
validation with PyTorch's messages, ``expand``, and the helpers its subclasses share.

>>> import symgrad as torch
>>> from symgrad.distributions import Normal
>>> d = Normal(torch.zeros(2), 1.0)
>>> d.batch_shape, d.event_shape, d.sample((3,)).shape
(torch.Size([2]), torch.Size([]), torch.Size([3, 2]))
"""
import numbers
import warnings

import numpy as np

import symgrad.public_functions as F
from symgrad.distributions import constraints
from symgrad.eager.dtypes import default_float
from symgrad.eager.grad_mode import no_grad
from symgrad.eager.sampling import _rng
from symgrad.eager.tensor import Size, Tensor


def broadcast_all(*values):
    """Tensors and numbers as Tensors of one broadcast shape (numbers take the tensors'
    dtype, else the default float)."""
    tensors = [v for v in values if isinstance(v, Tensor)]
    for value in values:
        if not isinstance(value, (Tensor, numbers.Number)):
            raise ValueError("Input arguments must all be instances of numbers.Number, "
                             "torch.Tensor or objects implementing __torch_function__.")
    dtype = tensors[0].dtype if tensors else default_float()
    made = [v if isinstance(v, Tensor) else Tensor(np.asarray(v, np.dtype(dtype)))
            for v in values]
    return F.broadcast_tensors(*made)


def draw(shape, kind, dtype, **parameters):
    """A Tensor of numpy samples (``rng.<kind>(**parameters, size=shape)``) from the default
    generator, in ``dtype``."""
    values = getattr(_rng(None), kind)(size=tuple(shape), **parameters)
    return Tensor(np.asarray(values).astype(np.dtype(dtype)))


def probs_to_logits(probs, is_binary=False):
    eps = float(np.finfo(np.dtype(probs.dtype)).eps)
    clamped = probs.clamp(min=eps, max=1 - eps)
    return clamped.log() - (-clamped).log1p() if is_binary else clamped.log()


def logits_to_probs(logits, is_binary=False):
    return logits.sigmoid() if is_binary else logits.softmax(-1)


def values_of(tensor):
    """The numbers of a Tensor as a numpy array (for sampling)."""
    return np.asarray(tensor.detach().numpy())


class lazy_property:
    """A property computed on first read and then stored on the instance (probs from
    logits and the other way round)."""

    def __init__(self, function):
        self.function = function
        self.__doc__ = function.__doc__

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        value = self.function(instance)
        instance.__dict__[self.function.__name__] = value
        return value


class Distribution:
    has_rsample = False
    has_enumerate_support = False
    _validate_args = __debug__
    arg_constraints = {}
    support = None

    @staticmethod
    def set_default_validate_args(value):
        if value not in [True, False]:
            raise ValueError
        Distribution._validate_args = value

    def __init__(self, batch_shape=Size(), event_shape=Size(), validate_args=None):
        self._batch_shape = Size(batch_shape)
        self._event_shape = Size(event_shape)
        if validate_args is not None:
            self._validate_args = validate_args
        if self._validate_args:
            self._check_arguments()

    def _check_arguments(self):
        for param, constraint in self.arg_constraints.items():
            if constraints.is_dependent(constraint):
                continue
            if param not in self.__dict__ and isinstance(getattr(type(self), param, None),
                                                         lazy_property):
                continue
            value = getattr(self, param)
            if not bool(constraint.check(value).all()):
                raise ValueError(f"Expected parameter {param} ({type(value).__name__} of shape "
                                 f"{tuple(value.shape)}) of distribution {self!r} to satisfy "
                                 f"the constraint {constraint!r}, but found invalid values:\n"
                                 f"{value}")

    def _init_broadcast(self, validate_args, **parameters):
        """Set the parameters (numbers or tensors) broadcast together; the batch shape is
        theirs, or () when all are numbers (PyTorch's rule)."""
        tensors = broadcast_all(*parameters.values())
        self.__dict__.update(zip(parameters, tensors))
        numbers_only = all(isinstance(v, numbers.Number) for v in parameters.values())
        Distribution.__init__(self, Size() if numbers_only else tensors[0].size(),
                              validate_args=validate_args)

    @property
    def batch_shape(self):
        return self._batch_shape

    @property
    def event_shape(self):
        return self._event_shape

    def expand(self, batch_shape, _instance=None):
        raise NotImplementedError

    def _expanded(self, batch_shape, _instance, parameters):
        """``expand`` of a distribution whose ``parameters`` (names) are batch-shaped
        tensors (followed by ``event_shape``)."""
        batch_shape = Size(batch_shape)
        expanded = {name: self.__dict__[name].expand(
            batch_shape + tuple(self.__dict__[name].shape[len(self.batch_shape):]))
            for name in parameters if name in self.__dict__}
        return self._rebuilt(_instance, batch_shape, **expanded)

    def _rebuilt(self, _instance, batch_shape, **attributes):
        """A new instance (or ``_instance``) of this class with these attributes and batch
        shape, this event shape and validation setting, not validated again (``expand``)."""
        new = _instance if _instance is not None else type(self).__new__(type(self))
        new.__dict__.update(attributes)
        Distribution.__init__(new, Size(batch_shape), self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self):
        raise NotImplementedError

    @property
    def mode(self):
        raise NotImplementedError(f"{self.__class__} does not implement mode")

    @property
    def variance(self):
        raise NotImplementedError

    @property
    def stddev(self):
        return self.variance.sqrt()

    def sample(self, sample_shape=Size()):
        """Samples of shape ``sample_shape + batch_shape + event_shape`` (no gradient)."""
        with no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape=Size()):
        raise NotImplementedError

    def sample_n(self, n):
        warnings.warn("sample_n will be deprecated. Use .sample((n,)) instead", UserWarning)
        return self.sample(Size((n,)))

    def log_prob(self, value):
        raise NotImplementedError

    def cdf(self, value):
        raise NotImplementedError

    def icdf(self, value):
        raise NotImplementedError

    def entropy(self):
        raise NotImplementedError

    def perplexity(self):
        return self.entropy().exp()

    def enumerate_support(self, expand=True):
        raise NotImplementedError

    def _extended_shape(self, sample_shape=Size()):
        if not isinstance(sample_shape, Size):
            sample_shape = Size(sample_shape)
        return Size(sample_shape + self._batch_shape + self._event_shape)

    def _validate_sample(self, value):
        if not isinstance(value, Tensor):
            raise ValueError("The value argument to log_prob must be a Tensor")
        event_dim_start = len(value.size()) - len(self._event_shape)
        if value.size()[event_dim_start:] != self._event_shape:
            raise ValueError(f"The right-most size of value must match event_shape: "
                             f"{value.size()} vs {self._event_shape}.")
        actual_shape = value.size()
        expected_shape = self._batch_shape + self._event_shape
        for i, j in zip(reversed(actual_shape), reversed(expected_shape)):
            if i != 1 and j != 1 and i != j:
                raise ValueError(f"Value is not broadcastable with batch_shape+event_shape: "
                                 f"{actual_shape} vs {Size(expected_shape)}.")
        support = self.support
        if not bool(support.check(value).all()):
            raise ValueError(f"Expected value argument ({type(value).__name__} of shape "
                             f"{tuple(value.shape)}) to be within the support ({support!r}) "
                             f"of the distribution {self!r}, but found invalid values:\n"
                             f"{value}")

    def __repr__(self):
        held = [self.__dict__[k] for k in self.arg_constraints if k in self.__dict__]
        names = [k for k in self.arg_constraints if k in self.__dict__]
        text = ", ".join(f"{name}: {value if value.numel() == 1 else value.size()}"
                         for name, value in zip(names, held))
        return type(self).__name__ + "(" + text + ")"


class ExponentialFamily(Distribution):
    """Distributions of the exponential family (a marker, as in PyTorch)."""
