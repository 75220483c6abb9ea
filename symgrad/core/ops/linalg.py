"""Matrix products. The primitive ``matmul`` takes operands of two or more dimensions with
numpy's batch broadcasting; the frontend lifts 1-D operands as ``np.matmul`` does."""
import math
import sys

import numpy as np

import symgrad.core.ops.batch_rules as batch_rules
from symgrad.core.ops.common import lift, result_dtype
from symgrad.core.ops.registry import declare, faced
from symgrad.core.ops.shape import reshape, swapaxes
from symgrad.core.tracing import bind, find_graph


def _matmul_rule(a, b):
    if a.ndim < 2 or b.ndim < 2:
        raise ValueError("the matmul primitive needs operands of 2 or more dimensions")
    if a.shape[-1] != b.shape[-2]:
        raise ValueError(f"shapes {list(a.shape)} and {list(b.shape)} do not align: "
                         f"{a.shape[-1]} (last axis of the left) != {b.shape[-2]} "
                         "(second-to-last axis of the right)")
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    return batch + (a.shape[-2], b.shape[-1]), a.dtype


def _rows(x):
    """``x`` as a matrix: its batch axes and rows flattened into one axis of rows."""
    return reshape(x, (math.prod(x.shape[:-1]), x.shape[-1]))


def _right_cotangent(g, out, a, b):
    """d/db of ``a @ b``: summed over the batch axes ``b`` was broadcast along. A matrix
    ``b`` shared by a batch of ``a`` gets one product over the flattened batch, not one
    per batch element and then a sum."""
    if b.ndim == 2 and a.ndim > 2:
        return matmul(swapaxes(_rows(a), 0, 1), _rows(g))
    return matmul(swapaxes(a, -1, -2), g)


declare("matmul", _matmul_rule, np.matmul,
        [lambda g, out, a, b: matmul(g, swapaxes(b, -1, -2)), _right_cotangent],
        family="linalg", batch=batch_rules.matmul)


def _eager_matmul(a, b):
    """numpy's product, or (2-D floats, once compiled code has run) the same product on the
    BLAS compiled code calls, which then has every core (symgrad.compiler.cpu.blas_threads)."""
    blas = sys.modules.get("symgrad.compiler.cpu.blas_threads")
    product = blas.eager_matmul(a, b) if blas is not None else None
    return np.matmul(a, b) if product is None else product


@faced(numpy=(np.matmul,), operator="matmul", reflected=True, tensor=("matmul", "mm", "mv", "bmm"),
       torch=("matmul", "mm", "mv", "bmm"), grad_fn="MmBackward0")
def matmul(a, b):
    """``a @ b`` with numpy's rules for 1-D operands (a vector is lifted, then squeezed)."""
    graph = find_graph([a, b])
    if graph is None:
        return _eager_matmul(a, b)
    dtype = result_dtype(a, b)
    a, b = lift(graph, a, dtype), lift(graph, b, dtype)
    if a.ndim == 0 or b.ndim == 0:
        from symgrad.core.tracing import error_here
        raise error_here("matmul: operands must not be scalars (0-d); use * instead")
    vector_a, vector_b = a.ndim == 1, b.ndim == 1
    if vector_a:
        a = reshape(a, (1,) + a.shape)
    if vector_b:
        b = reshape(b, b.shape + (1,))
    out = bind("matmul", a, b)
    shape = out.shape[:-2] + (() if vector_a else out.shape[-2:-1]) + (() if vector_b else out.shape[-1:])
    return reshape(out, shape)
