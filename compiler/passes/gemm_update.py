"""Folding an update of a buffer by a matrix product into the product's GEMM call.

An SGD step ``w' = w - lr * (x.T @ g)`` (or momentum's ``b' = mu * b + x.T @ g``) is, in BLAS
terms, ``C = alpha * A @ B + beta * C`` with ``C`` = ``w``'s buffer. When the memory plan lets
``w'`` overwrite ``w``, one GEMM call replaces the product's buffer and the loop nest over it:
one pass over a large matrix less, and the gradient never stored.
"""
from dataclasses import dataclass
from typing import Optional

import numpy as np

from .memory import memory_source

SCALED = {"mul"}
COMBINED = {"add": 1.0, "sub": -1.0}      # sign of the second operand


@dataclass
class GemmUpdate:
    """``root = beta * target + alpha * product``, written into ``target``'s buffer. ``alpha``
    and ``beta`` are each a scalar node (None: 1) and a sign."""
    product: int
    target: int
    alpha: Optional[int]
    alpha_sign: float
    beta: Optional[int]


def plan_gemm_updates(graph, plan, in_place):
    """``{nest root: GemmUpdate}`` for the loop nests that a GEMM call can compute."""
    updates = {}
    for nest in plan.nests:
        target = in_place.get(nest.root)
        if target is None or nest.reduction is not None or nest.stores:
            continue
        update = _match(graph, nest.root, target)
        if update is not None and set(nest.members) == _pattern_nodes(graph, nest.root, update):
            updates[nest.root] = update
    return updates


def _match(graph, root, target):
    if graph.op(root) not in COMBINED or not _is_float(graph, root):
        return None
    first, second = graph.operands(root)
    candidates = [(first, second, COMBINED[graph.op(root)])]
    if graph.op(root) == "add":
        candidates.append((second, first, 1.0))
    for kept, added, sign in candidates:
        beta = _scale_of(graph, kept, target)
        product, alpha = _scaled_product(graph, added)
        if beta is not False and product is not None and _safe(graph, product, target):
            return GemmUpdate(product, target, alpha, sign, beta)
    return None


def _scale_of(graph, node, target):
    """None when ``node`` is ``target``, the scalar when it is ``scalar * target``, else False."""
    if node == target:
        return None
    if graph.op(node) in SCALED:
        a, b = graph.operands(node)
        for scalar, other in ((a, b), (b, a)):
            if other == target and graph[scalar]["shape"] == ():
                return scalar
    return False


def _scaled_product(graph, node):
    """(matmul node, scalar node or None) when ``node`` is ``product`` or ``scalar * product``."""
    if _is_plain_product(graph, node):
        return node, None
    if graph.op(node) in SCALED:
        a, b = graph.operands(node)
        for scalar, other in ((a, b), (b, a)):
            if graph[scalar]["shape"] == () and _is_plain_product(graph, other):
                return other, scalar
    return None, None


def _is_plain_product(graph, node):
    """A 2-D float matmul whose value nobody else needs."""
    return (graph.op(node) == "matmul" and len(graph[node]["shape"]) == 2 and _is_float(graph, node)
            and len(graph.users(node)) == 1 and node not in graph.outputs)


def _is_float(graph, node):
    return np.dtype(graph[node]["dtype"]) in (np.float32, np.float64)


def _safe(graph, product, target):
    """BLAS must not read the buffer it writes, and every dtype must agree."""
    dtypes = {graph[n]["dtype"] for n in (product, target, *graph.operands(product))}
    return len(dtypes) == 1 and all(memory_source(graph, o) != target for o in graph.operands(product))


def _pattern_nodes(graph, root, update):
    """The nest members a match accounts for: the root and the scaling products."""
    nodes = {root}
    for operand in graph.operands(root):
        if operand not in (update.product, update.target):
            nodes.add(operand)
    return nodes
