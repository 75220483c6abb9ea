"""Batching rules (``vmap``): how an op applies to operands that carry one extra batch axis.

A rule is ``rule(name, operands, dims, **params) -> (tracer, dim)``: ``operands`` are the
batched operands (tracers), ``dims[i]`` the position of operand ``i``'s batch axis or None
for an operand shared by every example (at least one is batched); the result is the batched
output and the position of its batch axis (None when the output is the same for every
example). Rules build ordinary ops, so a vmapped graph is differentiable and compiles like
any other. Every op declares its rule with the op (``declare(..., batch=...)``); ops with a
scalar template share :func:`elementwise`.

>>> import numpy as np, symgrad as sg
>>> sg.vmap(lambda row: row.sum(), backend="reference")(np.ones((2, 3)))
array([3., 3.])
"""
import math

import numpy as np

from symgrad.core.tracing import bind, constant


def size_of(operands, dims):
    """The batch size: the length of the first batched operand's batch axis."""
    return next(x.shape[d] for x, d in zip(operands, dims) if d is not None)


def moved(x, dim, to=0):
    """``x`` with its batch axis ``dim`` moved to position ``to`` (no node if it is there)."""
    if dim == to:
        return x
    axes = [a for a in range(x.ndim) if a != dim]
    axes.insert(to, dim)
    return bind("transpose", x, axes=tuple(axes))


def at_front(x, dim, size):
    """``x`` with its batch axis first; a shared operand is broadcast along a new one."""
    if dim is None:
        return bind("broadcast_to", x, shape=(size,) + x.shape)
    return moved(x, dim)


def padded(x, rank):
    """``x`` (batch axis first) with axes of length 1 after the batch axis up to ``rank``, so
    that its example broadcasts against examples of higher rank."""
    if x.ndim >= rank:
        return x
    return bind("reshape", x, shape=x.shape[:1] + (1,) * (rank - x.ndim) + x.shape[1:])


def example_rank(x, dim):
    return x.ndim - (dim is not None)


def full_axis(axis, dim):
    """The axis of the batched array that is axis ``axis`` of an example."""
    return axis + (axis >= dim)


def elementwise(name, operands, dims, **params):
    """Operands broadcast against each other: batched ones get their batch axis first, padded
    to the examples' common rank; shared ones broadcast from the right as they are."""
    batched = [(x, d) for x, d in zip(operands, dims) if d is not None]
    if len(batched) == len(operands) and len({(x.ndim, d) for x, d in batched}) == 1:
        return bind(name, *operands, **params), dims[0]
    rank = max(example_rank(x, d) for x, d in zip(operands, dims))
    lined_up = [x if d is None else padded(moved(x, d), rank + 1) for x, d in zip(operands, dims)]
    return bind(name, *lined_up, **params), 0


def reduction(name, operands, dims, axes, keepdims):
    """``axes`` of an example are shifted past the batch axis, which is never reduced."""
    (x,), (dim,) = operands, dims
    shifted = tuple(full_axis(a, dim) for a in axes)
    out_dim = dim if keepdims else dim - sum(a < dim for a in shifted)
    return bind(name, x, axes=shifted, keepdims=keepdims), out_dim


def along_axis(name, operands, dims, axis, **params):
    """One-operand ops along ``axis`` (argsort, argmax with ``keepdims``): the axis shifts past
    the batch axis; the batch axis moves down one where ``keepdims=False`` removes an axis
    before it."""
    (x,), (dim,) = operands, dims
    shifted = full_axis(axis, dim)
    dropped = params.get("keepdims") is False and shifted < dim
    return bind(name, x, axis=shifted, **params), dim - dropped


def stacked(name, operands, dims, **params):
    """Ops on stacks of matrices with numpy's broadcasting of the stack axes (matmul, solve,
    the decompositions): batch axes first, examples padded to one stack rank."""
    rank = max(example_rank(x, d) for x, d in zip(operands, dims))
    lined_up = [x if d is None else padded(moved(x, d), rank + 1) for x, d in zip(operands, dims)]
    return bind(name, *lined_up, **params), 0


def matmul(name, operands, dims, **params):
    """A batch of products with one shared 2-D matrix is one product of a taller (or wider)
    matrix, a single GEMM; a batch of outer products (inner size 1) a broadcast ``mul``;
    otherwise a stacked product."""
    (a, b), (da, db) = operands, dims
    if db is None and b.ndim == 2:
        a = moved(a, da)
        product = bind("matmul", bind("reshape", a, shape=(math.prod(a.shape[:-1]), a.shape[-1])), b)
        return bind("reshape", product, shape=a.shape[:-1] + b.shape[-1:]), 0
    if da is None and a.ndim == 2 and b.ndim == 3:
        b = moved(b, db, 1)                                  # (k, batch, m)
        product = bind("matmul", a, bind("reshape", b, shape=(b.shape[0], b.shape[1] * b.shape[2])))
        return bind("reshape", product, shape=(a.shape[0],) + b.shape[1:]), 1
    inner = a.shape[-1] if da != a.ndim - 1 else a.shape[-2]     # the example's last axis
    if inner == 1 and a.dtype == b.dtype:
        # outer products (the weight gradients of per-example gradients): one elementwise
        # loop nest over the batch, not a product of inner size 1 per example
        return stacked("mul", operands, dims)
    return stacked(name, operands, dims, **params)


