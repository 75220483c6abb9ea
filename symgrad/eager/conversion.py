"""Tensor's conversions: dtype casts (``.float()``, ``.to(dtype)``, ``.type(...)``), device moves,
and reading values out (``.item()``, ``.tolist()``, ``.numpy()``, ``f"{loss:.4f}"``, ``repr``).

>>> import symgrad as torch
>>> x = torch.tensor([1, 2])
>>> x.float().dtype, x.type(), f"{x.float().mean():.2f}"
(torch.float32, 'torch.LongTensor', '1.50')
"""
import numpy as np

import symgrad.core.ops as ops
from symgrad.core.tracing import Tracer
from symgrad.eager.device import device as Device, place, to_host
from symgrad.eager.dtypes import (TYPE_NAMES, bool as bool_dtype, float16, float32, float64,
                                  int8, int16, int32, int64, to_numpy, uint8)
from symgrad.eager.printing import tensor_repr
from symgrad.eager.tensor import Tensor, _check_concrete, apply


def cast(tensor, dtype):
    """``tensor`` as ``dtype`` (recorded, so gradients flow back through float casts); the
    tensor itself when it has that dtype already, as PyTorch returns it."""
    target = to_numpy(dtype)
    if np.dtype(tensor._value.dtype) == target:
        return tensor
    return apply("ToCopyBackward0", ops.astype, tensor, dtype=target.name)


def _caster(dtype):
    return lambda self, memory_format=None: cast(self, dtype)


def to(self, *args, dtype=None, device=None, non_blocking=False, copy=False, **_kwargs):
    """``.to(dtype)``, ``.to(device)``, ``.to(device, dtype)``, ``.to(other)``: a cast is
    recorded for autograd; a move to another device (symgrad.eager.device) gives a new leaf with
    the same ``requires_grad``; ``self`` when nothing changes.

    >>> import symgrad as torch
    >>> torch.tensor([1, 2]).to("cpu", torch.float64).dtype
    torch.float64
    """
    for arg in args:
        if isinstance(arg, Tensor):
            dtype, device = arg.dtype, arg.device
        elif isinstance(arg, (str, Device)):
            device = arg
        else:
            dtype = arg
    converted = self if dtype is None else cast(self, dtype)
    moved = converted._value if device is None else place(converted._value, device)
    if moved is converted._value:
        return converted.clone() if copy and converted is self else converted
    return Tensor(moved, requires_grad=converted.requires_grad)


def type_(self, dtype=None, non_blocking=False, **_kwargs):
    """``x.type()``: the legacy type name (``'torch.FloatTensor'``); ``x.type(dtype)``: a cast
    (to a dtype, or a type name such as ``'torch.LongTensor'`` or ``torch.FloatTensor``)."""
    if dtype is None:
        name = TYPE_NAMES.get(self.dtype, f"{self.dtype.name}Tensor")
        return f"torch.{'cuda.' if self.is_cuda else ''}{name}"
    return cast(self, getattr(dtype, "dtype", dtype))


def numpy(self, force=False):
    """The data as a numpy array sharing memory (as ``Tensor.numpy``)."""
    _check_concrete(self, ".numpy()")
    if self.is_cuda:
        raise TypeError("can't convert cuda:0 device type tensor to numpy. Use Tensor.cpu() "
                        "to copy the tensor to host memory first.")
    if self.requires_grad and not force:
        raise RuntimeError("Can't call numpy() on Tensor that requires grad. "
                           "Use tensor.detach().numpy() instead.")
    return self._value


def item(self):
    _check_concrete(self, ".item()")
    if self.numel() != 1:
        raise RuntimeError(f"a Tensor with {self.numel()} elements cannot be converted to Scalar")
    return np.asarray(to_host(self._value)).item()


def tolist(self):
    _check_concrete(self, ".tolist()")
    return np.asarray(to_host(self._value)).tolist()


def _scalar_conversion(python_type):
    def convert(self):
        _check_concrete(self, f"{python_type.__name__}()")
        return python_type(item(self))
    return convert


def _bool(self):
    if isinstance(self._value, Tracer):
        return bool(self._value)        # the tracer's error: control flow on a traced value
    if self.numel() != 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    return bool(item(self))


def _index(self):
    if np.dtype(self._value.dtype).kind not in "iub" or self.numel() != 1:
        raise TypeError("only integer tensors of a single element can be converted to an index")
    return int(item(self))


def _format(self, spec):
    """``f"{loss:.4f}"``: a one-element tensor formats as its number, as in PyTorch."""
    if self.ndim == 0 and not isinstance(self._value, Tracer):
        return item(self).__format__(spec)
    return format(repr(self), spec)


def _repr(self):
    if isinstance(self._value, Tracer):
        return f"tensor(<traced {self.dtype}{list(self.shape)}>)"
    return tensor_repr(self, np.asarray(to_host(self._value)))


def _array(self, dtype=None, copy=None):
    return np.asarray(self._value, dtype=dtype)


METHODS = {
    "float": _caster(float32), "double": _caster(float64), "half": _caster(float16),
    "long": _caster(int64), "int": _caster(int32), "short": _caster(int16),
    "char": _caster(int8), "byte": _caster(uint8), "bool": _caster(bool_dtype),
    "to": to, "type": type_, "type_as": lambda self, other: cast(self, other.dtype),
    "cuda": lambda self, device=None, **_: to(self, "cuda"), "cpu": lambda self: to(self, "cpu"),
    "is_floating_point": lambda self: self.dtype.is_floating_point,
    "is_complex": lambda self: self.dtype.is_complex,
    "element_size": lambda self: self.dtype.itemsize,
    "numpy": numpy, "item": item, "tolist": tolist, "__float__": _scalar_conversion(float),
    "__int__": _scalar_conversion(int), "__bool__": _bool, "__index__": _index,
    "__format__": _format, "__repr__": _repr, "__array__": _array,
}
for _name, _method in METHODS.items():
    setattr(Tensor, _name, _method)

