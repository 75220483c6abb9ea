"""``np.einsum`` as a composite: a label repeated in one operand takes that diagonal, labels
no one else needs are summed early, the operands are contracted pairwise from the left (a
broadcasting product when nothing is summed, else one batched ``matmul``), and the result is
transposed into the output's order. ``optimize=`` is accepted and ignored.

>>> import numpy as np, symgrad as sg
>>> sg.jit(lambda a: np.einsum("ii", a), backend="reference")(np.eye(3))
array(3.)
"""
import math
import string

import numpy as np

from symgrad.core.ops.common import lift
from symgrad.core.ops.contraction import array_dtype, sum_axes
from symgrad.core.ops.diagonal import diagonal
from symgrad.core.ops.linalg import matmul
from symgrad.core.ops.registry import faced
from symgrad.core.ops.shape import reshape, transpose
from symgrad.core.tracing import error_here, find_graph

ELLIPSIS = "..."


def _tokens(term, what):
    """The labels of one term, ``...`` as one entry."""
    labels, rest = [], term
    while rest:
        if rest.startswith(ELLIPSIS):
            labels.append(ELLIPSIS)
            rest = rest[3:]
        elif rest[0] in string.ascii_letters:
            labels.append(rest[0])
            rest = rest[1:]
        else:
            raise error_here(f"einsum: invalid subscript {rest[0]!r} in {what!r}: labels are "
                             "letters, with '...' for broadcast axes")
    if labels.count(ELLIPSIS) > 1:
        raise error_here(f"einsum: more than one '...' in the term {term!r}")
    return labels


def _split_term(term, ndim, what):
    """The labels of an input term, checked against its operand's ndim."""
    labels = _tokens(term, what)
    named = len(labels) - labels.count(ELLIPSIS)
    if named > ndim or (ELLIPSIS not in labels and named != ndim):
        raise error_here(f"einsum: the term {term!r} has {named} subscripts for an operand with "
                         f"{ndim} dimensions (add '...' to broadcast the rest)")
    return labels


def _expand_ellipsis(labels, ndim, width):
    """The term's labels with its ``...`` axes named ``...k``: right-aligned over ``width``."""
    if ELLIPSIS not in labels:
        return labels
    at = labels.index(ELLIPSIS)
    covered = ndim - (len(labels) - 1)
    return labels[:at] + [f"...{width - covered + j}" for j in range(covered)] + labels[at + 1:]


def parse(subscripts, ndims):
    """(labels of each operand, labels of the output) for numpy's subscripts string."""
    subscripts = subscripts.replace(" ", "")
    inputs, arrow, output = subscripts.partition("->")
    terms = inputs.split(",")
    if len(terms) != len(ndims):
        raise error_here(f"einsum: the subscripts {subscripts!r} name {len(terms)} operands, "
                         f"{len(ndims)} given")
    split = [_split_term(term, ndim, subscripts) for term, ndim in zip(terms, ndims)]
    width = max([ndim - len(s) + 1 for s, ndim in zip(split, ndims) if ELLIPSIS in s], default=0)
    labels = [_expand_ellipsis(s, ndim, width) for s, ndim in zip(split, ndims)]
    broadcast = [f"...{k}" for k in range(width)]
    if not arrow:
        named = [label for s in split for label in s if label != ELLIPSIS]
        return labels, broadcast + sorted(label for label in set(named) if named.count(label) == 1)
    out = _tokens(output, subscripts)
    out = _expand_ellipsis(out, len(out) - 1 + width, width)
    everywhere = {label for term in labels for label in term}
    for label in out:
        if out.count(label) > 1:
            raise error_here(f"einsum: the output subscript {label!r} appears more than once")
        if label not in everywhere:
            raise error_here(f"einsum: the output subscript {label!r} never appears in an input")
    if width and not set(broadcast) <= set(out):
        raise error_here("einsum: the output has no '...' for the broadcast axes of the inputs")
    return labels, out


def _label_sizes(operands, labels):
    sizes = {}
    for operand, term in zip(operands, labels):
        for label, size in zip(term, operand.shape):
            known = sizes.get(label, 1)
            if size != known and 1 not in (size, known):
                raise error_here(f"einsum: operands could not be broadcast together: label "
                                 f"{label!r} has sizes {known} and {size}")
            sizes[label] = max(known, size)
    return sizes


def _collapse_repeats(x, term):
    """Each label once: a repeated label's axes become their diagonal (as the last axis)."""
    term = list(term)
    for label in dict.fromkeys(term):
        while term.count(label) > 1:
            first = term.index(label)
            second = term.index(label, first + 1)
            if x.shape[first] != x.shape[second]:
                raise error_here(f"einsum: dimensions in single operand for collapsing index "
                                 f"{label!r} don't match ({x.shape[first]} != {x.shape[second]})")
            x = diagonal(x, 0, first, second)
            term = [t for i, t in enumerate(term) if i not in (first, second)] + [label]
    return x, term


