"""Numba CUDA code generator: an optimized Graph -> CUDA kernels and the host code that runs them.

The same IR, passes and fusion plan as the CPU generator (compiler.codegen.numba_cpu): every
fused loop nest becomes one ``@cuda.jit`` kernel with a grid-stride loop over the nest's
flattened shape, each element computed by the op registry's scalar templates (formatted by
``numba_cpu.scalar_expression``; kernels import :mod:`compiler.codegen.cuda_math` as ``np``
so the templates compile for the device unchanged). A reduction nest runs one block per
output element and combines the block's partial results in a shared-memory tree. Matmul is a
tiled shared-memory kernel. Every other op is one entry of ``LOWERINGS``.

**Views.** Shapes are static, so a transpose, an index (``getitem``), a reshape of a
contiguous array or a broadcast is not a copy but a :class:`Value`: a device buffer read
through an index map that the kernels inline (``x.T`` in a matmul is read as ``x[k, i]``, the
tile loads swapped so reads stay coalesced). A value is copied into a buffer of its own only
where a buffer is needed (a graph output, a reshape of a strided view).

**Host code.** The generated module's ``setup(constants...)`` allocates every device buffer
once, uploads the array constants and returns ``run(inputs...)``, which copies the inputs to
the device, launches the kernels in order and copies the outputs back; ``run_device`` does
the same on device arrays and returns device arrays. 0-d values live in one-element buffers.
"""
import math

import numpy as np

from compiler.codegen.numba_cpu import REDUCTIONS, numba_dtype, scalar_expression
from compiler.codegen.source import SourceWriter, literal, shape_text
from symgrad.errors import TracingError
from compiler.passes.fuse import fused_ops

# Ops with a CPU lowering and none here yet: compiling a graph with one of them for CUDA
# raises a TracingError naming the op.
NOT_YET_ON_CUDA = frozenset({
    "conv2d", "conv2d_input_grad", "conv2d_weight_grad", "max_pool2d", "max_pool2d_grad",
    "max_pool2d_gather", "avg_pool2d", "avg_pool2d_grad"})


def device_shape(shape):
    """0-d values live in one-element buffers."""
    return tuple(shape) or (1,)


def _grouped(expression):
    return expression if expression.isidentifier() or expression.isdigit() else f"({expression})"


class Value:
    """Where a node's elements are: a C-ordered device buffer ``base`` read through ``index``
    (the node's index expressions -> the buffer's), or ``literal`` when all are equal."""

    def __init__(self, base=None, index=None, literal=None, identity=False):
        self.base = base
        self.index = index
        self.literal = literal
        self.identity = identity      # the node's own C-ordered buffer, read as it is

    @classmethod
    def buffer(cls, base, shape):
        return cls(base, (lambda indices: list(indices)) if shape else (lambda indices: ["0"]),
                   identity=True)

    def view(self, index):
        """The same elements read through ``index`` first (a transpose, an index)."""
        if self.literal is not None:
            return self
        inner = self.index
        return Value(self.base, lambda indices: inner(index(indices)))


def broadcast(shape, loop_shape, indices):
    """Index expressions for an operand of ``shape`` at ``indices`` of ``loop_shape``."""
    offset = len(loop_shape) - len(shape)
    return ["0" if d == 1 and loop_shape[offset + j] != 1 else indices[offset + j]
            for j, d in enumerate(shape)]


def unflatten(writer, flat, extents, names):
    """Lines splitting the C-order flat index ``flat`` over ``extents`` into ``names``;
    returns the index expressions (``"0"`` for extents of 1)."""
    result = ["0"] * len(extents)
    live = [axis for axis, extent in enumerate(extents) if extent != 1]
    rest = flat
    for position, axis in enumerate(reversed(live)):
        if position == len(live) - 1:
            writer.line(f"{names[axis]} = {rest}")
        else:
            writer.line(f"{names[axis]} = {rest} % {extents[axis]}")
            if position == len(live) - 2:
                rest = f"{rest} // {extents[axis]}"
            else:
                writer.line(f"{names[axis]}_ = {rest} // {extents[axis]}")
                rest = f"{names[axis]}_"
        result[axis] = names[axis]
    return result


