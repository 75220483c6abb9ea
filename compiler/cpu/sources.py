"""Lowerings of the graph's sources: inputs (arguments of the generated function) and
constants (scalar literals, or array arguments passed after the inputs)."""
import numpy as np

from ..codegen.source import literal


def lower_input(lowering, node):
    shape = lowering.attrs(node)["shape"]
    name = lowering.define(node, "scalar" if shape == () else "C", aliases_argument=True)
    lowering.arguments.append((name, node))


# Float constants the code inlines; any other float is an argument, so graphs that differ
# only in such numbers (the 1 / count of a mean over a batch, a learning rate) share one
# compiled function.
INLINED_FLOATS = (0.0, 1.0, -1.0, 0.5, 2.0)


def inlined(lowering, node, value):
    """Whether the code spells the constant ``value`` as a literal: integers and booleans,
    a few floats, non-finite floats, and exponents (``x ** 3.0`` compiles to multiplies)."""
    if value.dtype.kind not in "fc" or not np.all(np.isfinite(value)):
        return True
    if value.dtype.kind == "f" and float(value.flat[0]) in INLINED_FLOATS:
        return True
    graph = lowering.graph
    return any(graph.op(user) == "pow" and graph.operands(user)[1] == node
               for user in graph.users(node))


def lower_constant(lowering, node):
    attrs = lowering.attrs(node)
    value = attrs["params"]["value"]
    if value.shape == () and inlined(lowering, node, value):
        name = lowering.define(node, "scalar")
        lowering.prologue.line(f"{name} = {literal(value.item(), attrs['dtype'])}")
        return
    name = lowering.define(node, "scalar" if value.shape == () else "C", aliases_argument=True)
    lowering.arguments.append((name, node))
    lowering.passed_constants.append(node)
    if value.shape and value.size and np.all(value == value.flat[0]):
        uniform = f"u{node}"
        element = (literal(value.flat[0].item(), attrs["dtype"]) if inlined(lowering, node, value)
                   else f"{name}[{', '.join('0' * value.ndim)}]")
        lowering.prologue.line(f"{uniform} = {element}")
        lowering.vars[node].uniform = uniform
