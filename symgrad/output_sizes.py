"""numpy's MemoryError before compiling a graph whose output cannot fit in this machine's
memory."""
import numpy as np

from symgrad.core.source_info import describe_location
from symgrad.core.errors import TracingMemoryError


def _size_text(num_bytes):
    """``7.00 TiB``: a size as numpy's MemoryError writes it (binary units, 3 digits)."""
    units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
    unit = min(max(num_bytes.bit_length() - 1, 1) // 10, len(units) - 1)
    value = num_bytes / (1 << (10 * unit))
    if round(value) == 1024 and unit + 1 < len(units):     # 1023.9 MiB reads 1.00 GiB
        unit, value = unit + 1, value / 1024
    return f"{value:#.3g} {units[unit]}" if round(value) < 1000 else f"{value:#.0f} {units[unit]}"


def physical_memory():
    """Bytes of memory on this machine (None where the OS does not say)."""
    import os
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def check_output_sizes(graph):
    """numpy's MemoryError, before compiling, for an output larger than this machine's
    memory (a broadcast to a huge shape): the compiled code would only fail allocating it."""
    memory = physical_memory()
    if memory is None:
        return
    for node in graph.outputs:
        attrs = graph[node]
        itemsize = np.dtype(attrs["dtype"]).itemsize
        num_bytes = int(np.prod(attrs["shape"], dtype=object)) * itemsize
        if num_bytes > memory:
            raise TracingMemoryError(
                f"Unable to allocate {_size_text(num_bytes)} for an array with shape "
                f"{attrs['shape']} and data type {attrs['dtype']}: an output of "
                f"{graph.name!r} is larger than this machine's memory "
                f"({_size_text(memory)})" + describe_location(attrs.get("source", "")))
