"""Reductions over axes (sum, max, min, prod) and mean, built on sum.

The primitives take ``axes`` (a sorted tuple) and ``keepdims``; their VJPs broadcast the
cotangent back over the reduced axes.
"""
import numpy as np

from symgrad.core.ops.common import normalize_axes
from symgrad.core.ops.elementwise import astype, equal, floating
from symgrad.core.ops.registry import declare, faced
from symgrad.core.ops.shape import broadcast_to, reshape
from symgrad.core.tracing import Tracer, bind


def reduced_shape(shape, axes, keepdims):
    if keepdims:
        return tuple(1 if i in axes else d for i, d in enumerate(shape))
    return tuple(d for i, d in enumerate(shape) if i not in axes)


def reduction_rule(x, axes, keepdims):
    dtype = np.add.reduce(np.zeros(1, x.dtype)).dtype
    return reduced_shape(x.shape, axes, keepdims), dtype


def extremum_rule(x, axes, keepdims):
    if any(x.shape[a] == 0 for a in axes):
        raise ValueError("zero-size array to a reduction with no identity")
    return reduced_shape(x.shape, axes, keepdims), x.dtype


def expand_back(g, x, axes, keepdims):
    """Broadcast a reduction's cotangent (or output) back to the operand's shape."""
    if not keepdims:
        g = reshape(g, reduced_shape(x.shape, axes, True))
    return broadcast_to(g, x.shape)


def extremum_vjp(g, out, x, axes, keepdims):
    """Split the cotangent evenly among the positions that attain the extremum (as JAX does)."""
    hits = astype(equal(x, expand_back(out, x, axes, keepdims)), g.dtype)
    count = bind("sum", hits, axes=axes, keepdims=True)
    return expand_back(g, x, axes, keepdims) * hits / count


def prod_vjp(g, out, x, axes, keepdims):
    """The product of the other elements of each reduced slice, exact at zeros as PyTorch's
    ``prod_backward``: ``out / x`` where a slice has no zero; with one zero, the product of
    the nonzero elements at the zero and 0 elsewhere; with more, 0. Zeros enter through
    ``x`` itself (their product, their sum), never as constants, so that second derivatives
    are right as well with up to two zeros in a slice (with more, all of them are 0)."""
    from symgrad.core.ops.elementwise import astype, equal, where
    is_zero = equal(x, 0)
    zeros = bind("sum", astype(is_zero, x.dtype), axes=axes, keepdims=True)
    nonzero = where(is_zero, 1, x)
    product_of_nonzero = bind("prod", nonzero, axes=axes, keepdims=True)
    product_of_zeros = bind("prod", where(is_zero, x, 1), axes=axes, keepdims=True)
    sum_of_zeros = bind("sum", where(is_zero, x, 0), axes=axes, keepdims=True)
    other_zeros = where(zeros == 1, 1, where(zeros == 2, sum_of_zeros - x, 0))
    others = where(is_zero, product_of_nonzero * other_zeros,
                   product_of_nonzero / nonzero * product_of_zeros)
    return expand_back(g, x, axes, keepdims) * others


declare("sum", reduction_rule, lambda x, axes, keepdims: np.sum(x, axis=axes, keepdims=keepdims),
        [lambda g, out, x, axes, keepdims: expand_back(g, x, axes, keepdims)],
        family="reduction", params=("axes", "keepdims"))
declare("max", extremum_rule, lambda x, axes, keepdims: np.max(x, axis=axes, keepdims=keepdims),
        [extremum_vjp], family="reduction", params=("axes", "keepdims"))
declare("min", extremum_rule, lambda x, axes, keepdims: np.min(x, axis=axes, keepdims=keepdims),
        [extremum_vjp], family="reduction", params=("axes", "keepdims"))
declare("prod", reduction_rule, lambda x, axes, keepdims: np.prod(x, axis=axes, keepdims=keepdims),
        [prod_vjp], family="reduction", params=("axes", "keepdims"))


def _reduce(name, x, axis, keepdims, dtype=None):
    if not isinstance(x, Tracer):
        extra = {} if dtype is None else {"dtype": dtype}
        return getattr(np, name)(x, axis=axis, keepdims=keepdims, **extra)
    if dtype is not None:
        x = astype(x, dtype)
    return bind(name, x, axes=normalize_axes(axis, x.ndim, name), keepdims=bool(keepdims))


@faced(numpy=(np.sum,), method=("sum",), torch=("sum",))
def sum(x, axis=None, keepdims=False, dtype=None):  # noqa: A001 - numpy's name
    return _reduce("sum", x, axis, keepdims, dtype)


@faced(numpy=(np.max, np.amax), method=("max",), torch=("max",))
def amax(x, axis=None, keepdims=False):
    return _reduce("max", x, axis, keepdims)


@faced(numpy=(np.min, np.amin), method=("min",), torch=("min",))
def amin(x, axis=None, keepdims=False):
    return _reduce("min", x, axis, keepdims)


@faced(numpy=(np.prod,), method=("prod",), torch=("prod",))
def prod(x, axis=None, keepdims=False, dtype=None):
    return _reduce("prod", x, axis, keepdims, dtype)


@faced(numpy=(np.mean,), method=("mean",), torch=("mean",))
def mean(x, axis=None, keepdims=False, dtype=None):
    """Sum divided by the count; integers average in float64 as in numpy."""
    if not isinstance(x, Tracer):
        return np.mean(x, axis=axis, keepdims=keepdims, dtype=dtype)
    x = astype(x, dtype or floating(x))
    axes = normalize_axes(axis, x.ndim, "mean")
    count = int(np.prod([x.shape[a] for a in axes], dtype=np.int64))
    return sum(x, axes, keepdims) / count
