"""Numba CPU code generator: an optimized Graph -> the source of one ``@numba.njit`` function.

Fused loop nests come from :mod:`compiler.passes.fuse`; every other op is one entry of
``LOWERINGS`` (op name -> function emitting its lines). 0-d values live in scalar locals;
arrays carry a layout kind ("C", "F" or "A") so views (transposes, slices) are passed to BLAS
and loops without copies.
"""
import numpy as np

from compiler.codegen.source import SourceWriter, literal, shape_text
from symgrad.ops.registry import OPS

FASTMATH = '{"nsz", "contract", "arcp"}'


class Variable:
    """How the generated code refers to a node's value."""

    def __init__(self, name, kind, aliases_argument=False, uniform=None):
        self.name = name
        self.kind = kind                      # "scalar", "C", "F" or "A"
        self.aliases_argument = aliases_argument
        self.uniform = uniform                # a scalar local when all elements are equal

    @property
    def contiguous(self):
        return f"np.ascontiguousarray({self.name})" if self.kind != "C" else self.name


class Lowering:
    """State of one code generation: the graph, its fusion plan and the variables made so far."""

    def __init__(self, graph, plan):
        self.graph = graph
        self.plan = plan
        self.out = SourceWriter()
        self.vars = {}
        self.arguments = []      # (variable name, node) in call order
        self.array_constants = []

    def attrs(self, node):
        return self.graph[node]

    def var(self, node):
        return self.vars[node]

    def define(self, node, kind, aliases_argument=False):
        self.vars[node] = Variable(f"v{node}", kind, aliases_argument)
        return self.vars[node].name


# -- sources ---------------------------------------------------------------------------------
def lower_input(lowering, node):
    shape = lowering.attrs(node)["shape"]
    name = lowering.define(node, "scalar" if shape == () else "C", aliases_argument=True)
    lowering.arguments.append((name, node))


def lower_constant(lowering, node):
    attrs = lowering.attrs(node)
    value = attrs["params"]["value"]
    if value.shape == ():
        name = lowering.define(node, "scalar")
        lowering.out.line(f"{name} = {literal(value.item(), attrs['dtype'])}")
        return
    name = lowering.define(node, "C", aliases_argument=True)
    lowering.arguments.append((name, node))
    lowering.array_constants.append(node)
    if value.size and np.all(value == value.flat[0]):
        uniform = f"u{node}"
        lowering.out.line(f"{uniform} = {literal(value.flat[0].item(), attrs['dtype'])}")
        lowering.vars[node].uniform = uniform


# -- fused loop nests ----------------------------------------------------------------------
REDUCTIONS = {  # op -> (initial value, combine template)
    "sum": (lambda dtype: 0, "{acc} + {x}"),
    "prod": (lambda dtype: 1, "{acc} * {x}"),
    "max": (lambda dtype: -np.inf if dtype.kind == "f" else np.iinfo(dtype).min, "max({acc}, {x})"),
    "min": (lambda dtype: np.inf if dtype.kind == "f" else np.iinfo(dtype).max, "min({acc}, {x})"),
}


def load(lowering, operand, loop_shape, local):
    """The expression for ``operand``'s element at the loop indices (numpy broadcasting)."""
    if operand in local:
        return local[operand]
    variable = lowering.var(operand)
    if variable.kind == "scalar":
        return variable.name
    if variable.uniform is not None:
        return variable.uniform
    shape = lowering.attrs(operand)["shape"]
    offset = len(loop_shape) - len(shape)
    index = ["0" if d == 1 and loop_shape[offset + j] != 1 else f"i{offset + j}"
             for j, d in enumerate(shape)]
    return f"{variable.name}[{', '.join(index)}]"


def scalar_expression(lowering, node, loop_shape, local):
    attrs = lowering.attrs(node)
    operands = [load(lowering, o, loop_shape, local) for o in lowering.graph.operands(node)]
    params = {k: numba_dtype(v) if k == "dtype" else v for k, v in attrs["params"].items()}
    return OPS[attrs["op"]].scalar.format(*operands, **params)


def numba_dtype(name):
    return "bool_" if name == "bool" else name


