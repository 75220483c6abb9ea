"""Lowerings of the graph's sources: inputs (arguments of the generated function) and
constants (scalar literals, or array arguments passed after the inputs)."""
import numpy as np

from ..codegen.source import literal


def lower_input(lowering, node):
    shape = lowering.attrs(node)["shape"]
    name = lowering.define(node, "scalar" if shape == () else "C", aliases_argument=True)
    lowering.arguments.append((name, node))


def lower_constant(lowering, node):
    attrs = lowering.attrs(node)
    value = attrs["params"]["value"]
    if value.shape == ():
        name = lowering.define(node, "scalar")
        lowering.prologue.line(f"{name} = {literal(value.item(), attrs['dtype'])}")
        return
    name = lowering.define(node, "C", aliases_argument=True)
    lowering.arguments.append((name, node))
    lowering.array_constants.append(node)
    if value.size and np.all(value == value.flat[0]):
        uniform = f"u{node}"
        lowering.prologue.line(f"{uniform} = {literal(value.flat[0].item(), attrs['dtype'])}")
        lowering.vars[node].uniform = uniform
