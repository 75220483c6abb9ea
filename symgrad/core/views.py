"""Views, copies and writes of traced arrays, with numpy's aliasing.

numpy's basic indexing, transposes, ``broadcast_to`` and reshapes that need no copy return
views: a write into one is a write into its base (``b = a[1]; b += 1``, ``a[0:1][0] = 5``,
``a.T[0, 1] = 5``, ``a.reshape(-1)[0] = 5``). A view tracer records how it reads its base
and how a write goes back into it (a set-item of its region, a transpose or a reshape
back); the write gives the base a new node, and every view of that base re-reads it when
next used (Tracer.node). Where numpy copies (``flatten``, ``copy``, ``astype``, a reshape
or ravel of a non-contiguous view, integer indexing down to one element) the result is a
new array. numpy scalars (0-d results of arithmetic and reductions) and Python numbers are
immutable: ``s += 1`` gives the name ``s`` a new value, other names keep the old one.

Writes reach the traced value only: a function that writes into its argument does not
change the caller's array (the compiled function returns new arrays).
"""
import numpy as np

import symgrad.core.ops as ops
from symgrad.core.errors import TracingTypeError, TracingValueError
from symgrad.core.ops.indexing import has_arrays
from symgrad.core.ops.registry import faced
from symgrad.core.ops.shape import as_slices, normalize_index
from symgrad.core.tracing import Tracer, View, conformed, copy_of, error_here


def layout(x):
    """A stand-in ndarray with ``x``'s shape and strides (in elements) within its base
    array, over no memory: numpy's own rules on it say whether a reshape can be a view.
    It is never read."""
    if x.view is not None:
        return x.view.layout
    strides = [int(np.prod(x.shape[i + 1:], dtype=np.int64)) for i in range(x.ndim)]
    return np.lib.stride_tricks.as_strided(np.zeros(1, np.int8), x.shape, strides,
                                           writeable=False)


def view_of(base, value, read, write_back, probe, readonly=False):
    """``value`` (computed from ``base``) as a view: ``read(base)`` recomputes it, and
    ``write_back(base, new)`` is the base with the view's region replaced by ``new``."""
    if base.immutable:      # a numpy scalar shares no memory: x[...] of it is a new array
        return copy_of(value, immutable=False)
    view = View(base, base.node, read, write_back, probe, readonly or base.readonly)
    return Tracer(base.graph, value.node, view=view, immutable=False)


# -- indexing ---------------------------------------------------------------------------------
def getitem(x, index):
    if has_arrays(index) or isinstance(index, Tracer):
        return copy_of(ops.getitem(x, index))     # advanced indexing copies, as in numpy
    value = ops.getitem(x, index)
    entries = index if isinstance(index, tuple) else (index,)
    if len(entries) == x.ndim and all(isinstance(e, (int, np.integer)) for e in entries):
        return copy_of(value)       # one element: numpy gives a scalar, not a view
    # The stand-in is indexed with the checked, normalized index only (no fancy indexing,
    # which would read its memory).
    picked = layout(x)[as_slices(normalize_index(x.shape, index)[0])]
    return view_of(x, value, lambda base: ops.getitem(base, index),
                   lambda base, new: ops.setitem(base, index, ops.reshape(new, picked.shape)),
                   picked.reshape(value.shape, copy=False))


def setitem(x, index, value):
    """``x[index] = value``: ``x`` (and the base it views) holds the updated value."""
    if x.immutable:
        raise error_here(f"'{scalar_type(x)}' object does not support item assignment ({x!r} "
                         "is a scalar, a 0-d result of arithmetic or a reduction)",
                         TracingTypeError)
    x.write(ops.setitem(x, index, value))


@faced(method=("fill",))
def fill(x, value):
    if np.ndim(value) != 0:
        raise error_here(f"fill: the value must be a scalar, got shape {list(np.shape(value))}",
                         TracingValueError)
    setitem(x, Ellipsis, value)


def scalar_type(x):
    """What numpy calls a scalar of ``x``'s kind: ``float`` for a Python number."""
    if x.aval.weak:
        return {"b": "bool", "f": "float"}.get(x.dtype.kind, "int")
    return f"numpy.{x.dtype.name}"


