"""``nn.Parameter``: a leaf Tensor that a Module registers as one of its parameters.

>>> import numpy as np
>>> from symgrad import nn
>>> p = nn.Parameter(np.zeros(2, dtype=np.float32))
>>> p.requires_grad, p.is_leaf
(True, True)
"""
import numpy as np

from symgrad.eager.dtypes import default_float
from symgrad.eager.tensor import Tensor


def _as_value(data):
    """The array a Parameter wraps: a Tensor's storage (shared), or an array made from data."""
    if isinstance(data, Tensor):
        return data._value
    if isinstance(data, np.ndarray):
        return data
    if isinstance(data, np.generic):
        return np.asarray(data)
    array = np.asarray(data)
    if array.dtype == np.float64:          # Python floats: the default dtype, as in torch
        array = array.astype(default_float())
    return array


class Parameter(Tensor):
    """A Tensor that is a module parameter: a leaf with ``requires_grad=True`` by default.

    ``Parameter(t)`` shares ``t``'s storage (like PyTorch); an array or nested list is wrapped
    (Python floats become float32). Assigned as a Module attribute, it is registered and
    returned by ``parameters()``.
    """

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            data = np.empty(0, dtype=np.float32)
        value = _as_value(data)
        if np.dtype(value.dtype).kind not in "fc" and requires_grad:
            raise RuntimeError(f"Only Tensors of floating point dtype can require gradients "
                               f"(got a Parameter of dtype {np.dtype(value.dtype).name})")
        super().__init__(value, requires_grad=requires_grad)

    # Parameters are compared by identity (PyTorch hashes tensors by id), so they can key
    # dicts (optimizer state) and sets whatever Tensor's __eq__ does.
    __hash__ = object.__hash__

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol):
        return (_rebuild_parameter, (np.array(self._value), self.requires_grad))


def _rebuild_parameter(value, requires_grad):
    return Parameter(value, requires_grad=requires_grad)
