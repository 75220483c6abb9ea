"""Numba CPU code generator: an optimized Graph -> the source of ``@numba.njit`` functions.

Fused loop nests come from :mod:`symgrad.compiler.passes.fuse`; every other op is one entry of
``LOWERINGS`` (op name -> function emitting its lines). 0-d values live in scalar locals;
arrays carry a layout kind ("C", "F" or "A") so views (transposes, slices) reach BLAS and
loops without copies. Constants and buffers are made once in a prologue and the body only
writes into them, so a loop around the body (symgrad.compiler.cpu.training_loop) allocates
nothing.
"""
from dataclasses import dataclass

import numpy as np

from .flat_nests import flatten, flattens
from ..codegen.internal_error import lowering_of
from .blas import lower_gemm_update, lower_matmul
from .product_epilogues import plan_product_epilogues, row_blocks
from ..codegen.source import SourceWriter, copy_lines, literal, shape_text
from .threads import NJIT_PARALLEL, loop_header, parallel_nests
from ..passes.fuse import fused_ops
from ..passes.gemm_update import plan_gemm_updates
from .runtime import runtime_source
from symgrad.core.ops.registry import OPS

# numpy's error model: a float division by zero gives inf or nan, as in numpy, instead of a
# Python ZeroDivisionError check whose branch keeps LLVM from vectorizing any loop that divides
# (the fused Adam update ran 8x slower with it).
NJIT_OPTIONS = 'cache=True, fastmath={"nsz", "contract", "arcp"}, error_model="numpy"'


class Variable:
    """How the generated code refers to a node's value."""

    def __init__(self, name, kind, aliases_argument=False):
        self.name = name
        self.kind = kind                      # "scalar", "C", "F" or "A"
        self.aliases_argument = aliases_argument
        self.uniform = None                   # a scalar local when all elements are equal


class Lowering:
    """State of one code generation: the graph, its fusion plan, the variables made so far.

    ``in_place`` maps an output node to the input node whose buffer it may overwrite (see
    symgrad.compiler.passes.memory); ``gemm_updates`` are the nests a GEMM call computes into such a
    buffer (symgrad.compiler.passes.gemm_update); ``runtime`` names the symgrad.compiler.cpu.runtime modules the
    code calls."""

    def __init__(self, graph, plan, in_place=None):
        self.graph = graph
        self.plan = plan
        self.prologue = SourceWriter()
        self.out = SourceWriter()
        self.vars = {}
        self.arguments = []      # (variable name, node) in call order
        self.array_constants = []
        self.in_place = in_place or {}
        self.gemm_updates = plan_gemm_updates(graph, plan, self.in_place)
        self.folded_products = {update.product for update in self.gemm_updates.values()}
        self.runtime = set()
        self.parallel = False    # some loop runs on numba's threads (numba.prange)
        self.parallel_nests = parallel_nests(graph, plan, self.gemm_updates)
        self.epilogues = plan_product_epilogues(self)      # nest root -> product
        self.delayed_products = set(self.epilogues.values())

    def attrs(self, node):
        return self.graph[node]

    def var(self, node):
        return self.vars[node]

    def operand_vars(self, node):
        return [self.vars[o] for o in self.graph.operands(node)]

    def define(self, node, kind, aliases_argument=False):
        self.vars[node] = Variable(f"v{node}", kind, aliases_argument)
        return self.vars[node].name

    def allocate(self, node):
        """The C-ordered buffer that holds ``node``, made once in the prologue (or the input
        buffer it overwrites in place)."""
        if node in self.in_place:
            self.vars[node] = Variable(self.vars[self.in_place[node]].name, "C")
            return self.vars[node].name
        name = self.define(node, "C")
        self.buffer(name, self.attrs(node)["shape"], self.attrs(node)["dtype"])
        return name

    def buffer(self, name, shape, dtype):
        self.prologue.line(f"{name} = np.empty({shape_text(shape)}, np.{numba_dtype(dtype)})")

    def contiguous(self, operand):
        """A C-ordered name for ``operand``: itself, or a copy into a buffer of its own."""
        variable = self.vars[operand]
        if variable.kind == "C":
            return variable.name
        copy = f"c{operand}"
        if copy not in self.prologue.names:
            self.buffer(copy, self.attrs(operand)["shape"], self.attrs(operand)["dtype"])
            self.prologue.names.add(copy)
            copy_lines(self.out, copy, variable.name, self.attrs(operand)["shape"])
        return copy


