"""The building blocks of the CUDA code generator (symgrad.compiler.cuda.lowering): where a
node's elements are (:class:`Value`: a device buffer read through an index map, or a
literal), one kernel being written (:class:`Kernel`) and the state of one graph's lowering
(:class:`Lowering`: values, device buffers, kernel sources, host code).
"""
import math

from ..cpu.lowering_state import numba_dtype
from ..codegen.source import SourceWriter, shape_text


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

    def __init__(self, graph, plan, in_place=None):
        self.graph = graph
        self.plan = plan
        self.in_place = in_place or {}   # node -> the input whose buffer it overwrites
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
        """A fresh buffer holding ``node`` (or the buffer of the input it overwrites)."""
        if node in self.in_place:
            self.values[node] = self.values[self.in_place[node]]
            return self.values[node].base
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


def index_map(index):
    """The operand's index expressions for a primitive ``index`` (ints and (start, stop,
    step) slices, see symgrad.core.ops.shape) at the result's index expressions."""
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


def copy_into(lowering, name, target, shape, source):
    """A kernel writing ``source`` (a Value of ``shape``) into ``target`` (a Value)."""
    kernel = Kernel(lowering, name)
    indices = kernel.grid_stride(shape)
    kernel.body.line(f"{kernel.read(target, indices)} = {kernel.read(source, indices)}")
    kernel.finish(f"grid({math.prod(shape)}), THREADS")
