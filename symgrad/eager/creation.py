"""Tensor creation with PyTorch's names, sizes (varargs or a tuple) and dtypes: Python floats
become the default dtype (``torch.float32``), Python ints ``torch.int64``.

>>> import symgrad as torch
>>> torch.zeros(2, 3).shape, torch.tensor([1, 2]).dtype, torch.arange(0, 1, 0.25)
(torch.Size([2, 3]), torch.int64, tensor([0.0000, 0.2500, 0.5000, 0.7500]))
"""
import numpy as np

from symgrad.eager.device import place
from symgrad.eager.dtypes import (bool as bool_dtype, default_float, float32, float64, int32, int64,
                                  to_numpy, uint8)
from symgrad.eager.tensor import Tensor, _value_of, legacy_data


def _shape(size, function):
    """A size given as varargs (``zeros(2, 3)``) or one sequence (``zeros((2, 3))``)."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for extent in size:
        if isinstance(extent, bool) or not isinstance(extent, (int, np.integer)):
            raise TypeError(f"{function}(): argument 'size' must be tuple of ints, but found "
                            f"element of type {type(extent).__name__}")
        if extent < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {extent}: "
                               f"{list(size)}")
    return tuple(int(extent) for extent in size)


def made(array, dtype=None, device=None, requires_grad=False):
    """A new leaf from ``array`` (cast to ``dtype``, placed on ``device``)."""
    target = to_numpy(dtype)
    if target is not None and array.dtype != target:
        array = array.astype(target)
    if device is not None and str(device) != "cpu":
        array = place(array, device)
    return Tensor(array, requires_grad=requires_grad)


def _values(data):
    """Nested lists of numbers and tensors as arrays (a Tensor's data as it is)."""
    if isinstance(data, (list, tuple)):
        return [_values(d) for d in data]
    return np.asarray(data._value) if isinstance(data, Tensor) else data


def _inferred(data):
    """The array of ``torch.tensor(data)``: numpy data keeps its dtype; Python floats become
    the default dtype, complex numbers its complex counterpart."""
    array = np.array(_values(data))
    if array.dtype == object or array.dtype.kind in "USV":
        raise TypeError(f"Could not infer dtype of {type(data).__name__}")
    from_numpy_data = isinstance(data, (np.ndarray, np.generic, Tensor))
    if not from_numpy_data and array.dtype == np.float64:
        return array.astype(default_float())
    if not from_numpy_data and array.dtype == np.complex128 and default_float() != np.float64:
        return array.astype(np.complex64)
    return array


def tensor(data, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new leaf tensor holding a copy of ``data`` (nested lists, scalars, arrays).

    >>> import symgrad as torch
    >>> torch.tensor([[1., 2.], [3., 4.]], requires_grad=True).dtype
    torch.float32
    """
    return made(_inferred(data), dtype, device, requires_grad)


def as_tensor(data, dtype=None, device=None):
    """``data`` as a tensor, sharing memory with a tensor or array of that dtype."""
    if isinstance(data, Tensor) and (dtype is None or data.dtype == dtype) and device is None:
        return data
    if isinstance(data, np.ndarray) and (dtype is None or data.dtype == to_numpy(dtype)):
        return made(data, device=device)
    return tensor(data, dtype, device)


def from_numpy(array):
    """A tensor sharing ``array``'s memory (as torch.from_numpy does)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(array).__name__})")
    return Tensor(array)


def _filled(numpy_function, function):
    def create(*size, dtype=None, device=None, requires_grad=False, out=None, layout=None,
               pin_memory=False, memory_format=None):
        array = numpy_function(_shape(size, function), to_numpy(dtype) or default_float())
        return made(array, None, device, requires_grad)
    create.__name__ = function
    create.__doc__ = f"``torch.{function}(*size, dtype=None, device=None, requires_grad=False)``."
    return create


zeros = _filled(np.zeros, "zeros")
ones = _filled(np.ones, "ones")
empty = _filled(np.zeros, "empty")      # zeros: symgrad leaves no memory uninitialized


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    """``size`` filled with ``fill_value``; the dtype follows the value (bool, int64, float)."""
    if dtype is None:
        dtype = _inferred(_value_of(fill_value)).dtype
    return made(np.full(_shape((size,), "full"), _value_of(fill_value), to_numpy(dtype)),
                None, device, requires_grad)


def _like(numpy_function):
    def create(input, dtype=None, device=None, requires_grad=False,  # noqa: A002
               memory_format=None):
        array = numpy_function(input.shape, to_numpy(dtype) or np.dtype(input.dtype))
        return made(array, None, device, requires_grad)
    return create


zeros_like = _like(np.zeros)
ones_like = _like(np.ones)
empty_like = _like(np.zeros)


def full_like(input, fill_value, dtype=None, device=None, requires_grad=False):  # noqa: A002
    array = np.full(input.shape, fill_value, to_numpy(dtype) or np.dtype(input.dtype))
    return made(array, None, device, requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    """``[start, end)`` by ``step``: int64 for integer arguments, else the default dtype.

    >>> import symgrad as torch
    >>> torch.arange(5).tolist(), torch.arange(1, 2.5, 0.5).tolist()
    ([0, 1, 2, 3, 4], [1.0, 1.5, 2.0])
    """
    start, end = (0, start) if end is None else (start, end)
    bounds = [_value_of(b) for b in (start, end, step)]
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError("upper bound and larger bound inconsistent with step sign")
    integral = all(isinstance(b, (int, np.integer)) for b in bounds)
    target = to_numpy(dtype) or (np.dtype(np.int64) if integral else default_float())
    count = max(int(np.ceil((bounds[1] - bounds[0]) / bounds[2])), 0)
    steps = np.arange(count, dtype=np.int64 if integral else np.float64)
    values = bounds[0] + steps * bounds[2]
    return made(values.astype(target), None, device, requires_grad)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    """``steps`` evenly spaced values from ``start`` to ``end`` (both included), computed as
    PyTorch's kernel computes them (the step in the dtype; the first half fused-multiply-added
    from ``start``, the rest from ``end``), so that they are PyTorch's numbers to the bit."""
    target = to_numpy(dtype) or default_float()
    compute = target if target.kind == "f" else np.dtype(np.float64)
    steps = int(steps)
    if steps < 0:
        raise RuntimeError("linspace(): number of steps must be non-negative")
    first, last = compute.type(start), compute.type(end)
    step = (last - first) / compute.type(max(steps - 1, 1))
    wide = np.longdouble if compute == np.float64 else np.float64   # one rounding, as an FMA
    index = np.arange(steps)
    values = np.where((index < steps // 2) | (steps == 1), wide(first) + wide(step) * index,
                      wide(last) - wide(step) * (steps - 1 - index))
    return made(values.astype(compute).astype(target), None, device, requires_grad)


def logspace(start, end, steps, base=10.0, dtype=None, device=None, requires_grad=False):
    """``base ** linspace(start, end, steps)``."""
    values = np.power(float(base), np.linspace(float(start), float(end), int(steps)))
    return made(values.astype(to_numpy(dtype) or default_float()), None, device, requires_grad)


def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    """The ``n`` x ``m`` identity matrix."""
    return made(np.eye(n, n if m is None else m, dtype=to_numpy(dtype) or default_float()),
                None, device, requires_grad)


def _new(function):
    """``x.new_zeros(size)`` and kin: ``function`` with x's dtype unless given."""
    def create(self, *args, dtype=None, device=None, requires_grad=False):
        return function(*args, dtype=dtype or self.dtype, device=device,
                        requires_grad=requires_grad)
    return create


NEW_METHODS = {"new_zeros": _new(zeros), "new_ones": _new(ones), "new_empty": _new(empty),
               "new_full": _new(full), "new_tensor": _new(tensor)}
for _name, _method in NEW_METHODS.items():
    setattr(Tensor, _name, _method)


def is_tensor(value):
    """Whether ``value`` is a Tensor."""
    return isinstance(value, Tensor)


def numel(input):  # noqa: A002
    return input.numel()


class LegacyTensorType:
    """``torch.FloatTensor([1, 2])``, ``torch.LongTensor(2, 3)``: a tensor of one dtype, from
    data or a size (the legacy constructors); also a type for ``x.type(torch.FloatTensor)``."""
    dtype = float32

    def __new__(cls, *data):
        if len(data) == 1 and isinstance(data[0], (list, tuple)):
            return made(np.array(_values(data[0])), cls.dtype)
        if len(data) == 1 and isinstance(data[0], np.ndarray):   # torch.LongTensor(ids)
            return made(np.array(data[0]), cls.dtype)
        return made(legacy_data(data), cls.dtype)


def _legacy_type(name, kind):
    return type(name, (LegacyTensorType,), {"dtype": kind, "__doc__": f"torch.{name}"})


FloatTensor = _legacy_type("FloatTensor", float32)
DoubleTensor = _legacy_type("DoubleTensor", float64)
LongTensor = _legacy_type("LongTensor", int64)
IntTensor = _legacy_type("IntTensor", int32)
ByteTensor = _legacy_type("ByteTensor", uint8)
BoolTensor = _legacy_type("BoolTensor", bool_dtype)
