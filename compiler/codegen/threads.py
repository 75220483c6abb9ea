"""Which loops of a generated CPU function run on numba's threads, and what such a
function needs.

A training step whose elementwise work is large (Adam's update of a 1000x100 weight: a
square root and a division per element, about 40 µs on one core) runs those loop nests
under ``numba.prange``. Such a function keeps BLAS on one thread (idle OpenBLAS threads
spin and starve numba's: below), so its large products are split
into blocks of rows, one per thread, each a one-thread GEMM (compiler.runtime.gemm's
``gemm_rows``); at W1's shapes that is as fast as OpenBLAS's own two threads. Window ops
split their samples the same way (compiler.codegen.sample_loop).

Such a function needs ``parallel=`` in its decorator (``NJIT_PARALLEL``); only explicit
``prange`` loops are parallelized (numba's other rewrites would parallelize small array
expressions, and cost compile time). BLAS stays on one thread while it runs
(``runs_on_numba_threads``): idle OpenBLAS threads spin and starve numba's (LeNet batch 64:
16 ms per step instead of 2.1). numba's threads wait passively between loops
(``OMP_WAIT_POLICY=PASSIVE`` unless set): a thread spinning at the end of its chunk takes
the core that another process's thread, or the chunk still running, needs (LeNet batch 64
beside one other busy process on 2 cores: 3.2 ms per step instead of 8-12).
"""
import math
import os

import numba

PRANGE = "numba.prange("
NJIT_PARALLEL = ('parallel={"comprehension": False, "reduction": False, "inplace_binop": False, '
                 '"setitem": False, "numpy": False, "stencil": False, "fusion": False, '
                 '"prange": True}')

# A nest runs on numba's threads when its elements times its ops reach this: Adam's update
# of W2's 1000x100 weight (14 ops an element) does; LeNet's SGD update of its 120x576 fc1
# weight (2 ops) does not: a parallel region, with BLAS then on one thread, made that
# batch-1 step 45 -> 66 µs.
PARALLEL_WORK = 1 << 19
PARALLEL_MULTIPLY_ADDS = 1 << 20  # a product this large is split into blocks of rows


def thread_count():
    return numba.config.NUMBA_NUM_THREADS


def runs_on_numba_threads(source):
    """Whether generated ``source`` has loops on numba's threads."""
    return PRANGE in source


def prange_header(lowering, variable, extent):
    """``for variable in numba.prange(extent):``, marking the function parallel."""
    lowering.parallel = True
    # read when numba starts its OpenMP threads, at the first parallel call
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    return f"for {variable} in {PRANGE}{extent}):"


def parallel_nests(graph, plan, gemm_updates):
    """Roots of the elementwise nests (no reductions) with work enough for numba's threads."""
    if thread_count() < 2:
        return set()
    return {nest.root for nest in plan.nests
            if nest.reduction is None and nest.root not in gemm_updates and nest.shape
            and math.prod(nest.shape) * len(nest.members) >= PARALLEL_WORK}


def loop_header(lowering, axis, extent, parallel):
    """The ``for`` line of a nest's axis: the outermost one of a parallel nest is a prange."""
    if parallel and axis == 0:
        return prange_header(lowering, f"i{axis}", extent)
    return f"for i{axis} in range({extent}):"


def splits_product(lowering, product):
    """Whether a 2-D product runs as row blocks: in a function on numba's threads, with rows
    for every thread and work enough."""
    shape = lowering.attrs(product)["shape"]
    if len(shape) != 2 or not lowering.parallel_nests:
        return False
    rows, columns = shape
    inner = lowering.attrs(lowering.graph.operands(product)[0])["shape"][-1]
    return rows >= 2 * thread_count() and rows * columns * inner >= PARALLEL_MULTIPLY_ADDS


def emit_product(lowering, product, alpha, a, b, beta, out):
    """The GEMM call of ``product``, or one per row block on numba's threads."""
    lowering.runtime.add("gemm")
    if not splits_product(lowering, product):
        lowering.out.line(f"gemm({alpha}, {a}, {b}, {beta}, {out})")
        return
    lowering.out.open(prange_header(lowering, "t", thread_count()))
    lowering.out.line(f"gemm_rows(t, {thread_count()}, {alpha}, {a}, {b}, {beta}, {out})")
    lowering.out.close()