class Kernel:
    """One ``@cuda.jit`` kernel being written: its body, and the buffers it takes."""

    def __init__(self, lowering, name):
        self.lowering = lowering
        self.name = name
        self.arrays = []
        self.body = SourceWriter()
        self.body.indent = 1

    def use(self, base):
        if base not in self.arrays:
            self.arrays.append(base)
        return base

    def read(self, value, indices):
        if value.literal is not None:
            return value.literal
        return f"{self.use(value.base)}[{', '.join(value.index(indices))}]"

    def grid_stride(self, shape):
        """Open the grid-stride loop over ``shape``; returns the element's index names."""
        count = math.prod(shape)
        self.body.open(f"for flat in range(cuda.grid(1), {count}, cuda.gridsize(1)):")
        return unflatten(self.body, "flat", shape, [f"i{axis}" for axis in range(len(shape))])

    def finish(self, launch):
        """Add the kernel to the module and its launch to the host code."""
        lowering = self.lowering
        text = SourceWriter()
        text.line("@cuda.jit")
        text.line(f"def {self.name}({', '.join(self.arrays)}):")
        text.extend(self.body)
        lowering.kernels.append(text.text())
        types = []
        for base in self.arrays:
            shape, dtype = lowering.bases[base]
            dims = ", ".join([":"] * (len(shape) - 1) + ["::1"])
            types.append(f"{numba_dtype(dtype)}[{dims}]")
        lowering.signatures[self.name] = f"void({', '.join(types)})"
        lowering.setup.line(f"launch_{self.name} = {self.name}[{launch}]")
        lowering.run.line(f"launch_{self.name}({', '.join(self.arrays)})")


class Lowering:
    """State of one CUDA code generation: node values, device buffers, kernels, host code."""

    def __init__(self, graph, plan):
        self.graph = graph
        self.plan = plan
        self.values = {}
        self.bases = {}            # buffer name -> (device shape, dtype)
        self.kernels = []          # kernel sources
        self.signatures = {}       # kernel name -> numba signature (for compile_ptx)
        self.setup = SourceWriter()
        self.run = SourceWriter()
        self.inputs = []           # (buffer name, node) in graph input order
        self.input_bases = set()   # input buffers and the reshaped views of them
        self.array_constants = []

    def attrs(self, node):
        return self.graph[node]

    def shape(self, node):
        return tuple(self.graph[node]["shape"])

    def dtype(self, node):
        return self.graph[node]["dtype"]

    def new_buffer(self, name, shape, dtype):
        self.bases[name] = (device_shape(shape), dtype)
        self.setup.line(f"{name} = cuda.device_array({shape_text(device_shape(shape))}, "
                        f"numpy.{numba_dtype(dtype)})")
        return name

    def allocate(self, node):
        """A fresh buffer holding ``node``."""
        name = self.new_buffer(f"v{node}", self.shape(node), self.dtype(node))
        self.values[node] = Value.buffer(name, self.shape(node))
        return name

    def materialize(self, node, own=False):
        """``node``'s value in a C-ordered buffer (a copy kernel if needed); with ``own``, not
        in an input's buffer (graph outputs: the next call's inputs overwrite those)."""
        value = self.values[node]
        if value.identity and not (own and value.base in self.input_bases):
            return value.base
        shape = self.shape(node)
        name = self.new_buffer(f"m{node}", shape, self.dtype(node))
        kernel = Kernel(self, f"copy_{node}")
        indices = kernel.grid_stride(shape)
        kernel.body.line(f"{kernel.use(name)}[{', '.join(indices) or '0'}] = "
                         f"{kernel.read(value, indices)}")
        kernel.finish(f"grid({math.prod(shape)}), THREADS")
        self.values[node] = Value.buffer(name, shape)
        return name


# -- sources ---------------------------------------------------------------------------------
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


# -- fused loop nests ------------------------------------------------------------------------
def compute_members(lowering, kernel, members, shape, indices):
    """Lines computing each member at ``indices``; returns node -> local expression."""
    local = {}
    for member in members:
        for operand in lowering.graph.operands(member):
            if operand not in local:
                local[operand] = _load(lowering, kernel, operand, shape, indices)
        kernel.body.line(f"t{member} = {scalar_expression(lowering, member, shape, local)}")
        local[member] = f"t{member}"
    return local


def _load(lowering, kernel, operand, shape, indices):
    """A local holding ``operand``'s element (numpy broadcasting), or its literal."""
    value = lowering.values[operand]
    if value.literal is not None:
        return value.literal
    kernel.body.line(f"l{operand} = "
                     f"{kernel.read(value, broadcast(lowering.shape(operand), shape, indices))}")
    return f"l{operand}"


