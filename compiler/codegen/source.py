"""Writing Python source: indentation and literals shared by the code generators."""
import math

import numpy as np


class SourceWriter:
    """Lines of code with an indentation level (four spaces a level)."""

    def __init__(self):
        self.lines = []
        self.indent = 0
        self.names = set()       # names a writer has already defined, for define-once lines

    def line(self, text):
        self.lines.append("    " * self.indent + text)

    def open(self, header):
        self.line(header)
        self.indent += 1

    def close(self):
        self.indent -= 1

    def extend(self, other):
        """Append ``other``'s lines, indented at this writer's current level."""
        for line in other.lines:
            self.line(line)

    def text(self):
        return "\n".join(self.lines) + "\n"


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
    """A tuple literal: ``(3,)``, ``(2, 3)``, ``()``."""
    dims = [str(int(d)) for d in shape]
    return f"({dims[0]},)" if len(dims) == 1 else f"({', '.join(dims)})"
