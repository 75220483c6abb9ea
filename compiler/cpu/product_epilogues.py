"""A product split into blocks of rows, and the loop nest that alone reads it, as one loop on
numba's threads: each thread computes a block of the product's rows (one GEMM call) and at
once the nest over those rows, while the block is still in its core's L1 cache.

An Adam update of ``w1`` reads the gradient ``x.T @ g_h`` three times; computed this way,
each block of the gradient is read from L1 rather than from the L3 cache.

The product is emitted late, at the nest's place in the order: that is safe when no in-place
update between the two places, nor the nest itself, writes a buffer the product reads.
"""
import contextlib

from .blas import blas_operands
from .threads import prange_header, product_split, strided, thread_count
from ..passes.memory import emission_positions, memory_source

# A block of the product's rows: 32 KB of float32, an L1 cache (smaller and larger blocks
# were both slower on a 100x1000 gradient).
BLOCK_ELEMENTS = 8192


def plan_product_epilogues(lowering):
    """``{nest root: product}``: the row-split products each computed together with the one
    parallel nest that reads it."""
    graph = lowering.graph
    position = emission_positions(graph, lowering.plan)
    found = {}
    for product in graph.topological_order():
        nest = _only_reader(lowering, product)
        if nest is not None and _may_delay(lowering, product, nest, position):
            found.setdefault(nest.root, []).append(product)
    return {root: products[0] for root, products in found.items() if len(products) == 1}


def _only_reader(lowering, product):
    """The parallel nest of ``product``'s shape that alone reads ``product``, a product
    split by rows (it may also be a step's output: a ``.grad``)."""
    graph = lowering.graph
    if (graph.op(product) != "matmul" or product in lowering.folded_products
            or product_split(lowering, product) != "rows"):
        return None
    nests = {id(nest): nest for nest in map(lowering.plan.nest_of.get, graph.users(product))}
    nest = nests.popitem()[1] if len(nests) == 1 else None
    if nest is None or nest.root not in lowering.parallel_nests or nest.shape != graph[product]["shape"]:
        return None
    return nest


def _may_delay(lowering, product, nest, position):
    """Whether ``product``'s operands still hold their values at ``nest``'s place."""
    graph = lowering.graph
    read = {memory_source(graph, operand) for operand in graph.operands(product)}
    return not any(source in read and position[product] < position[result] <= position[nest.root]
                   for result, source in lowering.in_place.items())


@contextlib.contextmanager
def row_blocks(lowering, product):
    """Open the loops over each thread's blocks of ``product``'s rows, with the GEMM call of
    the block; the body (the nest over rows ``block_start:block_end``) goes inside."""
    a, b = blas_operands(lowering, product)
    out = lowering.allocate(product)
    rows, columns = lowering.attrs(product)["shape"]
    block, threads = max(1, BLOCK_ELEMENTS // columns), thread_count()
    lowering.runtime.add("gemm")
    writer = lowering.out
    writer.open(prange_header(lowering, "t", threads))
    writer.line(f"part_end = {rows} * (t + 1) // {threads}")
    writer.open(f"for block_start in range({rows} * t // {threads}, part_end, {block}):")
    writer.line(f"block_end = min(block_start + {block}, part_end)")
    writer.line(f"gemm_block(block_start, block_end, 1.0, {strided(a)}, {strided(b)}, 0.0, {out})")
    yield "block_start", "block_end"
    writer.close()
    writer.close()
