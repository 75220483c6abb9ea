"""Distances and similarities with PyTorch's formulas, defaults and errors:
``F.cosine_similarity``, ``F.pairwise_distance``, ``F.normalize``, ``F.bilinear``.

Each is one recorded node computed by symgrad ops (gradients of any order derived, eagerly
and in sg.train); norms are clamped at ``eps`` as PyTorch clamps them.

>>> import symgrad as torch
>>> from symgrad.nn import functional as F
>>> F.normalize(torch.tensor([[3.0, 4.0]])).tolist()
[[0.6000000238418579, 0.800000011920929]]
"""
import numpy as np

import symgrad.core.ops as ops
from symgrad.eager.dims import normalize_dim
from symgrad.eager.tensor import apply
from symgrad.nn.functional_loss import broadcast_mismatch
from symgrad.nn.input_checks import expect_tensor


# -- module-level functions the tape replays ---------------------------------------------------
def p_norm_of(x, p, axis, keepdims=False):
    """The ``p``-norm of ``x`` along ``axis`` (``inf``: the largest ``|x|``; 0: the count of
    nonzero entries)."""
    magnitude = ops.absolute(x)
    if p == np.inf:
        return ops.amax(magnitude, axis, keepdims=keepdims)
    if p == 0:
        return ops.sum(ops.astype(ops.not_equal(x, 0), x.dtype), axis, keepdims=keepdims)
    if p == 2:
        return ops.sqrt(ops.sum(ops.multiply(x, x), axis, keepdims=keepdims))
    if p == 1:
        return ops.sum(magnitude, axis, keepdims=keepdims)
    return ops.power(ops.sum(ops.power(magnitude, p), axis, keepdims=keepdims), 1.0 / p)


def cosine_similarity_of(a, b, axis, eps):
    a_unit = ops.true_divide(a, ops.maximum(p_norm_of(a, 2, axis, True), eps))
    b_unit = ops.true_divide(b, ops.maximum(p_norm_of(b, 2, axis, True), eps))
    return ops.sum(ops.multiply(a_unit, b_unit), axis)


def pairwise_distance_of(a, b, p, eps, keepdim):
    return p_norm_of(ops.add(ops.subtract(a, b), eps), p, -1, keepdim)


def normalize_of(x, p, axis, eps):
    return ops.true_divide(x, ops.maximum(p_norm_of(x, p, axis, True), eps))


def bilinear_of(a, b, weight, bias):
    """``a_i W_kij b_j + bias_k`` over the leading (batch) dimensions of ``a`` and ``b``."""
    batch = a.shape[:-1]
    rows_a = ops.reshape(a, (-1, a.shape[-1]))
    rows_b = ops.reshape(b, (-1, b.shape[-1]))
    out = ops.einsum("ni,kij,nj->nk", rows_a, weight, rows_b)
    if bias is not None:
        out = ops.add(out, bias)
    return ops.reshape(out, tuple(batch) + (weight.shape[0],))


# -- the functions -----------------------------------------------------------------------------
def _check_broadcast(x1, x2):
    mismatch = broadcast_mismatch(x1.shape, x2.shape)
    if mismatch:
        raise RuntimeError(mismatch)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """``x1 . x2 / (max(|x1|, eps) max(|x2|, eps))`` along ``dim`` (the inputs broadcast)."""
    expect_tensor(x1, "cosine_similarity", "x1")
    expect_tensor(x2, "cosine_similarity", "x2")
    _check_broadcast(x1, x2)
    ndim = max(x1.dim(), x2.dim())
    axis = normalize_dim(dim, (1,) * ndim, "cosine_similarity()") - ndim
    return apply("SumBackward1", cosine_similarity_of, x1, x2, axis=axis, eps=float(eps))


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """The ``p``-norm of ``x1 - x2 + eps`` along the last dimension."""
    expect_tensor(x1, "pairwise_distance", "x1")
    expect_tensor(x2, "pairwise_distance", "x2")
    _check_broadcast(x1, x2)
    return apply("NormBackward1", pairwise_distance_of, x1, x2, p=float(p), eps=float(eps),
                 keepdim=bool(keepdim))


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """``input / max(|input|_p, eps)`` along ``dim``."""
    expect_tensor(input, "normalize")
    if out is not None:
        raise NotImplementedError("normalize: out= is not supported by symgrad")
    axis = normalize_dim(dim, input.shape, "normalize()")
    return apply("DivBackward0", normalize_of, input, p=float(p), axis=axis, eps=float(eps))


def bilinear(input1, input2, weight, bias=None):
    """``input1^T W_k input2 + bias_k`` for each output ``k``; ``weight`` (out, in1, in2)."""
    expect_tensor(input1, "bilinear", "input1")
    expect_tensor(input2, "bilinear", "input2")
    for position, (x, size) in enumerate(((input1, weight.shape[1]), (input2, weight.shape[2])),
                                         start=1):
        if x.dim() == 0 or x.shape[-1] != size:
            raise RuntimeError(f"bilinear(): input{position} size does not match weight size: "
                               f"got {x.shape[-1] if x.dim() else 0} but expected {size}")
    if input1.dim() != input2.dim():
        raise RuntimeError(f"bilinear(): input dimensions do not match: got {input1.dim()} "
                           f"and {input2.dim()}")
    for dim, (a, b) in enumerate(zip(input1.shape[:-1], input2.shape[:-1])):
        if a != b:
            raise RuntimeError(f"bilinear(): input batch dimensions do not match at dim {dim}: "
                               f"got {a} and {b}")
    return apply("AddBackward0", bilinear_of, input1, input2, weight, bias)
