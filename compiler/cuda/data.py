"""Graph inputs, constants and data movement on the GPU. Shapes are static, so a transpose,
an index or a reshape of a buffer is a view (:class:`~symgrad.compiler.cuda.kernel.Value`),
not a copy; ``setitem`` and ``concatenate`` are copy kernels."""
import numpy as np

from .kernel import Value, copy_into, device_shape, index_map
from ..codegen.source import literal, shape_text


def lower_input(lowering, node):
    name = lowering.allocate(node)
    lowering.inputs.append((name, node))
    lowering.input_bases.add(name)


def lower_constant(lowering, node):
    value = lowering.attrs(node)["params"]["value"]
    if value.size and np.all(value == value.flat[0]):
        lowering.values[node] = Value(literal=literal(value.flat[0].item(), lowering.dtype(node)))
        return
    name = f"v{node}"
    lowering.bases[name] = (device_shape(value.shape), lowering.dtype(node))
    lowering.setup.line(f"{name} = cuda.to_device(c{node})")
    lowering.values[node] = Value.buffer(name, value.shape)
    lowering.array_constants.append(node)


def lower_transpose(lowering, node):
    axes = lowering.attrs(node)["params"]["axes"]
    inverse = [axes.index(k) for k in range(len(axes))]
    operand = lowering.values[lowering.graph.operands(node)[0]]
    lowering.values[node] = operand.view(lambda indices: [indices[j] for j in inverse])


def lower_reshape(lowering, node):
    (operand,) = lowering.graph.operands(node)
    value = lowering.values[operand]
    if value.literal is not None:
        lowering.values[node] = value
        return
    base = lowering.materialize(operand)
    name, shape = f"v{node}", lowering.shape(node)
    lowering.bases[name] = (device_shape(shape), lowering.dtype(node))
    lowering.setup.line(f"{name} = {base}.reshape({shape_text(device_shape(shape))})")
    if base in lowering.input_bases:
        lowering.input_bases.add(name)
    lowering.values[node] = Value.buffer(name, shape)


def lower_getitem(lowering, node):
    operand = lowering.values[lowering.graph.operands(node)[0]]
    lowering.values[node] = operand.view(index_map(lowering.attrs(node)["params"]["index"]))


def lower_setitem(lowering, node):
    target, value = lowering.graph.operands(node)
    lowering.allocate(node)
    out = lowering.values[node]
    copy_into(lowering, f"setitem_{node}_all", out, lowering.shape(node), lowering.values[target])
    region = out.view(index_map(lowering.attrs(node)["params"]["index"]))
    copy_into(lowering, f"setitem_{node}", region, lowering.shape(value), lowering.values[value])


def lower_concatenate(lowering, node):
    lowering.allocate(node)
    out = lowering.values[node]
    axis = lowering.attrs(node)["params"]["axis"]
    start = 0
    for k, operand in enumerate(lowering.graph.operands(node)):
        shape = lowering.shape(operand)
        index = tuple((0, d, 1) for d in shape[:axis]) + ((start, start + shape[axis], 1),)
        copy_into(lowering, f"concatenate_{node}_{k}", out.view(index_map(index)), shape,
                   lowering.values[operand])
        start += shape[axis]


def lower_custom_vjp(lowering, node):
    """A user-differentiated value is its operand 0; only its VJP is special."""
    lowering.values[node] = lowering.values[lowering.graph.operands(node)[0]]