def lower_nest(lowering, nest):
    if nest.reduction is not None:
        lower_reduction(lowering, nest)
        return
    stored = nest.stores + [nest.root]
    for node in stored:
        lowering.allocate(node)
    kernel = Kernel(lowering, f"nest_{nest.root}")
    indices = kernel.grid_stride(nest.shape)
    local = compute_members(lowering, kernel, nest.members, nest.shape, indices)
    for node in stored:
        kernel.body.line(f"{kernel.read(lowering.values[node], indices)} = {local[node]}")
    kernel.finish(f"grid({math.prod(nest.shape)}), THREADS")


def lower_reduction(lowering, nest):
    """One block per output element (grid-stride over them); the block's threads stride over
    the reduced elements, then combine their partial results in a shared-memory tree."""
    node, shape = nest.reduction, nest.shape
    op, dtype = lowering.graph.op(node), np.dtype(lowering.dtype(node))
    axes = sorted(lowering.attrs(node)["params"]["axes"])
    kept = [axis for axis in range(len(shape)) if axis not in axes]
    initial, combine = REDUCTIONS[op][0](dtype), REDUCTIONS[op][1]
    for stored in nest.stores:
        lowering.allocate(stored)
    out = lowering.allocate(node)
    kernel = Kernel(lowering, f"reduce_{node}")
    body, names = kernel.body, [f"i{axis}" for axis in range(len(shape))]
    body.line(f"partial = cuda.shared.array(THREADS, numba.{numba_dtype(dtype.name)})")
    body.line("thread = cuda.threadIdx.x")
    outputs = math.prod(shape[axis] for axis in kept)
    body.open(f"for element in range(cuda.blockIdx.x, {outputs}, cuda.gridDim.x):")
    kept_indices = unflatten(body, "element", [shape[a] for a in kept], [names[a] for a in kept])
    body.line(f"acc = {literal(initial, dtype.name)}")
    body.open(f"for flat in range(thread, {math.prod(shape[a] for a in axes)}, cuda.blockDim.x):")
    reduced_indices = unflatten(body, "flat", [shape[a] for a in axes], [names[a] for a in axes])
    indices = [None] * len(shape)
    for axis, index in zip(kept + axes, kept_indices + reduced_indices):
        indices[axis] = index
    local = compute_members(lowering, kernel, nest.members, shape, indices)
    operand = lowering.graph.operands(node)[0]
    value = local[operand] if operand in local else _load(lowering, kernel, operand, shape, indices)
    body.line(f"acc = {combine.format(acc='acc', x=value)}")
    for stored in nest.stores:
        body.line(f"{kernel.read(lowering.values[stored], indices)} = {local[stored]}")
    body.close()
    body.line("partial[thread] = acc")
    body.line("cuda.syncthreads()")
    body.line("half = cuda.blockDim.x // 2")
    body.open("while half > 0:")
    body.open("if thread < half:")
    body.line(f"partial[thread] = {combine.format(acc='partial[thread]', x='partial[thread + half]')}")
    body.close()
    body.line("cuda.syncthreads()")
    body.line("half //= 2")
    body.close()
    body.open("if thread == 0:")
    keepdims = lowering.attrs(node)["params"]["keepdims"]
    out_indices = [("0" if keepdims else None) if axis in axes else index
                   for axis, index in enumerate(indices)]
    out_indices = [index for index in out_indices if index is not None]
    body.line(f"{kernel.use(out)}[{', '.join(out_indices) or '0'}] = partial[0]")
    body.close()
    kernel.finish(f"min({outputs}, MAX_BLOCKS), THREADS")


def lower_fused(lowering, node):
    nest = lowering.plan.emits_at(node)
    if nest is not None:
        lower_nest(lowering, nest)


