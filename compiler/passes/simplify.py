"""Algebraic simplification: a table of rewrite rules keyed by op name.

A rule gets ``(graph, node)`` and returns the node that should replace it (same shape and
dtype) or None. Broadcasts feeding elementwise ops are dropped for every elementwise op,
since elementwise loops broadcast their operands themselves.
"""
import math

import numpy as np

from symgrad.core.ops.registry import OPS


def constant_value(graph, node):
    """The scalar value of a constant node whose elements are all equal, else None."""
    if graph.op(node) != "constant":
        return None
    value = graph[node]["params"]["value"]
    if value.size == 0 or not np.all(value == value.flat[0]):
        return None
    return value.flat[0].item()


def _same_type(graph, a, b):
    return graph[a]["shape"] == graph[b]["shape"] and graph[a]["dtype"] == graph[b]["dtype"]


def _operand_if(graph, node, position, other_value):
    """Operand ``position`` when the other operand of a binary op is the constant given."""
    operands = graph.operands(node)
    kept = operands[position]
    if constant_value(graph, operands[1 - position]) == other_value and _same_type(graph, kept, node):
        return kept
    return None


def _first_operand(graph, node):
    (operand,) = graph.operands(node)
    return operand if _same_type(graph, operand, node) else None


def _first_found(*candidates):
    return next((c for c in candidates if c is not None), None)


def _either_identity(value):
    return lambda graph, node: _first_found(_operand_if(graph, node, 0, value),
                                            _operand_if(graph, node, 1, value))


def _compose(graph, node):
    """reshape(reshape(x)) -> reshape(x); transpose(transpose(x)) -> transpose(x)."""
    (inner,) = graph.operands(node)
    if graph.op(inner) != graph.op(node) or len(graph.users(inner)) != 1:
        return None
    (source,) = graph.operands(inner)
    params = dict(graph[node]["params"])
    if graph.op(node) == "transpose":
        first, second = graph[inner]["params"]["axes"], params["axes"]
        params["axes"] = tuple(first[a] for a in second)
    return graph.add_node(graph.op(node), [source], graph[node]["shape"], graph[node]["dtype"],
                          params, **_provenance(graph, node))


def _shape_op(graph, node):
    return _first_found(_first_operand(graph, node), _compose(graph, node))


def _transpose(graph, node):
    if graph[node]["params"]["axes"] == tuple(range(len(graph[node]["shape"]))):
        return graph.operands(node)[0]
    return _first_found(_compose(graph, node), _transposed_product(graph, node))


def _transposed_product(graph, node):
    """(a @ b).T -> b.T @ a.T: BLAS writes the product in the layout its user wants (a
    Linear layer's weight gradient), and the new transposes are free views."""
    (product,) = graph.operands(node)
    if graph.op(product) != "matmul" or len(graph[node]["shape"]) != 2 \
            or len(graph.users(product)) != 1 or product in graph.outputs:
        return None
    a, b = graph.operands(product)
    flipped = [graph.add_node("transpose", [operand], graph[operand]["shape"][::-1],
                              graph[operand]["dtype"], {"axes": (1, 0)}, **_provenance(graph, node))
               for operand in (b, a)]
    return graph.add_node("matmul", flipped, graph[node]["shape"], graph[node]["dtype"],
                          **_provenance(graph, node))


def _flattened_product(graph, node):
    """A batch of ``a`` times a matrix ``b`` -> one matrix product over ``a``'s rows, the
    batch axes flattened into them (a reshape of a C-ordered array is a view), reshaped
    back: one GEMM call for ``nn.Linear`` on ``(batch, time, features)``, not one per
    batch element."""
    a, b = graph.operands(node)
    shape, dtype = graph[node]["shape"], graph[node]["dtype"]
    if len(shape) == 2 or len(graph[b]["shape"]) != 2:
        return None
    provenance = _provenance(graph, node)
    rows = math.prod(shape[:-1])
    matrix = (rows, graph[a]["shape"][-1])
    flat = graph.add_node("reshape", [a], matrix, dtype, {"shape": matrix}, **provenance)
    product = graph.add_node("matmul", [flat, b], (rows, shape[-1]), dtype, **provenance)
    return graph.add_node("reshape", [product], shape, dtype, {"shape": shape}, **provenance)


def _square_power(graph, node):
    base, exponent = graph.operands(node)
    value = constant_value(graph, exponent)
    if value == 1 and _same_type(graph, base, node):
        return base
    if value == 2 and _same_type(graph, base, node):
        return graph.add_node("square", [base], graph[node]["shape"], graph[node]["dtype"],
                              **_provenance(graph, node))
    return None


def _double_negation(graph, node):
    (inner,) = graph.operands(node)
    return graph.operands(inner)[0] if graph.op(inner) == "neg" else None


def _provenance(graph, node):
    return {key: graph[node][key] for key in ("source", "grad_of") if key in graph[node]}


RULES = {
    "identity": _first_operand,
    "stop_gradient": _first_operand,
    "cast": _first_operand,
    "broadcast_to": _first_operand,
    "reshape": _shape_op,
    "transpose": _transpose,
    "matmul": _flattened_product,
    "mul": _either_identity(1),
    "add": _either_identity(0),
    "sub": lambda graph, node: _operand_if(graph, node, 0, 0),
    "div": lambda graph, node: _operand_if(graph, node, 0, 1),
    "pow": _square_power,
    "neg": _double_negation,
}


def drop_broadcasts(graph, node):
    """Elementwise ops broadcast by themselves: bypass broadcast_to operands that do not
    change the op's result shape."""
    changed = False
    operands = graph.operands(node)
    for position, operand in enumerate(operands):
        if graph.op(operand) != "broadcast_to":
            continue
        source = graph.operands(operand)[0]
        shapes = [graph[o]["shape"] for o in operands]
        shapes[position] = graph[source]["shape"]
        if np.broadcast_shapes(*shapes) == graph[node]["shape"]:
            graph.nx.remove_edge(operand, node, key=position)
            graph.nx.add_edge(source, node, key=position)
            operands[position] = source
            changed = True
    return changed


def simplify(graph):
    changed = False
    for node in graph.topological_order():
        op = graph.op(node)
        if OPS[op].elementwise and op != "broadcast_to":
            changed |= drop_broadcasts(graph, node)
        rule = RULES.get(op)
        replacement = rule(graph, node) if rule else None
        if replacement is not None and replacement != node:
            graph.replace_uses(node, replacement)
            graph.remove_node(node)
            changed = True
    return changed