def numba_dtype(name):
    return "bool_" if name == "bool" else name


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
        lowering.prologue.line(f"{name} = {literal(value.item(), attrs['dtype'])}")
        return
    name = lowering.define(node, "C", aliases_argument=True)
    lowering.arguments.append((name, node))
    lowering.array_constants.append(node)
    if value.size and np.all(value == value.flat[0]):
        uniform = f"u{node}"
        lowering.prologue.line(f"{uniform} = {literal(value.flat[0].item(), attrs['dtype'])}")
        lowering.vars[node].uniform = uniform


# -- fused loop nests ----------------------------------------------------------------------
REDUCTIONS = {  # op -> (initial value, combine template); max and min keep a NaN, as numpy
    "sum": (lambda dtype: 0, "{acc} + {x}"),
    "prod": (lambda dtype: 1, "{acc} * {x}"),
    "max": (lambda dtype: -np.inf if dtype.kind == "f" else np.iinfo(dtype).min,
            "({x} if {x} > {acc} or {x} != {x} else {acc})"),
    "min": (lambda dtype: np.inf if dtype.kind == "f" else np.iinfo(dtype).max,
            "({x} if {x} < {acc} or {x} != {x} else {acc})"),
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


def scalar_expression(lowering, node, loop_shape, local, writer=None):
    """The op's scalar template applied to its operands' elements. With a ``writer``, array
    loads go to locals first: ``where``'s ``{1} if {0} else {2}`` then compiles to a select
    instead of a branch around a load (a mispredicted branch per element: 43% of a LeNet
    step at batch 64)."""
    attrs = lowering.attrs(node)
    operands = []
    for position, operand in enumerate(lowering.graph.operands(node)):
        text = load(lowering, operand, loop_shape, local)
        if writer is not None and "[" in text:
            writer.line(f"a{node}_{position} = {text}")
            text = f"a{node}_{position}"
        operands.append(text)
    params = {k: numba_dtype(v) if k == "dtype" else v for k, v in attrs["params"].items()}
    return OPS[attrs["op"]].scalar.format(*operands, **params)


def lower_nest(lowering, nest, rows=None):
    """One loop nest computing every member per element (and accumulating the reduction).
    Every element is loaded before any is stored, so a store may overwrite an input.
    ``rows``: (first, last) names bounding the outermost axis, when not all of it."""
    out, shape = lowering.out, nest.shape
    reduction = nest.reduction
    if reduction is not None:
        accumulator = _open_reduction(lowering, reduction)
    stored = nest.stores + ([] if reduction is not None else [nest.root])
    for node in stored:
        lowering.define(node, "scalar") if shape == () else lowering.allocate(node)
    local, targets = {}, {node: lowering.var(node).name for node in stored}
    if reduction is None and flattens(lowering, nest, stored):
        shape = flatten(lowering, nest, stored, local, targets)
    for axis, extent in enumerate(shape):
        out.open(loop_header(lowering, axis, extent, nest.root in lowering.parallel_nests, rows))
    for member in nest.members:
        name = lowering.vars[member].name if (member in stored and shape == ()) else f"t{member}"
        out.line(f"{name} = {scalar_expression(lowering, member, shape, local, out)}")
        local[member] = name
    if reduction is not None:
        value = load(lowering, lowering.graph.operands(reduction)[0], shape, local)
        combine = REDUCTIONS[lowering.graph.op(reduction)][1]
        out.line(f"{accumulator} = {combine.format(acc=accumulator, x=value)}")
    if shape != ():
        index = ", ".join(f"i{axis}" for axis in range(len(shape)))
        for node in stored:
            out.line(f"{targets[node]}[{index}] = {local[node]}")
    for _ in shape:
        out.close()
    if reduction is not None:
        _close_reduction(lowering, reduction, accumulator)


def _accumulator_dtype(dtype):
    """Float32 totals accumulate in float64: as accurate as numpy's pairwise sum of a
    contiguous axis (a float32 running sum of 10**6 values is 200x less), and more along a
    strided one."""
    return "float64" if dtype == np.float32 else dtype.name


def _open_reduction(lowering, node):
    attrs = lowering.attrs(node)
    dtype = np.dtype(attrs["dtype"])
    initial = REDUCTIONS[attrs["op"]][0](dtype)
    wide = _accumulator_dtype(dtype)
    if attrs["shape"] == ():
        lowering.out.line(f"acc{node} = {literal(initial, wide)}")
        return f"acc{node}"
    if wide == dtype.name:
        name = lowering.allocate(node)
    else:
        name = f"w{node}"
        lowering.buffer(name, attrs["shape"], wide)
    lowering.out.line(f"{name}[...] = {literal(initial, wide)}")
    axes, keepdims = attrs["params"]["axes"], attrs["params"]["keepdims"]
    operand_ndim = len(lowering.attrs(lowering.graph.operands(node)[0])["shape"])
    index = [("0" if keepdims else None) if axis in axes else f"i{axis}" for axis in range(operand_ndim)]
    return f"{name}[{', '.join(i for i in index if i is not None)}]"


def _close_reduction(lowering, node, accumulator):
    attrs = lowering.attrs(node)
    if attrs["shape"] == ():
        name = lowering.define(node, "scalar")
        lowering.out.line(f"{name} = np.{numba_dtype(attrs['dtype'])}({accumulator})")
    elif _accumulator_dtype(np.dtype(attrs["dtype"])) != attrs["dtype"]:
        copy_lines(lowering.out, lowering.allocate(node), f"w{node}", attrs["shape"])


# -- data movement ------------------------------------------------------------------------------
def lower_transpose(lowering, node):
    """A view: ``.T`` when it reverses the axes, else a strided view with the strides
    permuted. numba's ``np.transpose(x, axes)`` compiles the formatting of its error
    messages: 12 s of the cold compile of a batched product's gradient."""
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
    target, value = lowering.operand_vars(node)
    name = lowering.allocate(node)
    shape = lowering.attrs(node)["shape"]
    if name != target.name:
        copy_lines(lowering.out, name, target.name, shape)
    index = lowering.attrs(node)["params"]["index"]
    if value.kind == "scalar":
        lowering.out.line(f"{name}[{index_text(index)}] = {value.name}")
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


def lower_fused(lowering, node):
    if node in lowering.gemm_updates:
        return lower_gemm_update(lowering, node)
    nest = lowering.plan.emits_at(node)
    if nest is None:
        return
    if node in lowering.epilogues:
        with row_blocks(lowering, lowering.epilogues[node]) as rows:
            lower_nest(lowering, nest, rows)
    else:
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
    **dict.fromkeys(fused_ops(), lower_fused),
}