# -- matmul ----------------------------------------------------------------------------------
def lower_matmul(lowering, node):
    """A tiled product: each block computes a TILE x TILE tile of the output, staging
    TILE x TILE tiles of both operands in shared memory. An operand read through a transpose
    is staged with the thread indices swapped, so consecutive threads read consecutive
    addresses either way."""
    a, b = lowering.graph.operands(node)
    for operand in (a, b):
        if lowering.values[operand].literal is not None:
            lowering.materialize(operand)
    shape, dtype = lowering.shape(node), numba_dtype(lowering.dtype(node))
    batch, (rows, columns) = shape[:-2], shape[-2:]
    depth = lowering.shape(a)[-1]
    out = lowering.allocate(node)
    kernel = Kernel(lowering, f"matmul_{node}")
    body = kernel.body
    batch_names = [f"i{axis}" for axis in range(len(batch))]

    def at(operand, row, column):
        operand_batch = broadcast(lowering.shape(operand)[:-2], batch, batch_names)
        return kernel.read(lowering.values[operand], operand_batch + [row, column])

    def contiguous_in(operand, axis):
        """Whether the operand's buffer is read contiguously along its last-but-``axis``."""
        value = lowering.values[operand]
        ndim = len(lowering.shape(operand))
        probe = value.index([f"p{k}" for k in range(ndim)])
        return probe[-1] == f"p{ndim - 1 - axis}"

    body.line(f"tile_a = cuda.shared.array((TILE, PADDED_TILE), numba.{dtype})")
    body.line(f"tile_b = cuda.shared.array((TILE, PADDED_TILE), numba.{dtype})")
    body.line("tx = cuda.threadIdx.x")
    body.line("ty = cuda.threadIdx.y")
    zero = literal(0, lowering.dtype(node))
    body.open(f"for z in range(cuda.blockIdx.z, {math.prod(batch)}, cuda.gridDim.z):")
    unflatten(body, "z", batch, batch_names)
    body.open(f"for row0 in range(cuda.blockIdx.y * TILE, {rows}, cuda.gridDim.y * TILE):")
    body.open(f"for column0 in range(cuda.blockIdx.x * TILE, {columns}, cuda.gridDim.x * TILE):")
    body.line(f"acc = {zero}")
    body.open(f"for k0 in range(0, {depth}, TILE):")
    # tile_a[r, k] = a[row0 + r, k0 + k]; tile_b[k, c] = b[k0 + k, column0 + c]
    stage = [("tile_a", a, "row0", "k0", rows, depth, contiguous_in(a, 0)),
             ("tile_b", b, "k0", "column0", depth, columns, contiguous_in(b, 0))]
    for tile, operand, first0, second0, first_extent, second_extent, along_second in stage:
        first, second = ("ty", "tx") if along_second else ("tx", "ty")
        body.line(f"r = {first0} + {first}")
        body.line(f"c = {second0} + {second}")
        body.open(f"if r < {first_extent} and c < {second_extent}:")
        body.line(f"{tile}[{first}, {second}] = {at(operand, 'r', 'c')}")
        body.close()
        body.open("else:")
        body.line(f"{tile}[{first}, {second}] = {zero}")
        body.close()
    body.line("cuda.syncthreads()")
    body.open("for k in range(TILE):")
    body.line("acc += tile_a[ty, k] * tile_b[k, tx]")
    body.close()
    body.line("cuda.syncthreads()")
    body.close()
    body.open(f"if row0 + ty < {rows} and column0 + tx < {columns}:")
    body.line(f"{kernel.use(out)}[{', '.join(batch_names + ['row0 + ty', 'column0 + tx'])}] = acc")
    body.close()
    kernel.finish(f"(tiles({columns}), tiles({rows}), min({math.prod(batch)}, MAX_TILES)), "
                  "(TILE, TILE)")


# -- data movement ---------------------------------------------------------------------------
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


def index_map(index):
    """The operand's index expressions for a primitive ``index`` (ints and (start, stop,
    step) slices, see symgrad.ops.shape) at the result's index expressions."""
    def mapped(indices):
        result, position = [], 0
        for entry in index:
            if isinstance(entry, tuple):
                start, _, step = entry
                term = indices[position] if step == 1 else f"{step} * {_grouped(indices[position])}"
                result.append(term if start == 0 else f"{start} + {term}")
                position += 1
            else:
                result.append(str(entry))
        return result + list(indices[position:])
    return mapped


def lower_getitem(lowering, node):
    operand = lowering.values[lowering.graph.operands(node)[0]]
    lowering.values[node] = operand.view(index_map(lowering.attrs(node)["params"]["index"]))


def _copy_into(lowering, name, target, shape, source):
    """A kernel writing ``source`` (a Value of ``shape``) into ``target`` (a Value)."""
    kernel = Kernel(lowering, name)
    indices = kernel.grid_stride(shape)
    kernel.body.line(f"{kernel.read(target, indices)} = {kernel.read(source, indices)}")
    kernel.finish(f"grid({math.prod(shape)}), THREADS")


