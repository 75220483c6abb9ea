"""``torch.testing.assert_close`` on Tensors, arrays, numbers and their sequences and mappings,
with PyTorch's default tolerances by dtype and its messages.

>>> import symgrad as torch
>>> torch.testing.assert_close(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 2.0 + 1e-7]))
"""
from collections.abc import Mapping, Sequence

import numpy as np

from symgrad.eager.dtypes import of_numpy
from symgrad.eager.tensor import Tensor, _check_concrete

# PyTorch's (rtol, atol) by dtype when neither is given
TOLERANCES = {np.dtype(np.float16): (1e-3, 1e-5), np.dtype(np.float32): (1.3e-6, 1e-5),
              np.dtype(np.float64): (1e-7, 1e-7), np.dtype(np.complex64): (1.3e-6, 1e-5),
              np.dtype(np.complex128): (1e-7, 1e-7)}


def _array(value):
    if isinstance(value, Tensor):
        _check_concrete(value, "assert_close()")
        return np.asarray(value._value), True
    return np.asarray(value), False


def _fail(msg, default):
    raise AssertionError(msg(default) if callable(msg) else (msg or default))


def _attribute(name, actual, expected, msg):
    _fail(msg, f"The values for attribute '{name}' do not match: {actual} != {expected}.")


def assert_close(actual, expected, *, allow_subclasses=True, rtol=None, atol=None,
                 equal_nan=False, check_device=True, check_dtype=True, check_layout=True,
                 check_stride=False, msg=None):
    """Raise AssertionError unless ``|actual - expected| <= atol + rtol * |expected|``
    elementwise (the same shapes and, by default, dtypes)."""
    if (rtol is None) != (atol is None):
        raise ValueError(f"Both 'rtol' and 'atol' must be either specified or omitted, but got "
                         f"no {'rtol' if rtol is None else 'atol'}.")
    if isinstance(actual, Mapping) and isinstance(expected, Mapping):
        if set(actual) != set(expected):
            _fail(msg, f"The keys of the mappings do not match: {sorted(map(str, actual))} != "
                       f"{sorted(map(str, expected))}")
        for key in actual:
            assert_close(actual[key], expected[key], rtol=rtol, atol=atol, equal_nan=equal_nan,
                         check_dtype=check_dtype, msg=msg)
        return
    if _is_sequence(actual) and _is_sequence(expected):
        if len(actual) != len(expected):
            _fail(msg, f"The length of the sequences mismatch: {len(actual)} != {len(expected)}")
        for a, e in zip(actual, expected):
            assert_close(a, e, rtol=rtol, atol=atol, equal_nan=equal_nan,
                         check_dtype=check_dtype, msg=msg)
        return
    _compare(actual, expected, rtol, atol, equal_nan, check_dtype, msg)


def _is_sequence(value):
    return isinstance(value, Sequence) and not isinstance(value, str)


def _compare(actual, expected, rtol, atol, equal_nan, check_dtype, msg):
    (a, a_is_tensor), (e, e_is_tensor) = _array(actual), _array(expected)
    scalars = not (a_is_tensor or e_is_tensor or isinstance(actual, np.ndarray))
    if a_is_tensor != e_is_tensor and not scalars:
        raise TypeError(f"No comparison pair was able to handle inputs of type "
                        f"{type(actual)} and {type(expected)}.")
    if a.shape != e.shape:
        _attribute("shape", f"torch.Size({list(a.shape)})", f"torch.Size({list(e.shape)})", msg)
    if check_dtype and not scalars and a.dtype != e.dtype:
        _attribute("dtype", of_numpy(a.dtype), of_numpy(e.dtype), msg)
    if rtol is None:
        rtol, atol = max((TOLERANCES.get(d, (0.0, 0.0)) for d in (a.dtype, e.dtype)))
    _compare_values(a, e, rtol, atol, equal_nan, msg, "Scalars" if scalars else "Tensor-likes")


def _compare_values(a, e, rtol, atol, equal_nan, msg, kind):
    if a.dtype == np.bool_ or e.dtype == np.bool_:
        a, e = a.astype(np.int64), e.astype(np.int64)
    wide = np.complex128 if np.iscomplexobj(a) or np.iscomplexobj(e) else np.float64
    a, e = a.astype(wide), e.astype(wide)
    with np.errstate(invalid="ignore", over="ignore"):
        close = np.isclose(a, e, rtol=rtol, atol=atol, equal_nan=equal_nan)
    if close.all():
        return
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        absolute = np.abs(a - e)
        relative = absolute / np.abs(e)
    absolute, relative = np.where(close, 0, absolute), np.where(close, 0, relative)
    if a.ndim == 0:
        _fail(msg, f"{kind} are not close!\n\nExpected {e.item()} but got {a.item()}.\n"
                   f"Absolute difference: {absolute.item()} (up to {atol} allowed)\n"
                   f"Relative difference: {relative.item()} (up to {rtol} allowed)")
    wrong = int((~close).sum())
    where_abs = np.unravel_index(np.nanargmax(np.nan_to_num(absolute, nan=np.inf)), a.shape)
    where_rel = np.unravel_index(np.nanargmax(np.nan_to_num(relative, nan=np.inf)), a.shape)
    _fail(msg, f"{kind} are not close!\n\n"
               f"Mismatched elements: {wrong} / {a.size} ({100 * wrong / a.size:.1f}%)\n"
               f"Greatest absolute difference: {absolute[where_abs]} at index "
               f"{tuple(int(i) for i in where_abs)} (up to {atol} allowed)\n"
               f"Greatest relative difference: {relative[where_rel]} at index "
               f"{tuple(int(i) for i in where_rel)} (up to {rtol} allowed)")


def assert_allclose(actual, expected, rtol=None, atol=None, equal_nan=True, msg=""):
    """The older spelling (``torch.testing.assert_allclose``): no dtype check."""
    assert_close(actual, expected, rtol=rtol, atol=atol, equal_nan=equal_nan,
                 check_dtype=False, msg=msg or None)
