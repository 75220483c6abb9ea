"""Reverse mode as a graph-to-graph rewrite.

:func:`backward` walks the graph from an output back to the nodes being differentiated,
calls each op's VJP rule (written with ordinary ops, so the new nodes are differentiable
again) and sums the adjoints. Every node it adds records ``grad_of``: the forward node whose
VJP produced it.

>>> import numpy as np, symgrad as sg
>>> forward = sg.trace(lambda x: np.sum(x * x), np.ones(3))
>>> gradient = grad_graph(forward, wrt=[0])
>>> [gradient.op(n) for n in gradient.outputs]
['add']
"""
import numpy as np

from symgrad.core.errors import TracingError
from symgrad.core.ops.elementwise import astype
from symgrad.core.ops.shape import sum_to_shape
from symgrad.core.ops.registry import OPS
from symgrad.core.ops.shape import zeros_like
from symgrad.core.tracing import Tracer, gradient_of


def is_differentiable(dtype):
    return np.dtype(dtype).kind in "fc"


def relevant_nodes(graph, outputs, wrt, since):
    """Nodes on a path from ``wrt`` to ``outputs`` that were created at or after ``since``.

    ``since`` keeps an inner ``grad`` from differentiating through nodes an outer trace built
    before it started (no perturbation confusion)."""
    forward = set(wrt)
    for node in graph.topological_order():
        if node in forward or node < since:
            continue
        if any(operand in forward for operand in graph.operands(node)):
            forward.add(node)
    return forward & graph.ancestors(outputs)


def _accumulate(adjoints, node, cotangent):
    previous = adjoints.get(node)
    if isinstance(cotangent, dict):     # {result index: cotangent} of a control-flow node
        merged = dict(previous or {})
        for index, value in cotangent.items():
            merged[index] = merged[index] + value if index in merged else value
        adjoints[node] = merged
        return
    adjoints[node] = cotangent if previous is None else previous + cotangent


def _operand_cotangents(graph, node, g, out, relevant):
    """(operand, cotangent) for each operand of ``node`` that a gradient flows into."""
    op = OPS[graph.op(node)]
    operands = graph.operands(node)
    if op.multiple_results:       # one rule for all operands, given each result's cotangent
        tracers = [Tracer(graph, o) for o in operands]
        cotangents = op.vjp[0](g, out, *tracers, **graph[node]["params"])
    else:
        cotangents = [None] * len(operands)
    for position, operand in enumerate(operands):
        if operand not in relevant or not is_differentiable(graph[operand]["dtype"]):
            continue
        cotangent = (cotangents[position] if op.multiple_results else
                     _operand_cotangent(graph, node, position, operand, g, out))
        if cotangent is not None:
            yield operand, cotangent


def _operand_cotangent(graph, node, position, operand, g, out):
    op = OPS[graph.op(node)]
    rule = op.vjp_rule(position)
    if rule is None:
        raise TracingError(f"op {op.name!r} has no VJP rule for operand {position}; "
                           "it cannot be differentiated")
    operands = [Tracer(graph, o) for o in graph.operands(node)]
    cotangent = rule(g, out, *operands, **graph[node]["params"])
    if cotangent is None or isinstance(cotangent, dict):
        return cotangent
    return astype(sum_to_shape(cotangent, graph[operand]["shape"]), graph[operand]["dtype"])


def backward(graph, seeds, wrt, since=0):
    """Add gradient nodes to ``graph``: d(sum of seeds·outputs)/d(wrt), one tracer per wrt.

    ``seeds`` maps output node -> cotangent tracer. Nodes in ``wrt`` without a path from the
    outputs get zeros."""
    relevant = relevant_nodes(graph, list(seeds), wrt, since)
    adjoints = {}
    for node, seed in seeds.items():
        if node in relevant:
            _accumulate(adjoints, node, seed)
    for node in sorted(relevant, reverse=True):
        g = adjoints.get(node)
        if g is None or node in wrt:
            continue
        out = Tracer(graph, node)
        with gradient_of(node):
            for operand, cotangent in _operand_cotangents(graph, node, g, out, relevant):
                _accumulate(adjoints, operand, cotangent)
    return [adjoints[w] if w in adjoints else zeros_like(Tracer(graph, w)) for w in wrt]


def grad_graph(forward, wrt, seeds=None):
    """A new Graph: ``forward``'s nodes plus gradient nodes; outputs are d(output)/d(wrt).

    ``wrt`` are positions into ``forward.inputs``; with no ``seeds`` the forward graph must
    have one scalar output. Otherwise ``seeds`` is one array shape per output and the
    gradient graph takes them as extra inputs (a VJP)."""
    graph = forward.copy()
    graph.name = f"grad_{forward.name}"
    if seeds is None:
        (output,) = forward.outputs
        seed_tracers = {output: Tracer(graph, graph.add_constant(np.ones((), graph[output]["dtype"])))}
    else:
        seed_tracers = {}
        for output in forward.outputs:
            attrs = graph[output]
            seed = Tracer(graph, graph.add_input(attrs["shape"], attrs["dtype"], name="seed"))
            _accumulate(seed_tracers, output, seed)
    grads = backward(graph, seed_tracers, [forward.inputs[i] for i in wrt])
    graph.outputs = [g.node for g in grads]
    return graph