def _drop_broadcast_ones(x, term, sizes):
    """Axes of size 1 where the label is longer elsewhere: the other operand supplies it."""
    kept = [i for i, label in enumerate(term) if not (x.shape[i] == 1 and sizes[label] > 1)]
    return reshape(x, tuple(x.shape[i] for i in kept)), [term[i] for i in kept]


def _sum_unneeded(x, term, needed, dtype):
    axes = [i for i, label in enumerate(term) if label not in needed]
    return sum_axes(x, axes, dtype), [label for label in term if label in needed]


def _arranged(x, term, order):
    return transpose(x, [term.index(label) for label in order])


def _pair(a, term_a, b, term_b, keep, sizes, dtype):
    """The product of two operands summed over their shared labels not in ``keep``."""
    shared = [label for label in term_a if label in term_b]
    batch = [label for label in shared if label in keep]
    summed = [label for label in shared if label not in keep]
    only_a = [label for label in term_a if label not in term_b]
    only_b = [label for label in term_b if label not in term_a]
    extent = [sizes[label] for label in batch]
    if not summed or not (only_a or only_b):    # products (then sums): one fused loop nest
        labels = batch + only_a + only_b + summed
        spread_a = reshape(_arranged(a, term_a, batch + only_a + summed),
                           tuple(extent + [sizes[x] for x in only_a] + [1] * len(only_b)
                                 + [sizes[x] for x in summed]))
        spread_b = reshape(_arranged(b, term_b, batch + only_b + summed),
                           tuple(extent + [1] * len(only_a) + [sizes[x] for x in only_b]
                                 + [sizes[x] for x in summed]))
        return _sum_unneeded(spread_a * spread_b, labels, keep, dtype)
    rows = math.prod(sizes[label] for label in only_a)
    inner = math.prod(sizes[label] for label in summed)
    columns = math.prod(sizes[label] for label in only_b)
    left = reshape(_arranged(a, term_a, batch + only_a + summed), tuple(extent + [rows, inner]))
    right = reshape(_arranged(b, term_b, batch + summed + only_b), tuple(extent + [inner, columns]))
    product = reshape(matmul(left, right),
                      tuple(extent + [sizes[x] for x in only_a] + [sizes[x] for x in only_b]))
    return product, batch + only_a + only_b


def _interleaved(operands):
    """``einsum(a, [0, 1], b, [1, 2], [0, 2])``: the subscripts string and the operands."""
    def term(sublist):
        return "".join(ELLIPSIS if s is Ellipsis else string.ascii_letters[s] for s in sublist)
    arrays, sublists = operands[0::2], operands[1::2]
    output = "->" + term(operands[-1]) if len(operands) % 2 else ""
    arrays = arrays[:len(sublists)]
    return ",".join(term(s) for s in sublists) + output, list(arrays)


@faced(numpy=(np.einsum,), torch=("einsum",), grad_fn="EinsumBackward0")
def einsum(*operands, out=None, optimize=False, dtype=None, order="K", casting="safe"):
    """``np.einsum`` (and ``torch.einsum``): any subscripts, implicit output, ``...``,
    repeated labels (diagonals, traces), any number of operands, the interleaved form."""
    graph = find_graph(operands)
    if graph is None:
        return np.einsum(*operands, out=out, optimize=optimize, dtype=dtype, order=order,
                         casting=casting)
    if out is not None:
        raise error_here("einsum(..., out=...) is not supported on traced arrays; use the result")
    if isinstance(operands[0], str):
        subscripts, arrays = operands[0], list(operands[1:])
    else:
        subscripts, arrays = _interleaved(operands)
    if len(arrays) == 1 and isinstance(arrays[0], (list, tuple)):     # torch.einsum(eq, [a, b])
        arrays = list(arrays[0])
    dtype = np.dtype(dtype) if dtype is not None else array_dtype(*arrays)
    tracers = [lift(graph, array, dtype) for array in arrays]
    labels, output = parse(subscripts, [t.ndim for t in tracers])
    collapsed = [_collapse_repeats(t, term) for t, term in zip(tracers, labels)]
    sizes = _label_sizes([t for t, _ in collapsed], [term for _, term in collapsed])
    terms = [_drop_broadcast_ones(t, term, sizes) for t, term in collapsed]
    x, term = terms[0]
    for position, (y, term_y) in enumerate(terms[1:], start=1):
        keep = set(output).union(*(set(t) for _, t in terms[position + 1:]))
        x, term = _sum_unneeded(x, term, keep | set(term_y), dtype)
        y, term_y = _sum_unneeded(y, term_y, keep | set(term), dtype)
        x, term = _pair(x, term, y, term_y, keep, sizes, dtype)
    x, term = _sum_unneeded(x, term, set(output), dtype)
    return _arranged(x, term, output)
