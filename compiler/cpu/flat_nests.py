"""Elementwise loop nests over images run as one flat loop (numba CPU code generator).

A nest of 3+ axes whose arrays are all C-ordered with the nest's whole shape computes the
same elements in the same order over flat views of those arrays; the flat loop vectorizes
without a vector remainder per short row.
"""
from ..codegen.extents import extent_product


def _arrays(lowering, nest, stored):
    """(node, variable) of each array the nest reads (and does not compute) or stores, in
    node order; scalars and uniform constants are no arrays to index."""
    members = set(nest.members)
    read = {o for m in nest.members for o in lowering.graph.operands(m) if o not in members}
    for node in sorted(read | set(stored)):
        variable = lowering.var(node)
        if variable.kind != "scalar" and variable.uniform is None:
            yield node, variable


def flattens(lowering, nest, stored):
    """Whether a nest of 3+ axes (images) runs as one flat loop: every array it reads or
    writes is C-ordered with the nest's whole shape (no broadcasting). A flat loop
    vectorizes without a remainder per short row (4-D ReLU nests with rows of 30 ran
    several times faster flat). Matrices stay as they are: their flat views add compile
    time and gain nothing."""
    return len(nest.shape) >= 3 and all(
        variable.kind == "C" and lowering.attrs(node)["shape"] == nest.shape
        for node, variable in _arrays(lowering, nest, stored))


def flatten(lowering, nest, stored, local, targets):
    """Flat views of the nest's arrays: array loads go into ``local``, store targets into
    ``targets``; returns the flat loop shape."""
    size = extent_product(nest.shape)
    views = {}
    for operand, variable in _arrays(lowering, nest, stored):
        if variable.name not in views:
            views[variable.name] = f"{variable.name}_flat"
            lowering.out.line(f"{views[variable.name]} = {variable.name}.reshape(({size},))")
        if operand in stored:
            targets[operand] = views[variable.name]
        else:
            local[operand] = f"{views[variable.name]}[i0]"
    return (size,)
