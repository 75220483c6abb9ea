"""Tensor creation with PyTorch's names; float data defaults to float32.

>>> import symgrad as torch
>>> torch.manual_seed(0); torch.zeros(2, 3).shape
(2, 3)
"""
import numpy as np

from symgrad.eager.tensor import Tensor, _value_of

_rng = [np.random.default_rng(0)]


def manual_seed(seed):
    """Seed symgrad's random generator (randn, rand, nn.Linear's initialization)."""
    _rng[0] = np.random.default_rng(seed)


def generator():
    return _rng[0]


def _shape(size):
    return tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else tuple(size)


def _float(dtype):
    return np.dtype(np.float32 if dtype is None else dtype)


def tensor(data, dtype=None, requires_grad=False, device=None):
    """A new leaf tensor holding a copy of ``data`` (floats become float32 by default)."""
    array = np.array(_value_of(data), dtype=dtype)
    if dtype is None and array.dtype == np.float64 and not isinstance(_value_of(data), np.ndarray):
        array = array.astype(np.float32)
    return Tensor(array, requires_grad=requires_grad)


def from_numpy(array):
    """A tensor sharing ``array``'s memory (as torch.from_numpy does)."""
    return Tensor(np.asarray(array))


def randn(*size, dtype=None, requires_grad=False, device=None):
    return Tensor(generator().standard_normal(_shape(size)).astype(_float(dtype)), requires_grad)


def rand(*size, dtype=None, requires_grad=False, device=None):
    return Tensor(generator().random(_shape(size)).astype(_float(dtype)), requires_grad)


def zeros(*size, dtype=None, requires_grad=False, device=None):
    return Tensor(np.zeros(_shape(size), _float(dtype)), requires_grad)


def ones(*size, dtype=None, requires_grad=False, device=None):
    return Tensor(np.ones(_shape(size), _float(dtype)), requires_grad)


def zeros_like(other, dtype=None, requires_grad=False):
    return Tensor(np.zeros(other.shape, dtype or other.dtype), requires_grad)


def ones_like(other, dtype=None, requires_grad=False):
    return Tensor(np.ones(other.shape, dtype or other.dtype), requires_grad)


def full(size, fill_value, dtype=None, requires_grad=False):
    return Tensor(np.full(tuple(size), fill_value, _float(dtype)), requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad=False):
    values = np.arange(start, end, step) if end is not None else np.arange(start)
    if dtype is None and values.dtype == np.float64:
        values = values.astype(np.float32)
    return Tensor(values if dtype is None else values.astype(dtype), requires_grad)
