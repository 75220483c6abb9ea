"""Matrix products on the GPU: a register-blocked, shared-memory tiled kernel.

Each block computes a BLOCK x BLOCK tile of the output (BLOCK = TILE * WORK), each of its
TILE x TILE threads a WORK x WORK grid of outputs held in registers, rows ``ty + i * TILE``
and columns ``tx + j * TILE`` (so neighbouring threads write neighbouring columns). Per step
of DEPTH along the inner dimension, the block stages a BLOCK x DEPTH tile of ``a`` and a
DEPTH x BLOCK tile of ``b`` in shared memory; an operand read through a transpose is staged
walking its contiguous axis, so global reads stay coalesced either way. Batch axes
(broadcast as numpy does) run over the grid's third dimension.
"""
import math

from .kernel import Kernel, broadcast, unflatten
from ..cpu.lowering_state import numba_dtype
from ..codegen.source import literal


def lower_matmul(lowering, node):
    a, b = lowering.graph.operands(node)
    for operand in (a, b):
        if lowering.values[operand].literal is not None:
            lowering.materialize(operand)
    shape = lowering.shape(node)
    batch, (rows, columns) = shape[:-2], shape[-2:]
    depth = lowering.shape(a)[-1]
    out = lowering.allocate(node)
    kernel = Kernel(lowering, f"matmul_{node}")
    batch_names = [f"i{axis}" for axis in range(len(batch))]
    zero = literal(0, lowering.dtype(node))
    _declare(kernel.body, numba_dtype(lowering.dtype(node)))
    body = kernel.body
    body.open(f"for z in range(cuda.blockIdx.z, {math.prod(batch)}, cuda.gridDim.z):")
    unflatten(body, "z", batch, batch_names)
    body.open(f"for row0 in range(cuda.blockIdx.y * BLOCK, {rows}, cuda.gridDim.y * BLOCK):")
    body.open(f"for column0 in range(cuda.blockIdx.x * BLOCK, {columns}, cuda.gridDim.x * BLOCK):")
    _loops(body, ["i", "j"], "acc[i, j] = " + zero)
    body.open(f"for k0 in range(0, {depth}, DEPTH):")
    # tile_a[r, k] = a[row0 + r, k0 + k]; tile_b[k, c] = b[k0 + k, column0 + c]
    _stage(kernel, "tile_a", _reader(lowering, kernel, a, batch, batch_names),
           ("row0", rows, "BLOCK"), ("k0", depth, "DEPTH"), _contiguous_in_last(lowering, a), zero)
    _stage(kernel, "tile_b", _reader(lowering, kernel, b, batch, batch_names),
           ("k0", depth, "DEPTH"), ("column0", columns, "BLOCK"), _contiguous_in_last(lowering, b),
           zero)
    body.line("cuda.syncthreads()")
    _multiply(body)
    body.line("cuda.syncthreads()")
    body.close()
    _store(body, f"{kernel.use(out)}[{''.join(name + ', ' for name in batch_names)}row, column]",
           rows, columns)
    kernel.finish(f"(tiles({columns}), tiles({rows}), min({math.prod(batch)}, MAX_TILES)), "
                  "(TILE, TILE)")


def _declare(body, dtype):
    body.line(f"tile_a = cuda.shared.array((BLOCK, PADDED_DEPTH), numba.{dtype})")
    body.line(f"tile_b = cuda.shared.array((DEPTH, PADDED_BLOCK), numba.{dtype})")
    body.line(f"acc = cuda.local.array((WORK, WORK), numba.{dtype})")
    body.line(f"a_part = cuda.local.array(WORK, numba.{dtype})")
    body.line(f"b_part = cuda.local.array(WORK, numba.{dtype})")
    body.line("tx = cuda.threadIdx.x")
    body.line("ty = cuda.threadIdx.y")
    body.line("thread = ty * TILE + tx")


def _loops(body, names, statement):
    """``statement`` inside one ``range(WORK)`` loop per name."""
    for name in names:
        body.open(f"for {name} in range(WORK):")
    body.line(statement)
    for _ in names:
        body.close()


def _reader(lowering, kernel, operand, batch, batch_names):
    """``(row, column) -> expression`` reading ``operand`` in the current batch element."""
    operand_batch = broadcast(lowering.shape(operand)[:-2], batch, batch_names)
    return lambda row, column: kernel.read(lowering.values[operand], operand_batch + [row, column])


def _contiguous_in_last(lowering, operand):
    """Whether the operand's buffer is contiguous along its last axis (not a transpose)."""
    ndim = len(lowering.shape(operand))
    probe = lowering.values[operand].index([f"p{k}" for k in range(ndim)])
    return probe[-1] == f"p{ndim - 1}"


def _stage(kernel, tile, read, first, second, along_second, zero):
    """Lines copying a tile of an operand into shared memory: ``first`` and ``second`` are
    (start, extent, tile size) of its two axes; the block's threads walk the tile's flat
    index along the operand's contiguous axis."""
    (start1, extent1, size1), (start2, extent2, size2) = first, second
    body = kernel.body
    body.open(f"for e in range(thread, {size1} * {size2}, TILE * TILE):")
    if along_second:
        body.line(f"r = e // {size2}")
        body.line(f"c = e % {size2}")
    else:
        body.line(f"r = e % {size1}")
        body.line(f"c = e // {size1}")
    body.open(f"if {start1} + r < {extent1} and {start2} + c < {extent2}:")
    body.line(f"{tile}[r, c] = {read(f'{start1} + r', f'{start2} + c')}")
    body.close()
    body.open("else:")
    body.line(f"{tile}[r, c] = {zero}")
    body.close()
    body.close()


def _multiply(body):
    """Each thread's WORK x WORK outer products over the staged DEPTH."""
    body.open("for k in range(DEPTH):")
    _loops(body, ["i"], "a_part[i] = tile_a[ty + i * TILE, k]")
    _loops(body, ["j"], "b_part[j] = tile_b[k, tx + j * TILE]")
    _loops(body, ["i", "j"], "acc[i, j] += a_part[i] * b_part[j]")
    body.close()


def _store(body, target, rows, columns):
    """Each thread writes its outputs that lie inside the matrix."""
    body.open("for i in range(WORK):")
    body.line("row = row0 + ty + i * TILE")
    body.open(f"if row < {rows}:")
    body.open("for j in range(WORK):")
    body.line("column = column0 + tx + j * TILE")
    body.open(f"if column < {columns}:")
    body.line(f"{target} = acc[i, j]")
    for _ in range(4):
        body.close()
