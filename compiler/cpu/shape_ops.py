"""Lowerings of the data-movement ops: views (transpose, reshape, getitem) where the layout
allows, copies into buffers otherwise (setitem, concatenate)."""
from ..codegen.source import copy_lines, shape_text


def lower_transpose(lowering, node):
    """A view: ``.T`` when it reverses the axes, else a strided view with the strides
    permuted. numba's ``np.transpose(x, axes)`` compiles the formatting of its error
    messages, most of the cold compile of a batched product's gradient."""
    variable = lowering.var(lowering.graph.operands(node)[0])
    axes = lowering.attrs(node)["params"]["axes"]
    if axes == tuple(reversed(range(len(axes)))):
        expression = f"{variable.name}.T"
        kind = {"C": "F", "F": "C"}.get(variable.kind, "A") if len(axes) == 2 else "A"
    else:
        strides = ", ".join(f"{variable.name}.strides[{a}]" for a in axes)
        shape = shape_text(lowering.attrs(node)["shape"])
        expression = f"np.lib.stride_tricks.as_strided({variable.name}, {shape}, ({strides},))"
        kind = "A"
    name = lowering.define(node, kind, variable.aliases_argument)
    lowering.out.line(f"{name} = {expression}")


def lower_reshape(lowering, node):
    (operand,) = lowering.graph.operands(node)
    variable = lowering.var(operand)
    shape = lowering.attrs(node)["shape"]
    if variable.kind == "scalar":
        name = lowering.allocate(node)
        lowering.out.line(f"{name}[...] = {variable.name}")
        return
    source = lowering.contiguous(operand)
    if shape == ():
        lowering.out.line(f"{lowering.define(node, 'scalar')} = {source}.ravel()[0]")
        return
    aliases = variable.aliases_argument and variable.kind == "C"
    lowering.out.line(f"{lowering.define(node, 'C', aliases)} = {source}.reshape({shape_text(shape)})")


def index_text(index, shape):
    """A primitive index (ints and ``(start, stop, step)`` ranges of the leading axes of an
    array of ``shape``) as source; a whole axis is ``:``, whatever its extent."""
    parts = []
    for entry, extent in zip(index, shape):
        if isinstance(entry, tuple):
            start, stop, step = entry
            whole = (start, stop, step) == (0, extent, 1)
            parts.append(":" if whole else f"{start}:{'' if stop < 0 else stop}:{step}")
        else:
            parts.append(str(entry))
    return ", ".join(parts)


def lower_getitem(lowering, node):
    (operand,) = lowering.graph.operands(node)
    variable = lowering.var(operand)
    index = lowering.attrs(node)["params"]["index"]
    kind = "scalar" if lowering.attrs(node)["shape"] == () else "A"
    name = lowering.define(node, kind, variable.aliases_argument)
    at = index_text(index, lowering.attrs(operand)["shape"])
    lowering.out.line(f"{name} = {variable.name}[{at}]")


def lower_setitem(lowering, node):
    target, value = lowering.operand_vars(node)
    name = lowering.allocate(node)
    shape = lowering.attrs(node)["shape"]
    if name != target.name:
        copy_lines(lowering.out, name, target.name, shape)
    index = lowering.attrs(node)["params"]["index"]
    if value.kind == "scalar":
        lowering.out.line(f"{name}[{index_text(index, shape)}] = {value.name}")
    else:
        value_shape = lowering.attrs(lowering.graph.operands(node)[1])["shape"]
        copy_lines(lowering.out, name, value.name, shape, index, value_shape)


def lower_concatenate(lowering, node):
    name = lowering.allocate(node)
    axis = lowering.attrs(node)["params"]["axis"]
    start = 0
    for operand, variable in zip(lowering.graph.operands(node), lowering.operand_vars(node)):
        shape = lowering.attrs(operand)["shape"]
        stop = start + shape[axis]
        index = tuple((0, d, 1) for d in shape[:axis]) + ((start, stop, 1),)
        copy_lines(lowering.out, name, variable.name, lowering.attrs(node)["shape"], index, shape)
        start = stop


def lower_custom_vjp(lowering, node):
    """A user-differentiated value is its operand 0; only its VJP is special."""
    lowering.vars[node] = lowering.var(lowering.graph.operands(node)[0])
