"""Buffers carved from a workspace: a graph function's intermediate arrays are views into
one array per dtype that its caller keeps between calls (symgrad.compiler.cpu.workspace),
so a call allocates only the arrays it returns."""
import numba


@numba.njit
def carve(workspace, offset, shape):
    """A C-ordered array of ``shape`` at ``workspace[offset:]``, and the offset after it,
    rounded up to 64 bytes (aligned loads in the loops and BLAS). Beyond the workspace's
    end the reshape fails: a wrong size is an error, never memory of another buffer."""
    size = 1
    for extent in shape:
        size *= extent
    end = offset + size
    step = max(1, 64 // workspace.itemsize)
    return workspace[offset:end].reshape(shape), (end + step - 1) // step * step
