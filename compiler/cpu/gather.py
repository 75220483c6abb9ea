"""Numba CPU lowerings of the indexing and sorting ops (symgrad/core/ops/indexing.py,
sorting.py): gather, scatter_add, argsort, argmax and argmin, each an explicit loop nest.

An index operand may be traced data (labels), so every index read is checked: one out of
range raises numpy's IndexError instead of reading or writing outside the array.
"""
from ..codegen.source import copy_lines


def _element(variable, indices):
    if variable.kind == "scalar":
        return variable.name
    return f"{variable.name}[{', '.join(indices) or '...'}]"


def _open_loops(out, extents, names):
    for name, extent in zip(names, extents):
        out.open(f"for {name} in range({extent}):")


def _close_loops(out, count):
    for _ in range(count):
        out.close()


def _checked_index(lowering, node, indices_variable, at, extent):
    """Read the index at ``at`` into a local, raising IndexError when out of range."""
    out, local = lowering.out, f"j{node}"
    out.line(f"{local} = {_element(indices_variable, at)}")
    out.open(f"if {local} < 0 or {local} >= {extent}:")
    out.line(f'raise IndexError("index out of bounds for axis with size {extent}")')
    out.close()
    return local


def _axes(lowering, node, value_shape):
    """Loop names over ``value_shape`` (the gathered region), split as the operand's axes
    before the indexed one, the index array's axes and the operand's axes after it."""
    axis = lowering.attrs(node)["params"]["axis"]
    index_ndim = len(lowering.attrs(lowering.graph.operands(node)[1])["shape"])
    names = [f"k{a}" for a in range(len(value_shape))]
    return names, names[:axis], names[axis:axis + index_ndim], names[axis + index_ndim:]


def lower_gather(lowering, node):
    x, indices = lowering.operand_vars(node)
    operand_shape = lowering.attrs(lowering.graph.operands(node)[0])["shape"]
    shape = lowering.attrs(node)["shape"]
    axis = lowering.attrs(node)["params"]["axis"]
    names, before, within, after = _axes(lowering, node, shape)
    name = lowering.define(node, "scalar") if shape == () else lowering.allocate(node)
    _open_loops(lowering.out, shape, names)
    at = _checked_index(lowering, node, indices, within, operand_shape[axis])
    target = name if shape == () else f"{name}[{', '.join(names)}]"
    lowering.out.line(f"{target} = {x.name}[{', '.join(before + [at] + after)}]")
    _close_loops(lowering.out, len(shape))


def lower_scatter_add(lowering, node):
    x, indices, values = lowering.operand_vars(node)
    shape = lowering.attrs(node)["shape"]
    region = lowering.attrs(lowering.graph.operands(node)[2])["shape"]
    axis = lowering.attrs(node)["params"]["axis"]
    name = lowering.allocate(node)
    if name != x.name:
        copy_lines(lowering.out, name, x.name, shape)
    names, before, within, after = _axes(lowering, node, region)
    _open_loops(lowering.out, region, names)
    at = _checked_index(lowering, node, indices, within, shape[axis])
    lowering.out.line(f"{name}[{', '.join(before + [at] + after)}] += "
                      f"{_element(values, names)}")
    _close_loops(lowering.out, len(region))


def _other_axes(shape, axis):
    """Loop names over every axis but ``axis``, and the index of an element with the name
    ``m`` on ``axis``."""
    names = [f"k{a}" for a in range(len(shape))]
    others = [(n, d) for a, (n, d) in enumerate(zip(names, shape)) if a != axis]
    return others, names[:axis] + ["m"] + names[axis + 1:]


def lower_argsort(lowering, node):
    (x,) = lowering.operand_vars(node)
    shape = lowering.attrs(node)["shape"]
    axis = lowering.attrs(node)["params"]["axis"]
    name, out = lowering.allocate(node), lowering.out
    others, at = _other_axes(shape, axis)
    _open_loops(out, [d for _, d in others], [n for n, _ in others])
    line = [":" if a == axis else n for a, n in enumerate(at)]
    out.line(f"o{node} = np.argsort({x.name}[{', '.join(line)}], kind=\"mergesort\")")
    out.open(f"for m in range({shape[axis]}):")
    out.line(f"{name}[{', '.join(at)}] = o{node}[m]")
    out.close()
    _close_loops(out, len(others))


def _arg_extremum(better):
    """The lowering of argmax (``better`` ">") or argmin ("<"): the first extremum, or the
    first NaN, as numpy."""
    def lower(lowering, node):
        (operand,) = lowering.graph.operands(node)
        (x,) = lowering.operand_vars(node)
        operand_shape = lowering.attrs(operand)["shape"]
        params = lowering.attrs(node)["params"]
        axis, out = params["axis"], lowering.out
        shape = lowering.attrs(node)["shape"]
        name = lowering.define(node, "scalar") if shape == () else lowering.allocate(node)
        others, at = _other_axes(operand_shape, axis)
        _open_loops(out, [d for _, d in others], [n for n, _ in others])
        first = [("0" if n == "m" else n) for n in at]
        out.line(f"b{node} = {x.name}[{', '.join(first)}]")
        out.line(f"a{node} = 0")
        out.open(f"for m in range(1, {operand_shape[axis]}):")
        out.line(f"e{node} = {x.name}[{', '.join(at)}]")
        out.open(f"if b{node} == b{node} and (e{node} {better} b{node} or e{node} != e{node}):")
        out.line(f"b{node} = e{node}")
        out.line(f"a{node} = m")
        out.close()
        out.close()
        kept = [("0" if n == "m" else n) for n in at] if params["keepdims"] else \
            [n for n in at if n != "m"]
        out.line(f"{name if shape == () else f'{name}[{chr(44).join(kept)}]'} = a{node}")
        _close_loops(out, len(others))
    return lower


LOWERINGS = {
    "gather": lower_gather,
    "scatter_add": lower_scatter_add,
    "argsort": lower_argsort,
    "argmax": _arg_extremum(">"),
    "argmin": _arg_extremum("<"),
}
