"""Which loops of a generated CPU function run on numba's threads, and what such a
function needs.

A training step whose elementwise work is large (Adam's update of a large weight: a
square root and a division per element) runs those loop nests
under ``numba.prange``. Such a function keeps BLAS on one thread (idle OpenBLAS threads
spin and starve numba's: below), so its large products are split into one one-thread GEMM
per thread (symgrad.compiler.cpu.runtime.gemm): by blocks of the result's rows or columns, or of the
summed dimension (partial products added afterwards), so that each thread touches only its
own block of the product's largest array (``product_split``). For ``x @ w1`` with a
short, wide ``x`` and a tall ``w1`` that is the summed dimension: each thread reads only the
rows of ``w1`` its part of the Adam update has just written, still in its core's cache.
Window ops split their samples the same way (symgrad.compiler.cpu.sample_loop).

Such a function needs ``parallel=`` in its decorator (``NJIT_PARALLEL``); only explicit
``prange`` loops are parallelized (numba's other rewrites would parallelize small array
expressions, and cost compile time). BLAS stays on one thread while it runs
(``runs_on_numba_threads``): idle OpenBLAS threads spin and starve numba's, which made a
convolutional step several times slower. numba's OpenMP threads wait as OpenMP does by
default: they spin a while between loops, then sleep. ``OMP_WAIT_POLICY=PASSIVE`` makes
them sleep at once, which suits a machine shared with other busy processes, but waking a
sleeping thread at every parallel loop costs a large part of a short step.
"""
import math

import numba

PRANGE = "numba.prange("
NJIT_PARALLEL = ('parallel={"comprehension": False, "reduction": False, "inplace_binop": False, '
                 '"setitem": False, "numpy": False, "stencil": False, "fusion": False, '
                 '"prange": True}')

# A nest runs on numba's threads when its elements times its ops reach this: Adam's update
# of a 1000x100 weight (14 ops an element) does; an SGD update of a 120x576 weight (2 ops)
# does not: a parallel region, with BLAS then on one thread, made such a small step slower.
PARALLEL_WORK = 1 << 19
PARALLEL_MULTIPLY_ADDS = 1 << 20  # a product this large is split across the threads


def thread_count():
    return numba.config.NUMBA_NUM_THREADS


def runs_on_numba_threads(source):
    """Whether generated ``source`` has loops on numba's threads."""
    return PRANGE in source


def prange_header(lowering, variable, extent):
    """``for variable in numba.prange(extent):``, marking the function parallel."""
    lowering.parallel = True
    return f"for {variable} in {PRANGE}{extent}):"


def parallel_nests(graph, plan, gemm_updates):
    """Roots of the elementwise nests (no reductions) with work enough for numba's threads."""
    if thread_count() < 2:
        return set()
    return {nest.root for nest in plan.nests
            if nest.reduction is None and nest.root not in gemm_updates and nest.shape
            and math.prod(nest.shape) * len(nest.members) >= PARALLEL_WORK}


def loop_header(lowering, axis, extent, parallel, rows=None):
    """The ``for`` line of a nest's axis: the outermost one of a parallel nest is a prange,
    or runs over ``rows`` (first, last) when given."""
    if axis == 0 and rows is not None:
        return f"for i0 in range({rows[0]}, {rows[1]}):"
    if parallel and axis == 0:
        return prange_header(lowering, f"i{axis}", extent)
    return f"for i{axis} in range({extent}):"


def product_split(lowering, product):
    """How a 2-D product in a function on numba's threads is split: ``None`` (one GEMM
    call), ``"rows"`` or ``"columns"`` (blocks of the result's) or ``"inner"`` (blocks of
    the summed dimension). Each thread touches only its own block of the product's largest
    array, in storage order: rows of a C-ordered one, columns of an F-ordered one (a
    transpose). Parameters updated by rows in the same function are then split alike in
    their products and their update, and each block stays in the core that wrote it. Only
    products with work enough are split, along an axis of two blocks for every thread."""
    shape = lowering.attrs(product)["shape"]
    if len(shape) != 2 or not lowering.parallel_nests:
        return None
    rows, columns = shape
    a, b = lowering.graph.operands(product)
    inner = lowering.attrs(a)["shape"][-1]
    if rows * columns * inner < PARALLEL_MULTIPLY_ADDS:
        return None
    transposed = {operand: _is_transpose(lowering.graph, operand) for operand in (a, b)}
    arrays = [(rows * columns, "rows"),               # (size, split) of the result, b and a
              (inner * columns, "columns" if transposed[b] else "inner"),
              (rows * inner, "inner" if transposed[a] else "rows")]
    split = max(arrays, key=lambda array: array[0])[1]
    extent = {"rows": rows, "columns": columns, "inner": inner}[split]
    return split if extent >= 2 * thread_count() else None


def _is_transpose(graph, node):
    """Whether ``node`` reaches BLAS F-ordered: a matrix transpose of a C-ordered value."""
    flips = 0
    while graph.op(node) == "transpose" and len(graph[node]["shape"]) == 2:
        node, flips = graph.operands(node)[0], flips + 1
    return flips % 2 == 1


def strided(operand):
    """A GEMM operand as the generated code passes it: typed by its strides (see
    symgrad.compiler.cpu.runtime.gemm.strided), so each runtime function compiles once per dtype."""
    return f"strided({operand})"


def emit_gemm(lowering, alpha, a, b, beta, out):
    """One ``gemm`` call (symgrad.compiler.cpu.runtime.gemm): ``out = alpha * a @ b + beta * out``."""
    lowering.runtime.update(("gemm", "outlined"))
    lowering.out.line(f"outlined(gemm, ({alpha}, {strided(a)}, {strided(b)}, {beta}, {out}))")


def emit_product(lowering, product, alpha, a, b, beta, out):
    """The GEMM call of ``product``, or one per thread (``product_split``)."""
    split = product_split(lowering, product)
    if split is None:
        emit_gemm(lowering, alpha, a, b, beta, out)
        return
    lowering.runtime.add("gemm")
    a, b = strided(a), strided(b)
    threads = thread_count()
    lowering.out.open(prange_header(lowering, "t", threads))
    if split != "inner":
        lowering.out.line(f"gemm_{split}(t, {threads}, {alpha}, {a}, {b}, {beta}, {out})")
        lowering.out.close()
        return
    partials = f"p{product}"
    attrs = lowering.attrs(product)
    lowering.buffer(partials, (threads - 1, *attrs["shape"]), attrs["dtype"])
    lowering.out.line(f"gemm_inner(t, {threads}, {alpha}, {a}, {b}, {beta}, {out}, {partials})")
    lowering.out.close()
    lowering.out.line(f"add_partials({out}, {partials})")