def lower_graph(graph, plan, in_place=None):
    """Lower every node in order; returns the Lowering (prologue, body, arguments). Each
    line written records its node; a failing lowering raises a CodegenError naming it."""
    lowering = Lowering(graph, plan, in_place)
    for node in graph.topological_order():
        lowering.prologue.origin = lowering.out.origin = node
        with lowering_of(graph, plan, node):
            if graph.op(node) not in LOWERINGS:
                raise KeyError(f"the CPU backend has no lowering for op {graph.op(node)!r}")
            LOWERINGS[graph.op(node)](lowering, node)
    lowering.prologue.origin = lowering.out.origin = None
    return lowering


def njit_options(lowering):
    """The generated function's ``numba.njit`` arguments; ``parallel=`` only when a loop
    runs on numba's threads (it costs compile time)."""
    if not lowering.parallel:
        return NJIT_OPTIONS
    return f"{NJIT_OPTIONS}, {NJIT_PARALLEL}"


def module_header(lowering):
    """The generated module's imports and the runtime functions its code calls."""
    return (HEADER.format(name=lowering.graph.name)
            + "".join(runtime_source(name) for name in sorted(lowering.runtime)))


def signature(lowering):
    """Argument names: graph inputs in their order, then array constants."""
    by_node = {node: name for name, node in lowering.arguments}
    inputs = [by_node[node] for node in lowering.graph.inputs]
    constants = [by_node[node] for node in lowering.array_constants]
    return inputs, constants


@dataclass
class GeneratedModule:
    source: str
    constant_nodes: list     # the array constants, passed after the inputs
    node_at_line: dict       # line number in source -> the node whose lowering wrote it


def assemble(lowering, function):
    """The module: header, runtime functions and ``function`` (a SourceWriter)."""
    header = module_header(lowering)
    first = header.count("\n") + 1
    node_at_line = {first + i: node for i, node in enumerate(function.origins) if node is not None}
    return GeneratedModule(header + function.text(), lowering.array_constants, node_at_line)


HEADER = """# Generated by symgrad from the graph {name!r}; needs only numpy and numba.
import numpy as np
import numba


"""


def generate(graph, plan, function_name="run"):
    """The GeneratedModule defining ``function_name(inputs..., array constants...)``."""
    lowering = lower_graph(graph, plan)
    results = []
    for node in graph.outputs:
        variable = lowering.var(node)
        copy = variable.kind != "scalar" and (variable.aliases_argument or variable.kind != "C")
        results.append(f"np.ascontiguousarray({variable.name}).copy()" if copy else variable.name)
    lowering.out.line(f"return ({''.join(r + ', ' for r in results)})")
    inputs, constants = signature(lowering)
    function = SourceWriter()
    function.line(f"@numba.njit({njit_options(lowering)})")
    function.open(f"def {function_name}({', '.join(inputs + constants)}):")
    function.extend(lowering.prologue)
    function.extend(lowering.out)
    return assemble(lowering, function)
