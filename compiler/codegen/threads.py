"""Which loops of a generated CPU function run on numba's threads.

A training step whose elementwise work is large (Adam's update of a 1000x100 weight: a
square root and a division per element, about 40 µs on one core) runs those loop nests
under ``numba.prange``. Such a function keeps BLAS on one thread (idle OpenBLAS threads
spin and starve numba's: see compiler.codegen.sample_loop), so its large products are split
into blocks of rows, one per thread, each a one-thread GEMM (compiler.runtime.gemm's
``gemm_rows``); at W1's shapes that is as fast as OpenBLAS's own two threads.
"""
import math

import numba

from compiler.codegen.sample_loop import PRANGE

PARALLEL_ELEMENTS = 1 << 16      # a nest this large runs on numba's threads
PARALLEL_MULTIPLY_ADDS = 1 << 20  # a product this large is split into blocks of rows


def thread_count():
    return numba.config.NUMBA_NUM_THREADS


def parallel_nests(graph, plan, gemm_updates):
    """Roots of the elementwise nests (no reductions) large enough for numba's threads."""
    if thread_count() < 2:
        return set()
    return {nest.root for nest in plan.nests
            if nest.reduction is None and nest.root not in gemm_updates
            and nest.shape and math.prod(nest.shape) >= PARALLEL_ELEMENTS}


def loop_header(lowering, axis, extent, parallel):
    """The ``for`` line of a nest's axis: the outermost one of a parallel nest is a prange."""
    if parallel and axis == 0:
        lowering.parallel = True
        return f"for i{axis} in {PRANGE}{extent}):"
    return f"for i{axis} in range({extent}):"


def splits_product(lowering, shape, inner):
    """Whether a product of ``shape`` (2-D) summing over ``inner`` runs as row blocks."""
    rows, columns = shape
    return (bool(lowering.parallel_nests) and rows >= 2 * thread_count()
            and rows * columns * inner >= PARALLEL_MULTIPLY_ADDS)


def emit_product(lowering, alpha, a, b, beta, out, split):
    """A GEMM call, or one per row block on numba's threads."""
    lowering.runtime.add("gemm")
    if not split:
        lowering.out.line(f"gemm({alpha}, {a}, {b}, {beta}, {out})")
        return
    lowering.parallel = True
    lowering.out.open(f"for t in {PRANGE}{thread_count()}):")
    lowering.out.line(f"gemm_rows(t, {thread_count()}, {alpha}, {a}, {b}, {beta}, {out})")
    lowering.out.close()
