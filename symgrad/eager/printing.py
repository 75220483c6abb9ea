"""``repr(tensor)`` as PyTorch prints it: four decimals, or whole numbers with a point, or
scientific notation when the magnitudes are far apart; the dtype when it is not the default.

>>> import symgrad as torch
>>> torch.tensor([1.5, 2.0]), torch.tensor([1e-5, 1e5]), torch.tensor([[1., 2.], [3., 4.]])
(tensor([1.5000, 2.0000]), tensor([1.0000e-05, 1.0000e+05]), tensor([[1., 2.],
        [3., 4.]]))
"""
import numpy as np

from symgrad.eager.dtypes import get_default_dtype, int64, bool as bool_dtype

PRECISION = 4
THRESHOLD = 1000        # more elements than this are summarized with "..."
EDGE_ITEMS = 3
LINE_WIDTH = 80


def float_format(values):
    """The format of one element of an array of floats, as ``torch._tensor_str`` chooses it."""
    finite = np.abs(values[np.isfinite(values)]).astype(np.float64)
    nonzero = finite[finite != 0]
    if nonzero.size == 0:
        return "{:.0f}."
    largest, smallest = nonzero.max(), nonzero.min()
    if np.all(finite == np.ceil(finite)):     # whole numbers: 1., 2.
        return f"{{:.{PRECISION}e}}" if largest > 1e8 else "{:.0f}."
    if largest / smallest > 1000.0 or largest > 1e8 or smallest < 1e-4:
        return f"{{:.{PRECISION}e}}"
    return f"{{:.{PRECISION}f}}"


def element_formatter(array):
    """A function formatting each element of ``array`` to one common width."""
    if array.dtype.kind in "biu":
        text = str
    else:
        pattern = float_format(_shown(array).ravel())
        text = lambda v: pattern.format(v) if np.isfinite(v) else str(float(v))  # noqa: E731
    width = max((len(text(v)) for v in _shown(array).ravel()), default=1)
    return lambda v: text(v).rjust(width)


def _shown(array):
    """The elements the summary shows (all of a small array; the edges of a large one)."""
    if array.size <= THRESHOLD or array.ndim == 0:
        return array
    for axis in range(array.ndim):
        if array.shape[axis] > 2 * EDGE_ITEMS:
            ends = np.r_[0:EDGE_ITEMS, array.shape[axis] - EDGE_ITEMS:array.shape[axis]]
            array = np.take(array, ends, axis=axis)
    return array


def body(array):
    """The numbers of ``tensor(...)``."""
    if array.ndim == 0:
        return element_formatter(array)(array[()]).strip()
    text = np.array2string(array, separator=", ", prefix="tensor(", max_line_width=LINE_WIDTH,
                           threshold=THRESHOLD, edgeitems=EDGE_ITEMS,
                           formatter={"all": element_formatter(array)})
    return text.replace(", ..., ", ",  ..., ")      # torch's ellipsis: " ..." between commas


def tensor_repr(tensor, array):
    """``repr`` of ``tensor`` whose data (on the host) is ``array``."""
    extras = [f"device='{tensor.device}'"] if tensor.is_cuda else []
    if tensor.dtype not in (get_default_dtype(), int64, bool_dtype):
        extras.append(f"dtype={tensor.dtype}")
    if tensor.grad_fn is not None:
        extras.append(f"grad_fn=<{tensor.grad_fn.name()}>")
    elif tensor.requires_grad:
        extras.append("requires_grad=True")
    text = body(array) if array.size else "[]"
    if not array.size and array.shape != (0,):
        extras.insert(0, f"size={tuple(array.shape)}")
    return f"tensor({text}{''.join(', ' + e for e in extras)})"
