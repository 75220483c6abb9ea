"""The kernels a training loop on the GPU runs around each step's own kernels
(symgrad.compiler.cuda.training_loop): gathering a step's batch rows and recording its loss.

Importing this module imports numba.cuda (which reads ``NUMBA_ENABLE_CUDASIM`` then).
"""
from numba import cuda
from numba.core import config

THREADS = 8 if config.ENABLE_CUDASIM else 256   # the simulator runs each thread in Python
MAX_BLOCKS = 4 if config.ENABLE_CUDASIM else 4096


@cuda.jit
def gather_rows(batch, data, order, first):
    """``batch[row] = data[order[first + row]]``, both seen as 2-d (rows, row length)."""
    rows, width = batch.shape
    for flat in range(cuda.grid(1), rows * width, cuda.gridsize(1)):
        row = flat // width
        column = flat - row * width
        batch[row, column] = data[order[first + row], column]


@cuda.jit
def record_loss(history, loss, step):
    """``history[step] = loss[0]`` (one thread)."""
    if cuda.grid(1) == 0:
        history[step] = loss[0]


def blocks(count):
    """Blocks of ``THREADS`` for a grid-stride loop over ``count`` elements."""
    return max(1, min(-(-count // THREADS), MAX_BLOCKS))


def signatures(dtypes=("float32", "float64", "int64")):
    """Kernel name -> (kernel, numba signature) for PTX checks: the gather for each of
    ``dtypes``, the loss record for float32 and float64 losses."""
    kernels = {f"gather_rows_{t}": (gather_rows, f"void({t}[:, ::1], {t}[:, ::1], int64[::1], int64)")
               for t in dtypes}
    kernels.update({f"record_loss_{t}": (record_loss, f"void(float64[::1], {t}[::1], int64)")
                    for t in ("float32", "float64")})
    return kernels
