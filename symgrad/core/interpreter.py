"""The reference interpreter: evaluate any Graph with the ops' numpy references (the oracle).

>>> import numpy as np, symgrad as sg
>>> graph = sg.trace(lambda x: np.exp(x).sum(), np.zeros(3))
>>> float(evaluate(graph, [np.zeros(3)])[0])
3.0
"""
import numpy as np

from symgrad.core.ops.registry import OPS


def evaluate(graph, inputs):
    """Run ``graph`` on ``inputs`` (one array per graph input); return the outputs in order."""
    if len(inputs) != len(graph.inputs):
        raise ValueError(f"graph {graph.name!r} takes {len(graph.inputs)} inputs, got {len(inputs)}")
    values = {}
    for node, value in zip(graph.inputs, inputs):
        values[node] = np.asarray(value, dtype=graph[node]["dtype"])
    for node in graph.topological_order():
        if node in values:
            continue
        attrs = graph[node]
        operands = [values[o] for o in graph.operands(node)]
        op = OPS[attrs["op"]]
        if op.multiple_results:      # a loop or branch: a tuple that ``result`` nodes pick from
            values[node] = op.reference(*operands, **attrs["params"])
            continue
        result = np.asarray(op.reference(*operands, **attrs["params"]))
        if result.shape != attrs["shape"] or result.dtype != attrs["dtype"]:
            raise AssertionError(
                f"op {attrs['op']}: shape rule says {attrs['dtype']}{list(attrs['shape'])}, "
                f"reference gave {result.dtype}{list(result.shape)}")
        values[node] = result
    return [values[node] for node in graph.outputs]
