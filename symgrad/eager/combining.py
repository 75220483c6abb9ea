"""PyTorch's functions that build tensors from tensors, differentiable (written with
recorded Tensor operations): ``cartesian_prod``, ``combinations``, ``block_diag``, ``cov``,
``corrcoef``, ``trapezoid``, ``cumulative_trapezoid``.

>>> import symgrad as torch
>>> torch.block_diag(torch.tensor([[1, 2]]), torch.tensor(3))
tensor([[1, 2, 0],
        [0, 0, 3]])
>>> torch.trapezoid(torch.tensor([1.0, 2.0, 4.0]))
tensor(4.5000)
"""
import functools
import itertools
import warnings

import numpy as np

from symgrad.eager.dims import normalize_dim
from symgrad.eager.joining import cat, stack
from symgrad.eager.promotion import promote_types
from symgrad.eager.tensor import Tensor


def _check_vectors(tensors):
    for tensor in tensors:
        if tensor.dim() != 1:
            raise RuntimeError(f"Expect a 1D vector, but got shape {list(tensor.shape)}")


def cartesian_prod(*tensors):
    """Every combination of one element of each 1-D tensor, as rows (``itertools.product``)."""
    _check_vectors(tensors)
    if len(tensors) == 1:
        return tensors[0]
    grids = np.meshgrid(*(np.arange(len(t)) for t in tensors), indexing="ij")
    return stack([t[Tensor(g.reshape(-1))] for t, g in zip(tensors, grids)], 1)


def combinations(input, r=2, with_replacement=False):  # noqa: A002
    """The ``r``-element combinations of a 1-D tensor's elements, as rows."""
    _check_vectors([input])
    choose = itertools.combinations_with_replacement if with_replacement else \
        itertools.combinations
    picks = np.array(list(choose(range(len(input)), r)), np.int64).reshape(-1, r)
    return input[Tensor(picks)]


def block_diag(*tensors):
    """The tensors (at most 2-D; 0-D and 1-D are one row) down the diagonal of one matrix."""
    blocks = []
    for index, tensor in enumerate(tensors):
        if tensor.dim() > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer "
                               f"dimensions. Input {index} has {tensor.dim()} dimensions")
        blocks.append(tensor.reshape(1, -1) if tensor.dim() < 2 else tensor)
    dtype = functools.reduce(promote_types, (np.dtype(b.dtype) for b in blocks)) if blocks \
        else np.dtype(np.float32)
    width = sum(b.shape[1] for b in blocks)
    rows, start = [], 0
    for block in blocks:
        before = Tensor(np.zeros((block.shape[0], start), dtype))
        after = Tensor(np.zeros((block.shape[0], width - start - block.shape[1]), dtype))
        rows.append(cat([before, block.to(dtype), after], 1))
        start += block.shape[1]
    return cat(rows, 0) if rows else Tensor(np.zeros((0, 0), dtype))


def cov(input, *, correction=1, fweights=None, aweights=None):  # noqa: A002
    """The covariance of the variables in ``input``'s rows (observations in columns),
    optionally weighted by frequency and importance weights."""
    if input.dim() > 2:
        raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got an "
                           f"input with {input.dim()} dimensions")
    observations = input.reshape(1, -1) if input.dim() < 2 else input
    if np.dtype(observations.dtype).kind not in "fc":
        observations = observations.to(np.float32)
    count = observations.shape[1]
    weights = None
    for name, given in (("fweights", fweights), ("aweights", aweights)):
        if given is None:
            continue
        if given.dim() > 1 or given.numel() != count:
            raise RuntimeError(f"cov(): expected {name} to have one dimension and the same "
                               f"number of elements as the number of observations")
        given = given.to(observations.dtype)
        weights = given if weights is None else weights * given
    if weights is None:
        total = float(count)
        average = observations.mean(1)
    else:
        total = weights.sum()
        average = (observations * weights).sum(1) / total
    if weights is not None and correction != 0:
        norm = total - (correction * (weights * aweights.to(weights.dtype)).sum() / total
                        if aweights is not None else correction)
    else:
        norm = total - correction
    if float(norm) <= 0:
        warnings.warn("cov(): degrees of freedom is <= 0. Correction should be strictly "
                      "less than the number of observations.", UserWarning, stacklevel=2)
        norm = norm * 0
    centered = observations - average.unsqueeze(1)
    weighted = centered if weights is None else centered * weights
    return ((centered @ weighted.t()) / norm).squeeze()


def corrcoef(input):  # noqa: A002
    """Pearson correlation coefficients of the variables in ``input``'s rows."""
    c = cov(input)
    if c.dim() == 0:
        return c / c
    stddev = c.diagonal().sqrt()
    c = c / stddev.unsqueeze(1)
    c = c / stddev.unsqueeze(0)
    return c.clamp(-1, 1)


def _spacing(y, x, dx, axis, function):
    if x is None:
        return dx
    if x.dim() == 1:
        if x.shape[0] != y.shape[axis]:
            raise RuntimeError(f"{function}: There must be one `x` value for each sample point")
        shape = [1] * y.dim()
        shape[axis] = -1
        return x.diff().reshape([s if s != -1 else x.shape[0] - 1 for s in shape])
    return x.diff(dim=axis)


def _ends(y, axis):
    n = y.shape[axis]
    return y.narrow(axis, 1, n - 1), y.narrow(axis, 0, n - 1)


def trapezoid(y, x=None, *, dx=None, dim=-1):
    """The integral of ``y`` along ``dim`` by the trapezoidal rule, with sample points ``x``
    or spacing ``dx`` (default 1)."""
    axis = normalize_dim(dim, y.shape, "trapezoid()")
    if y.shape[axis] == 0:
        return y.sum(axis)
    upper, lower = _ends(y, axis)
    spacing = _spacing(y, x, 1.0 if dx is None else dx, axis, "trapezoid")
    return ((upper + lower) * spacing).sum(axis) / 2


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    """The running trapezoidal integral of ``y`` along ``dim`` (one fewer element)."""
    axis = normalize_dim(dim, y.shape, "cumulative_trapezoid()")
    upper, lower = _ends(y, axis)
    spacing = _spacing(y, x, 1.0 if dx is None else dx, axis, "cumulative_trapezoid")
    return ((upper + lower) * spacing / 2).cumsum(axis)


def combining_functions():
    return {"cartesian_prod": cartesian_prod, "combinations": combinations,
            "block_diag": block_diag, "cov": cov, "corrcoef": corrcoef, "trapezoid": trapezoid,
            "trapz": trapezoid, "cumulative_trapezoid": cumulative_trapezoid}


def combining_methods():
    return {"cov": cov, "corrcoef": corrcoef}