def lower_setitem(lowering, node):
    target, value = lowering.graph.operands(node)
    lowering.allocate(node)
    out = lowering.values[node]
    _copy_into(lowering, f"setitem_{node}_all", out, lowering.shape(node), lowering.values[target])
    region = out.view(index_map(lowering.attrs(node)["params"]["index"]))
    _copy_into(lowering, f"setitem_{node}", region, lowering.shape(value), lowering.values[value])


def lower_concatenate(lowering, node):
    lowering.allocate(node)
    out = lowering.values[node]
    axis = lowering.attrs(node)["params"]["axis"]
    start = 0
    for k, operand in enumerate(lowering.graph.operands(node)):
        shape = lowering.shape(operand)
        index = tuple((0, d, 1) for d in shape[:axis]) + ((start, start + shape[axis], 1),)
        _copy_into(lowering, f"concatenate_{node}_{k}", out.view(index_map(index)), shape,
                   lowering.values[operand])
        start += shape[axis]


def lower_custom_vjp(lowering, node):
    """A user-differentiated value is its operand 0; only its VJP is special."""
    lowering.values[node] = lowering.values[lowering.graph.operands(node)[0]]


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


def lower_graph(graph, plan):
    lowering = Lowering(graph, plan)
    for node in graph.topological_order():
        op = graph.op(node)
        lowering_function = LOWERINGS.get(op)
        if lowering_function is None:
            raise TracingError(
                f"the CUDA backend cannot compile op {op!r} yet (node %{node} of graph "
                f"{graph.name!r}); use device='cpu' for this function"
                + ("" if op in NOT_YET_ON_CUDA else " (op unknown to the CUDA backend)"))
        lowering_function(lowering, node)
    return lowering


HEADER = '''# Generated by symgrad from the graph {name!r}: CUDA kernels (numba-cuda) and the host
# code that runs them (setup() allocates device buffers once and returns run()).
import numba
import numpy
from numba import cuda
from numba.core import config

from compiler.codegen import cuda_math as np   # the op templates' names, for the device

SIMULATOR = config.ENABLE_CUDASIM   # the simulator runs every thread as a Python thread:
THREADS = 8 if SIMULATOR else 256   # threads per block (a power of two: reduction trees)
TILE = 4 if SIMULATOR else 16       # matmul tile edge (TILE * TILE threads per block)
PADDED_TILE = TILE + 1              # shared tile rows, padded: no bank conflicts
MAX_BLOCKS = 4 if SIMULATOR else 4096
MAX_TILES = 2 if SIMULATOR else 65535


def grid(count):
    return max(1, min(-(-count // THREADS), MAX_BLOCKS))


def tiles(extent):
    return max(1, min(-(-extent // TILE), MAX_TILES))


'''


def generate(graph, plan):
    """Source of a module defining ``setup(constants...) -> (inputs, launch, outputs)``: the
    graph's input and output device buffers, and a function launching every kernel in order
    (see compiler.cuda). Returns (source, array constant nodes). ``SIGNATURES`` in the module
    gives every kernel's argument types."""
    lowering = lower_graph(graph, plan)
    outputs = [lowering.materialize(node, own=True) for node in graph.outputs]
    host = SourceWriter()
    constants = [f"c{node}" for node in lowering.array_constants]
    host.open(f"def setup({', '.join(constants)}):")
    host.extend(lowering.setup)
    host.line("")
    host.open("def launch():")
    host.extend(lowering.run)
    if not lowering.run.lines:
        host.line("pass")
    host.close()
    host.line("")
    inputs = [name for name, _ in lowering.inputs]
    host.line(f"return ({''.join(name + ', ' for name in inputs)}), launch, "
              f"({''.join(name + ', ' for name in outputs)})")
    host.close()
    signatures = SourceWriter()
    signatures.open("SIGNATURES = {")
    for name, signature in lowering.signatures.items():
        signatures.line(f"{name!r}: {signature!r},")
    signatures.close()
    signatures.line("}")
    source = (HEADER.format(name=graph.name) + "\n\n".join(lowering.kernels) + "\n\n"
              + signatures.text() + "\n\n" + host.text())
    return source, lowering.array_constants