def lower_nest(lowering, nest):
    """One loop nest computing every member per element (and accumulating the reduction)."""
    out, shape = lowering.out, nest.shape
    reduction = nest.reduction
    if reduction is not None:
        accumulator = _open_reduction(lowering, reduction)
    elif shape == ():
        lowering.define(nest.root, "scalar")
    else:
        out.line(f"{lowering.define(nest.root, 'C')} = np.empty({shape_text(shape)}, "
                 f"np.{numba_dtype(lowering.attrs(nest.root)['dtype'])})")
    for axis, extent in enumerate(shape):
        out.open(f"for i{axis} in range({extent}):")
    local = {}
    for member in nest.members:
        name = lowering.vars[member].name if (member == nest.root and shape == ()) else f"t{member}"
        out.line(f"{name} = {scalar_expression(lowering, member, shape, local)}")
        local[member] = name
    if reduction is not None:
        value = load(lowering, lowering.graph.operands(reduction)[0], shape, local)
        combine = REDUCTIONS[lowering.graph.op(reduction)][1]
        out.line(f"{accumulator} = {combine.format(acc=accumulator, x=value)}")
    elif shape != ():
        index = ", ".join(f"i{axis}" for axis in range(len(shape)))
        out.line(f"{lowering.var(nest.root).name}[{index}] = {local[nest.root]}")
    for _ in shape:
        out.close()
    if reduction is not None:
        _close_reduction(lowering, reduction, accumulator)


def _open_reduction(lowering, node):
    attrs = lowering.attrs(node)
    dtype = np.dtype(attrs["dtype"])
    initial = REDUCTIONS[attrs["op"]][0](dtype)
    if attrs["shape"] == ():
        # Accumulate float32 totals in float64: as accurate as numpy's pairwise sum.
        wide = "float64" if dtype == np.float32 else dtype.name
        lowering.out.line(f"acc{node} = {literal(initial, wide)}")
        return f"acc{node}"
    name = lowering.define(node, "C")
    lowering.out.line(f"{name} = np.full({shape_text(attrs['shape'])}, "
                      f"{literal(initial, dtype.name)}, np.{numba_dtype(dtype.name)})")
    axes, keepdims = attrs["params"]["axes"], attrs["params"]["keepdims"]
    operand_ndim = len(lowering.attrs(lowering.graph.operands(node)[0])["shape"])
    index = [("0" if keepdims else None) if axis in axes else f"i{axis}" for axis in range(operand_ndim)]
    return f"{name}[{', '.join(i for i in index if i is not None)}]"


def _close_reduction(lowering, node, accumulator):
    attrs = lowering.attrs(node)
    if attrs["shape"] == ():
        name = lowering.define(node, "scalar")
        lowering.out.line(f"{name} = np.{numba_dtype(attrs['dtype'])}({accumulator})")


# -- data movement and BLAS ---------------------------------------------------------------------
def lower_matmul(lowering, node):
    attrs = lowering.attrs(node)
    shape, dtype = attrs["shape"], np.dtype(attrs["dtype"])
    # numba's np.dot is BLAS-only (floats); integers multiply in float64 and convert back.
    widen = "" if dtype.kind in "fc" else ".astype(np.float64)"
    name = lowering.define(node, "C")
    batch = shape[:-2]
    if not batch:
        a, b = (_blas_operand(lowering.var(o)) + widen for o in lowering.graph.operands(node))
        narrow = "" if not widen else f".astype(np.{dtype.name})"
        lowering.out.line(f"{name} = np.dot({a}, {b}){narrow}")
        return
    lowering.out.line(f"{name} = np.empty({shape_text(shape)}, np.{dtype.name})")
    for axis, extent in enumerate(batch):
        lowering.out.open(f"for i{axis} in range({extent}):")
    a, b = (_batch_slice(lowering, o, batch) + widen for o in lowering.graph.operands(node))
    index = ", ".join(f"i{axis}" for axis in range(len(batch)))
    lowering.out.line(f"{name}[{index}] = np.dot({a}, {b})")
    for _ in batch:
        lowering.out.close()


def _blas_operand(variable):
    return variable.name if variable.kind in "CF" else variable.contiguous


def _batch_slice(lowering, operand, batch):
    variable = lowering.var(operand)
    shape = lowering.attrs(operand)["shape"]
    offset = len(batch) - (len(shape) - 2)
    index = ["0" if d == 1 and batch[offset + j] != 1 else f"i{offset + j}"
             for j, d in enumerate(shape[:-2])]
    text = f"{variable.name}[{', '.join(index)}]"
    return text if variable.kind == "C" else f"np.ascontiguousarray({text})"


