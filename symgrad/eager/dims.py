"""Dimension arguments as PyTorch checks them."""
import numpy as np


def normalize_dim(dim, shape, function):
    """``dim`` of a tensor of ``shape`` as a non-negative index (a 0-d tensor has dims -1
    and 0, as in PyTorch), or PyTorch's IndexError naming the range and the shape."""
    ndim = max(len(shape), 1)
    if isinstance(dim, (bool, np.bool_)) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{function}: dim must be an integer, got {dim!r}")
    if not -ndim <= dim < ndim:
        raise IndexError(f"{function}: Dimension out of range (expected to be in range of "
                         f"[{-ndim}, {ndim - 1}], but got {dim}) for a tensor of shape "
                         f"{tuple(shape)}")
    return int(dim) % ndim
