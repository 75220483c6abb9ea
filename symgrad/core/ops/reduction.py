"""Reductions over axes (sum, max, min, prod) and mean, built on sum.

The primitives take ``axes`` (a sorted tuple) and ``keepdims``; their VJPs broadcast the
cotangent back over the reduced axes.
"""
import numpy as np

import symgrad.core.ops.batch_rules as batch_rules
from symgrad.core.ops.common import normalize_axes
from symgrad.core.ops.elementwise import astype, equal, floating, maximum, minimum
from symgrad.core.ops.registry import declare, faced
from symgrad.core.ops.shape import broadcast_to, reshape
from symgrad.core.tracing import Tracer, bind, error_here


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
        family="reduction", params=("axes", "keepdims"), batch=batch_rules.reduction)
declare("max", extremum_rule, lambda x, axes, keepdims: np.max(x, axis=axes, keepdims=keepdims),
        [extremum_vjp], family="reduction", params=("axes", "keepdims"),
        batch=batch_rules.reduction)
declare("min", extremum_rule, lambda x, axes, keepdims: np.min(x, axis=axes, keepdims=keepdims),
        [extremum_vjp], family="reduction", params=("axes", "keepdims"),
        batch=batch_rules.reduction)
declare("prod", reduction_rule, lambda x, axes, keepdims: np.prod(x, axis=axes, keepdims=keepdims),
        [prod_vjp], family="reduction", params=("axes", "keepdims"), batch=batch_rules.reduction)


# how an ``initial`` value joins a reduction's result
COMBINE = {"sum": lambda r, v: r + v, "prod": lambda r, v: r * v, "max": maximum,
           "min": minimum}


def _reduce(name, x, axis, keepdims, dtype=None, out=None, initial=None):
    """numpy's ``name`` reduction; ``initial`` joins the reduction as one more element."""
    if out is not None:
        raise error_here(f"np.{name}(..., out=...) is not supported by symgrad; write "
                         f"y = np.{name}(x) instead")
    if not isinstance(x, Tracer):
        extra = {key: value for key, value in (("dtype", dtype), ("initial", initial))
                 if value is not None}
        return getattr(np, name)(x, axis=axis, keepdims=keepdims, **extra)
    if dtype is not None:
        x = astype(x, dtype)
    result = bind(name, x, axes=normalize_axes(axis, x.ndim, name), keepdims=bool(keepdims))
    return result if initial is None else COMBINE[name](result, initial)


@faced(numpy=(np.sum,), method=("sum",), torch=("sum",))
def sum(x, axis=None, dtype=None, out=None, keepdims=False, initial=None):  # noqa: A001
    """``np.sum`` (numpy's name and signature).

    >>> import numpy as np, symgrad as sg
    >>> float(sg.jit(lambda x: np.sum(x, initial=10.0))(np.ones(3)))
    13.0
    """
    return _reduce("sum", x, axis, keepdims, dtype, out, initial)


@faced(numpy=(np.max, np.amax), method=("max",), torch=("max",))
def amax(x, axis=None, out=None, keepdims=False, initial=None):
    return _reduce("max", x, axis, keepdims, out=out, initial=initial)


@faced(numpy=(np.min, np.amin), method=("min",), torch=("min",))
def amin(x, axis=None, out=None, keepdims=False, initial=None):
    return _reduce("min", x, axis, keepdims, out=out, initial=initial)


@faced(numpy=(np.prod,), method=("prod",), torch=("prod",))
def prod(x, axis=None, dtype=None, out=None, keepdims=False, initial=None):
    return _reduce("prod", x, axis, keepdims, dtype, out, initial)


@faced(numpy=(np.mean,), method=("mean",), torch=("mean",))
def mean(x, axis=None, dtype=None, out=None, keepdims=False):
    """Sum divided by the count; integers average in float64 as in numpy."""
    if not isinstance(x, Tracer):
        return np.mean(x, axis=axis, keepdims=keepdims, dtype=dtype)
    if out is not None:
        raise error_here("np.mean(..., out=...) is not supported by symgrad; write "
                         "y = np.mean(x) instead")
    x = astype(x, dtype or floating(x))
    axes = normalize_axes(axis, x.ndim, "mean")
    count = int(np.prod([x.shape[a] for a in axes], dtype=np.int64))
    return sum(x, axes, keepdims=keepdims) / count