def lower_transpose(lowering, node):
    variable = lowering.var(lowering.graph.operands(node)[0])
    axes = lowering.attrs(node)["params"]["axes"]
    flipped = {"C": "F", "F": "C"}
    if len(axes) == 2 and variable.kind in flipped:
        expression, kind = f"{variable.name}.T", flipped[variable.kind]
    else:
        expression, kind = f"np.transpose({variable.name}, {shape_text(axes)})", "A"
    name = lowering.define(node, kind, variable.aliases_argument)
    lowering.out.line(f"{name} = {expression}")


def lower_reshape(lowering, node):
    variable = lowering.var(lowering.graph.operands(node)[0])
    shape = lowering.attrs(node)["shape"]
    if shape == ():
        expression, kind = f"{variable.contiguous}.ravel()[0]", "scalar"
    elif variable.kind == "scalar":
        expression, kind = f"np.full({shape_text(shape)}, {variable.name})", "C"
    else:
        expression, kind = f"{variable.contiguous}.reshape({shape_text(shape)})", "C"
    aliases = variable.aliases_argument and variable.kind == "C"
    lowering.out.line(f"{lowering.define(node, kind, aliases)} = {expression}")


def index_text(index):
    parts = []
    for entry in index:
        if isinstance(entry, tuple):
            start, stop, step = entry
            parts.append(f"{start}:{'' if stop < 0 else stop}:{step}")
        else:
            parts.append(str(entry))
    return ", ".join(parts)


def lower_getitem(lowering, node):
    variable = lowering.var(lowering.graph.operands(node)[0])
    index = lowering.attrs(node)["params"]["index"]
    kind = "scalar" if lowering.attrs(node)["shape"] == () else "A"
    name = lowering.define(node, kind, variable.aliases_argument)
    lowering.out.line(f"{name} = {variable.name}[{index_text(index)}]")


def lower_setitem(lowering, node):
    target, value = (lowering.var(o) for o in lowering.graph.operands(node))
    name = lowering.define(node, "C")
    lowering.out.line(f"{name} = {target.contiguous}.copy()" if target.kind == "C"
                      else f"{name} = {target.contiguous}")
    index = index_text(lowering.attrs(node)["params"]["index"])
    lowering.out.line(f"{name}[{index}] = {value.name}")


def lower_concatenate(lowering, node):
    parts = ", ".join(lowering.var(o).contiguous for o in lowering.graph.operands(node))
    axis = lowering.attrs(node)["params"]["axis"]
    lowering.out.line(f"{lowering.define(node, 'C')} = np.concatenate(({parts},), axis={axis})")


def lower_custom_vjp(lowering, node):
    """A user-differentiated value is its operand 0; only its VJP is special."""
    lowering.vars[node] = lowering.var(lowering.graph.operands(node)[0])


def lower_fused(lowering, node):
    nest = lowering.plan.emits_at(node)
    if nest is not None:
        lower_nest(lowering, nest)


LOWERINGS = {
    "input": lower_input,
    "constant": lower_constant,
    "matmul": lower_matmul,
    "transpose": lower_transpose,
    "reshape": lower_reshape,
    "getitem": lower_getitem,
    "setitem": lower_setitem,
    "concatenate": lower_concatenate,
    "custom_vjp": lower_custom_vjp,
    **{name: lower_fused for name, op in OPS.items() if op.elementwise or op.family == "reduction"},
}


def generate(graph, plan, function_name="run"):
    """Source text of a module defining ``function_name``; returns (source, argument nodes)."""
    lowering = Lowering(graph, plan)
    body = lowering.out
    body.indent = 1
    for node in graph.topological_order():
        LOWERINGS[graph.op(node)](lowering, node)
    results = []
    for node in graph.outputs:
        variable = lowering.var(node)
        if variable.kind != "scalar" and (variable.aliases_argument or variable.kind != "C"):
            results.append(f"np.ascontiguousarray({variable.name}).copy()")
        else:
            results.append(variable.name)
    body.line(f"return ({''.join(r + ', ' for r in results)})")
    inputs = [name for name, node in lowering.arguments if node in graph.inputs]
    constants = [name for name, node in lowering.arguments if node not in graph.inputs]
    input_order = {node: i for i, node in enumerate(graph.inputs)}
    inputs.sort(key=lambda name: input_order[int(name[1:])])
    header = [
        "# Generated by symgrad from the graph " + repr(graph.name) + "; needs only numpy and numba.",
        "import numpy as np",
        "import numba",
        "",
        "",
        f"@numba.njit(cache=True, fastmath={FASTMATH})",
        f"def {function_name}({', '.join(inputs + constants)}):",
    ]
    return "\n".join(header) + "\n" + body.text(), lowering.array_constants
