"""Loss modules with PyTorch's names and constructor signatures; each forwards to its
``nn.functional`` form with the options it was made with.

>>> import symgrad as torch
>>> from symgrad import nn
>>> nn.MSELoss(reduction="sum")(torch.zeros(2), torch.ones(2)).item()
2.0
>>> nn.CrossEntropyLoss(label_smoothing=0.1)
CrossEntropyLoss()
"""
import inspect

import numpy as np

import symgrad.nn.functional as F
from symgrad.eager.tensor import Tensor
from symgrad.nn.functional_loss import legacy_reduction
from symgrad.nn.module import Module

_LEGACY = ("size_average", "reduce")
_BUFFERS = ("weight", "pos_weight")     # PyTorch registers these as buffers


class _Loss(Module):
    """Base: a subclass lists its constructor's ``_parameters`` (name, default) in PyTorch's
    order and its ``_function``; ``forward(*inputs)`` calls the function with them."""

    _parameters_spec = ()
    _reductions = ("none", "mean", "sum")

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.__signature__ = inspect.Signature(
            [inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=default)
             for name, default in cls._parameters_spec])

    def __init__(self, *args, **kwargs):
        super().__init__()
        try:
            bound = self.__signature__.bind(*args, **kwargs)
        except TypeError as error:
            raise TypeError(f"{type(self).__name__}(): {error}") from None
        bound.apply_defaults()
        options = dict(bound.arguments)
        size_average, reduce = (options.pop(name, None) for name in _LEGACY)
        self.reduction = legacy_reduction(size_average, reduce, options.pop("reduction"),
                                          self._reductions)
        self._options = list(options)
        for name, value in options.items():
            if name in _BUFFERS:
                self.register_buffer(name, _tensor_or_none(value))
            else:
                setattr(self, name, value)

    def forward(self, *inputs):
        options = {name: getattr(self, name) for name in self._options}
        return type(self)._function(*inputs, reduction=self.reduction, **options)

    def extra_repr(self):
        return "" if self.reduction == "mean" else f"reduction={self.reduction!r}"


def _tensor_or_none(value):
    if value is None or isinstance(value, Tensor):
        return value
    return Tensor(np.asarray(value, dtype=np.float32))


_REDUCE = (("size_average", None), ("reduce", None), ("reduction", "mean"))


class MSELoss(_Loss):
    """Mean (or summed, or per-element) squared error between input and target."""
    _parameters_spec = _REDUCE
    _function = staticmethod(F.mse_loss)


class L1Loss(_Loss):
    """Mean (or summed, or per-element) absolute error between input and target."""
    _parameters_spec = _REDUCE
    _function = staticmethod(F.l1_loss)


class SmoothL1Loss(_Loss):
    """Squared error below ``beta``, absolute error above (see F.smooth_l1_loss)."""
    _parameters_spec = _REDUCE + (("beta", 1.0),)
    _function = staticmethod(F.smooth_l1_loss)


class HuberLoss(_Loss):
    """Squared error below ``delta``, ``delta``-scaled absolute error above."""
    _parameters_spec = (("reduction", "mean"), ("delta", 1.0))
    _function = staticmethod(F.huber_loss)


class BCELoss(_Loss):
    """Binary cross entropy of probabilities (optionally weighted per element)."""
    _parameters_spec = (("weight", None),) + _REDUCE
    _function = staticmethod(F.binary_cross_entropy)


class BCEWithLogitsLoss(_Loss):
    """Binary cross entropy of logits, numerically stable; ``pos_weight`` per class."""
    _parameters_spec = (("weight", None),) + _REDUCE + (("pos_weight", None),)
    _function = staticmethod(F.binary_cross_entropy_with_logits)


class KLDivLoss(_Loss):
    """KL divergence of the target from log-probabilities (``reduction='batchmean'`` for
    the mathematical definition)."""
    _parameters_spec = _REDUCE + (("log_target", False),)
    _reductions = ("none", "mean", "sum", "batchmean")
    _function = staticmethod(F.kl_div)


class CrossEntropyLoss(_Loss):
    """Cross entropy of logits (N, C) or (N, C, d1, ...) against class indices or class
    probabilities (``weight``, ``ignore_index``, ``label_smoothing``)."""
    _parameters_spec = (("weight", None), ("size_average", None), ("ignore_index", -100),
                        ("reduce", None), ("reduction", "mean"), ("label_smoothing", 0.0))
    _function = staticmethod(F.cross_entropy)


class NLLLoss(_Loss):
    """Negative log likelihood of class indices, given log-probabilities (N, C, ...)."""
    _parameters_spec = (("weight", None), ("size_average", None), ("ignore_index", -100),
                        ("reduce", None), ("reduction", "mean"))
    _function = staticmethod(F.nll_loss)


class CosineEmbeddingLoss(_Loss):
    """``1 - cos`` for pairs marked 1, ``max(0, cos - margin)`` for pairs marked -1."""
    _parameters_spec = (("margin", 0.0),) + _REDUCE
    _function = staticmethod(F.cosine_embedding_loss)


class MarginRankingLoss(_Loss):
    """``max(0, -y (x1 - x2) + margin)`` for targets y of 1 or -1."""
    _parameters_spec = (("margin", 0.0),) + _REDUCE
    _function = staticmethod(F.margin_ranking_loss)


class HingeEmbeddingLoss(_Loss):
    """``x`` where the target is 1, ``max(0, margin - x)`` where it is -1."""
    _parameters_spec = (("margin", 1.0),) + _REDUCE
    _function = staticmethod(F.hinge_embedding_loss)


class SoftMarginLoss(_Loss):
    """``log(1 + exp(-y x))`` for targets y of 1 or -1."""
    _parameters_spec = _REDUCE
    _function = staticmethod(F.soft_margin_loss)


class MultiLabelSoftMarginLoss(_Loss):
    """Binary cross entropy of logits averaged over the classes (``weight`` per class)."""
    _parameters_spec = (("weight", None),) + _REDUCE
    _function = staticmethod(F.multilabel_soft_margin_loss)


class MultiMarginLoss(_Loss):
    """The multi-class hinge loss of class indices (``p`` 1 or 2, ``weight`` per class)."""
    _parameters_spec = (("p", 1), ("margin", 1.0), ("weight", None)) + _REDUCE
    _function = staticmethod(F.multi_margin_loss)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.p not in (1, 2):
            raise ValueError("only p == 1 and p == 2 supported")


class MultiLabelMarginLoss(_Loss):
    """The multi-label hinge loss of class lists ended by -1."""
    _parameters_spec = _REDUCE
    _function = staticmethod(F.multilabel_margin_loss)


class TripletMarginLoss(_Loss):
    """``max(d(a, p) - d(a, n) + margin, 0)`` with the ``p``-norm pairwise distance."""
    _parameters_spec = (("margin", 1.0), ("p", 2.0), ("eps", 1e-6), ("swap", False)) + _REDUCE
    _function = staticmethod(F.triplet_margin_loss)


class GaussianNLLLoss(_Loss):
    """The Gaussian negative log likelihood of targets given means and variances."""
    _parameters_spec = (("full", False), ("eps", 1e-6), ("reduction", "mean"))
    _function = staticmethod(F.gaussian_nll_loss)


class PoissonNLLLoss(_Loss):
    """The Poisson negative log likelihood of targets given (log-)rates."""
    _parameters_spec = (("log_input", True), ("full", False), ("size_average", None),
                        ("eps", 1e-8), ("reduce", None), ("reduction", "mean"))
    _function = staticmethod(F.poisson_nll_loss)
