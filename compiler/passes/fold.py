"""Constant folding: evaluate nodes whose operands are all constants, when that does not
grow the data (folding a broadcast of a scalar would turn one number into an array)."""
import numpy as np

from symgrad.core.ops.registry import OPS

SOURCES = ("input", "constant")


def fold_constants(graph):
    changed = False
    for node in graph.topological_order():
        operands = graph.operands(node)
        if graph.op(node) in SOURCES or not operands or OPS[graph.op(node)].multiple_results:
            continue
        if any(graph.op(o) != "constant" for o in operands):
            continue
        values = [graph[o]["params"]["value"] for o in operands]
        attrs = graph[node]
        size = int(np.prod(attrs["shape"], dtype=np.int64))
        if size > 1 and size > max(v.size for v in values):
            continue
        value = np.asarray(OPS[attrs["op"]].reference(*values, **attrs["params"]), attrs["dtype"])
        folded = graph.add_constant(value)
        graph.replace_uses(node, folded)
        graph.remove_node(node)
        changed = True
    return changed