def per_example(name, operands, dims, **params):
    """The fallback where no batched form of the op exists: the op once per example, the
    results stacked (one node per example: use only where batching is impossible)."""
    size = size_of(operands, dims)
    results = []
    for i in range(size):
        example = [x if d is None else bind("getitem", x, index=_full(x, d) + (i,))
                   for x, d in zip(operands, dims)]
        result = bind(name, *example, **params)
        results.append(bind("reshape", result, shape=(1,) + result.shape))
    return (bind("concatenate", *results, axis=0) if size > 1 else results[0]), 0


def _full(x, count):
    """Index entries that keep the first ``count`` axes of ``x`` whole."""
    return tuple((0, n, 1) for n in x.shape[:count])


def images(name, operands, dims, image_operands=(0,), **params):
    """Convolution and pooling ops on (N, C, H, W) images: the batch folds into N when only
    image operands are batched (the weights shared); otherwise :func:`per_example`."""
    if any(d is not None for i, d in enumerate(dims) if i not in image_operands):
        return per_example(name, operands, dims, **params)
    size = size_of(operands, dims)
    folded = []
    for i, (x, d) in enumerate(zip(operands, dims)):
        if i in image_operands:
            x = at_front(x, d, size)
            x = bind("reshape", x, shape=(size * x.shape[1],) + x.shape[2:])
        folded.append(x)
    out = bind(name, *folded, **params)
    return bind("reshape", out, shape=(size, out.shape[0] // size) + out.shape[1:]), 0


def image_rule(*positions):
    """:func:`images` for an op whose operands at ``positions`` are (N, ...) images."""
    def rule(name, operands, dims, **params):
        return images(name, operands, dims, positions, **params)
    rule.__doc__ = f"Images at operands {positions} fold the batch into N (batch_rules.images)."
    return rule


def offsets(size, length, rank, dtype):
    """``[0, length, 2 length, ...]`` along a leading axis of ``size``, broadcastable over
    ``rank - 1`` more axes: example ``b``'s indices into a folded (batch * length) axis."""
    return np.arange(size, dtype=dtype).reshape((size,) + (1,) * (rank - 1)) * length


def folded_axis(x, dim, axis, size):
    """``x`` with its batch axis folded into example axis ``axis`` (batch-major)."""
    x = moved(at_front(x, dim, size), 0, axis)
    return bind("reshape", x, shape=x.shape[:axis] + (size * x.shape[axis + 1],) + x.shape[axis + 2:])


def shifted_indices(graph, indices, dim, size, length):
    """Per-example ``indices`` into a folded axis: example ``b`` offset by ``b * length``."""
    indices = at_front(indices, dim, size)
    return bind("add", indices, constant(graph, offsets(size, length, indices.ndim, indices.dtype)))


def gather(name, operands, dims, axis):
    """``take(x, indices, axis)`` per example: shared indices shift past the batch axis;
    batched indices index the batch-folded axis of ``x``."""
    (x, indices), (dx, di) = operands, dims
    if di is None:
        return bind(name, moved(x, dx), indices, axis=axis + 1), 0
    size, length = size_of(operands, dims), x.shape[full_axis(axis, dx)] if dx is not None \
        else x.shape[axis]
    folded = folded_axis(x, dx, axis, size)
    return bind(name, folded, shifted_indices(x.graph, indices, di, size, length), axis=axis), axis


def scatter_add(name, operands, dims, axis):
    """``np.add.at`` per example: with shared indices every example's axis shifts; with
    batched ones, the batch folds into the scattered axis (indices shifted per example)."""
    (x, indices, v), (dx, di, dv) = operands, dims
    size = size_of(operands, dims)
    if di is None:
        return bind(name, at_front(x, dx, size), indices, at_front(v, dv, size), axis=axis + 1), 0
    length = x.shape[full_axis(axis, dx)] if dx is not None else x.shape[axis]
    target = folded_axis(x, dx, axis, size)
    values = moved(at_front(v, dv, size), 0, axis)       # (..., batch, *indices' shape, ...)
    out = bind(name, target, shifted_indices(x.graph, indices, di, size, length), values,
               axis=axis)
    return bind("reshape", out, shape=out.shape[:axis] + (size, length) + out.shape[axis + 1:]), axis
