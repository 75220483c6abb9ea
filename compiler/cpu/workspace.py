"""The intermediate buffers of a graph function, made once per compiled graph instead of
on every call.

A call of a small graph (a character RNN's gradient: some three hundred arrays of a few
hundred elements) spent a large part of its time in ``malloc`` and ``free``. The generated
function therefore takes one workspace array per dtype and carves its intermediates from
it (``carve``, symgrad.compiler.cpu.runtime.workspace); only the arrays it returns are
allocated per call. A workspace is taken from a free list for the length of one call, so
calls from several threads never share one. Graphs whose intermediates together exceed
``WORKSPACE_BYTES`` allocate the rest per call, as before: for them allocation costs little
beside the arithmetic, and a workspace would keep that memory between calls.
"""
import numpy as np

from .lowering_state import numba_dtype
from ..codegen.extents import extent_product
from ..codegen.source import shape_text

WORKSPACE_BYTES = 32 * 2 ** 20
ALIGNMENT = 64      # bytes; carve rounds every buffer up to it


class WorkspacePlan:
    """The elements carved from each dtype's workspace, as the code generator adds buffers."""

    def __init__(self):
        self.elements = {}       # dtype name -> elements, each buffer rounded up to ALIGNMENT
        self.bytes = 0

    def carve_line(self, name, shape, dtype):
        """The line that makes buffer ``name`` a view into the workspace, or None when it
        is allocated by itself (the workspace full, or a 0-d value)."""
        dtype = np.dtype(dtype)
        step = max(1, ALIGNMENT // dtype.itemsize)
        size = -(-int(extent_product(shape)) // step) * step
        if not shape or self.bytes + size * dtype.itemsize > WORKSPACE_BYTES:
            return None
        self.bytes += size * dtype.itemsize
        self.elements[dtype.name] = self.elements.get(dtype.name, 0) + size
        workspace, offset = workspace_names(dtype.name)
        return f"{name}, {offset} = carve({workspace}, {offset}, {shape_text(shape)})"

    def opening_lines(self):
        """The offsets' first values, before the first buffer is carved."""
        return [f"{workspace_names(dtype)[1]} = 0" for dtype in sorted(self.elements)]

    def arguments(self):
        """The workspace parameters of the generated function, in order."""
        return [workspace_names(dtype)[0] for dtype in sorted(self.elements)]

    def sizes(self):
        """``[(dtype, elements)]`` in the order of :meth:`arguments`."""
        return [(np.dtype(dtype), self.elements[dtype]) for dtype in sorted(self.elements)]


def workspace_names(dtype_name):
    """(workspace parameter, offset local) of a dtype in the generated code."""
    short = numba_dtype(dtype_name)
    return f"workspace_{short}", f"offset_{short}"


def make_workspaces(sizes):
    """One aligned array per ``(dtype, elements)`` of a plan's sizes."""
    arrays = []
    for dtype, elements in sizes:
        raw = np.empty(elements + ALIGNMENT // dtype.itemsize, dtype)
        shift = (-raw.ctypes.data % ALIGNMENT) // dtype.itemsize
        arrays.append(raw[shift:shift + elements])
    return tuple(arrays)


class Workspaces:
    """Free workspaces of one compiled graph: ``take()`` one for a call, ``give(w)`` it back."""

    def __init__(self, sizes):
        self.sizes = sizes
        self.free = []

    def take(self):
        try:
            return self.free.pop()
        except IndexError:
            return make_workspaces(self.sizes)

    def give(self, workspaces):
        self.free.append(workspaces)