def in_place(function, ufunc_name):
    """The operator ``x op= other``: writes into ``x`` (and the base it views); for an
    immutable ``x`` (a scalar) the name gets the new value instead, as in numpy."""
    def operator(x, other):
        result = function(x, other)
        if x.immutable:
            return result
        x.write(conformed(x, result, ufunc_name))
        return x
    return operator


# -- transposes --------------------------------------------------------------------------------
def _permuted(x, value, permutation):
    inverse = tuple(int(a) for a in np.argsort(permutation))
    return view_of(x, value, lambda base: ops.transpose(base, permutation),
                   lambda base, new: ops.transpose(new, inverse),
                   layout(x).transpose(permutation))


@faced(numpy=(np.transpose,))
def transpose(x, axes=None):
    value = ops.transpose(x, axes)
    permutation = (tuple(range(x.ndim))[::-1] if axes is None else
                   tuple(int(a) % x.ndim for a in axes))
    return _permuted(x, value, permutation)


@faced(numpy=(np.swapaxes,), method=("swapaxes",))
def swapaxes(x, axis1, axis2):
    value = ops.swapaxes(x, axis1, axis2)
    permutation = list(range(x.ndim))
    permutation[axis1], permutation[axis2] = permutation[axis2], permutation[axis1]
    return _permuted(x, value, tuple(permutation))


def matrix_transpose(x):
    return swapaxes(x, -1, -2)


# -- reshapes ----------------------------------------------------------------------------------
def _reshaped(x, value):
    """``value`` (x's elements in C order, another shape) as a view of ``x`` where numpy's
    reshape makes one, else as a new array."""
    try:
        probe = layout(x).reshape(value.shape, copy=False)
    except ValueError:              # x's strides allow no view of this shape: numpy copies
        return copy_of(value, immutable=False)
    return view_of(x, value, lambda base: ops.reshape(base, value.shape),
                   lambda base, new: ops.reshape(new, base.shape), probe)


@faced(numpy=(np.reshape,), torch=("reshape",))
def reshape(x, *shape):
    """``np.reshape`` and ``sg.reshape`` (``x.reshape`` too): a view of ``x`` where numpy's
    reshape makes one, so a write through it reaches ``x``; numpy's own on arrays."""
    if not isinstance(x, Tracer):
        return ops.reshape(x, *shape)
    return _reshaped(x, ops.reshape(x, *shape))


@faced(numpy=(np.expand_dims,))
def expand_dims(x, axis):
    return _reshaped(x, ops.expand_dims(x, axis))


@faced(numpy=(np.squeeze,), method=("squeeze",))
def squeeze(x, axis=None):
    return _reshaped(x, ops.squeeze(x, axis))


@faced(numpy=(np.ravel,), method=("ravel",))
def ravel(x):
    if not layout(x).flags.c_contiguous:
        return copy_of(ops.ravel(x), immutable=False)   # numpy's ravel copies these
    return _reshaped(x, ops.ravel(x))


@faced(method=("flatten",))
def flatten(x):
    return copy_of(ops.ravel(x), immutable=False)


@faced(numpy=(np.broadcast_to,))
def broadcast_to(x, shape):
    """numpy's read-only view: writing into it is an error, as in numpy."""
    value = ops.broadcast_to(x, shape)
    return view_of(x, value, lambda base: ops.broadcast_to(base, value.shape), None,
                   np.broadcast_to(layout(x), value.shape), readonly=True)


# -- copies ------------------------------------------------------------------------------------
@faced(method=("copy",))
def copy(x):
    """``x.copy()``: a new array (a scalar's copy is a scalar), as an identity node."""
    return copy_of(ops.identity(x), immutable=x.immutable)


@faced(numpy=(np.copy,))
def array_copy(a):
    """``np.copy(a)``: always an array."""
    return copy_of(ops.identity(a), immutable=False)


@faced(method=("astype",))
def astype(x, dtype, copy=True):
    value = ops.astype(x, dtype)
    if value is x and not copy:
        return x                    # numpy returns the array itself
    return copy_of(value, immutable=x.immutable)
