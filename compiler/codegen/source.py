"""Writing Python source: indentation and literals shared by the code generators."""
import math

import numpy as np


class SourceWriter:
    """Lines of code with an indentation level (four spaces a level). Each line records
    its origin: the graph node being lowered when it was written (``origin``), or None, so
    a failure in generated code can name the node that wrote the line."""

    def __init__(self):
        self.lines = []
        self.origins = []
        self.origin = None
        self.indent = 0
        self.names = set()       # names a writer has already defined, for define-once lines

    def line(self, text):
        self.lines.append("    " * self.indent + text)
        self.origins.append(self.origin)

    def open(self, header):
        self.line(header)
        self.indent += 1

    def close(self):
        self.indent -= 1

    def extend(self, other):
        """Append ``other``'s lines, indented at this writer's current level."""
        for line, origin in zip(other.lines, other.origins):
            self.lines.append("    " * self.indent + line)
            self.origins.append(origin)

    def text(self):
        return "\n".join(self.lines) + "\n"


def copy_lines(writer, target, source, shape, index=None, source_shape=None):
    """``target[index] = source`` between arrays, as an explicit loop nest.

    numba's array-to-array slice assignment compiles the formatting of its shape-mismatch
    error message (unicode joins, int-to-str...) in every new process, seconds of a cold
    compile for one ``v[...] = w`` line. The loop compiles at once and runs as fast.
    ``shape`` is the target's; ``index`` a primitive index (ints and ``(start, stop, step)``
    ranges, leading axes; None: all of the target); ``source`` broadcasts to the indexed
    region as in numpy (``source_shape``, default the region's shape)."""
    index = tuple(index or ())
    loops, at = [], []          # extent of each loop; target index expression of each axis
    for axis, extent in enumerate(shape):
        entry = index[axis] if axis < len(index) else (0, extent, 1)
        if isinstance(entry, tuple):
            start, stop, step = entry
            k = f"k{len(loops)}"
            # a whole axis keeps its extent (run-time extents: symgrad.compiler.codegen.extents)
            whole = (start, stop, step) == (0, extent, 1)
            loops.append(extent if whole else len(range(start, stop, step)))
            at.append(k if (start, step) == (0, 1) else
                      f"{start} + {k}" if step == 1 else f"{start} + {step} * {k}")
        else:
            at.append(str(int(entry)))
    source_shape = tuple(loops) if source_shape is None else tuple(source_shape)
    if not source_shape:
        writer.line(f"{target}[{', '.join(at) or '...'}] = {source}")
        return
    offset = len(loops) - len(source_shape)
    read = ["0" if d == 1 and loops[offset + i] != 1 else f"k{offset + i}"
            for i, d in enumerate(source_shape)]
    for k, extent in enumerate(loops):
        writer.open(f"for k{k} in range({extent}):")
    writer.line(f"{target}[{', '.join(at)}] = {source}[{', '.join(read)}]")
    for _ in loops:
        writer.close()


def literal(value, dtype):
    """Source for a typed scalar constant, e.g. ``np.float32(0.5)`` or ``-np.inf``."""
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return repr(bool(value))
    if dtype.kind == "f" and not math.isfinite(value):
        text = "np.nan" if math.isnan(value) else ("np.inf" if value > 0 else "-np.inf")
    else:
        text = repr(dtype.type(value).item())
    return f"np.{dtype.name}({text})"


def shape_text(shape):
    """A tuple literal: ``(3,)``, ``(2, 3)``, ``()`` (run-time extents by name: ``(d0, 3)``)."""
    dims = [str(d) for d in shape]
    return f"({dims[0]},)" if len(dims) == 1 else f"({', '.join(dims)})"
