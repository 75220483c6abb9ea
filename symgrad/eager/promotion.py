"""PyTorch's type promotion for Tensor operations (not numpy's).

Operands fall in three classes: tensors with dimensions, 0-d tensors, Python scalars. Within a
category (bool < integer < float < complex) the first class decides the dtype; an operand of a
higher category raises the result to it (a Python float makes an int tensor the default float
dtype). So a float32 tensor times an int64 tensor is float32, and float32 + 2.5 stays float32.

>>> import symgrad as torch
>>> (torch.ones(2) * torch.arange(2)).dtype, (torch.arange(2) / 2).dtype
(torch.float32, torch.float32)
"""
import numpy as np

from symgrad.eager.dtypes import TYPE_NAMES, default_float, of_numpy

CATEGORIES = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def category(numpy_dtype):
    return CATEGORIES[numpy_dtype.kind]


def promote_types(a, b):
    """``torch.promote_types`` on numpy dtypes: the higher category's dtype, or numpy's
    promotion within one category."""
    if a is None or b is None:
        return a if b is None else b
    if category(a) != category(b):
        higher, lower = (a, b) if category(a) > category(b) else (b, a)
        if higher.kind == "c" and lower.kind == "f":
            return np.promote_types(higher, lower)
        return higher
    return np.promote_types(a, b)


def _combine(higher, lower):
    """An operand class of lower priority changes the result only by a higher category."""
    if higher is None:
        return lower
    if lower is None or category(lower) <= category(higher):
        return higher
    if category(higher) == 2 and category(lower) == 3:
        return np.promote_types(higher, np.complex64)
    return lower if category(higher) > 0 or category(lower) > 1 else promote_types(higher, lower)


def scalar_dtype(value):
    """The dtype a Python (or numpy) scalar stands for: bool, int64, the default float."""
    if isinstance(value, (bool, np.bool_)):
        return np.dtype(bool)
    if isinstance(value, (int, np.integer)):
        return np.dtype(np.int64)
    if isinstance(value, (complex, np.complexfloating)):
        return np.dtype(np.complex128 if default_float() == np.float64 else np.complex64)
    return default_float()


def is_scalar(value):
    return isinstance(value, (bool, int, float, complex, np.generic))


def result_type(*operands):
    """``torch.result_type`` of tensors (anything with ``shape`` and ``dtype``) and scalars.

    >>> import symgrad as torch
    >>> torch.result_type(torch.tensor([1, 2], dtype=torch.int32), 2.0)
    torch.float32
    """
    return of_numpy(numpy_result_type(operands))


def numpy_result_type(operands):
    dims = zero = scalars = None
    for operand in operands:
        if is_scalar(operand):
            scalars = promote_types(scalars, scalar_dtype(operand))
        elif len(operand.shape):
            dims = promote_types(dims, np.dtype(operand.dtype))
        else:
            zero = promote_types(zero, np.dtype(operand.dtype))
    return _combine(dims, _combine(zero, scalars))


def unweak(value):
    """numpy scalars as Python scalars: torch treats them as Python numbers, numpy does not."""
    return value.item() if isinstance(value, np.generic) else value


def check_in_place(target, operands, floating_result=False):
    """PyTorch's rule for ``x.add_(y)`` and ``x += y``: the result type of the operands
    (the default float for a division of integers) must not be of a higher category than
    ``x``'s dtype ``target`` (an int tensor cannot take a float result, nor a bool an int).

    >>> import symgrad as torch
    >>> torch.tensor([1, 2]).add_(1.5)
    Traceback (most recent call last):
    RuntimeError: result type Float can't be cast to the desired output type Long
    """
    target = np.dtype(target)
    if target.kind not in "biu":        # a float or complex target takes every real result
        return
    result = numpy_result_type([unweak(o) for o in operands])
    if floating_result and category(result) < 2:
        result = default_float()
    if category(result) > category(target):
        raise RuntimeError(f"result type {_scalar_type_name(result)} can't be cast to the "
                           f"desired output type {_scalar_type_name(target)}")


def _scalar_type_name(numpy_dtype):
    """PyTorch's ScalarType name: Float, Double, Long, Int, Bool, Byte, ..."""
    name = TYPE_NAMES.get(of_numpy(numpy_dtype))
    return name[:-len("Tensor")] if name else repr(of_numpy(numpy_dtype)).split(".")[-1]
