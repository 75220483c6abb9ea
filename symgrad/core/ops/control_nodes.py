"""Control-flow nodes and what they compute (declared in symgrad.core.ops.control).

A loop or a branch is ONE node whose params hold its body as a Graph (traced once:
symgrad.core.subgraph); its value is a tuple, and one ``result`` node per element picks it
(``params["index"]``), so later ops and the backends see ordinary arrays.

* ``scan``: operands ``init carries, xs, captured``; ``body(carry, x, captured) -> (carry,
  y)`` runs ``length`` times (backwards when ``reverse``), ``x`` the row ``i`` of each xs;
  results: the last carries, then each ``y`` stacked on a new leading axis.
* ``while``: operands ``init carries, captured``; ``body`` runs while ``cond`` (a bool
  scalar of the carries) holds; results: the last carries.
* ``switch``: operands ``index, operands, captured``; ``branches[clip(index, 0, n - 1)]``
  runs; results: its outputs.
"""
import numpy as np

from symgrad.core.interpreter import evaluate
from symgrad.core.tracing import Tracer, captured_into, constant, find_graph, node_attributes


def bind_control(op, operands, result_avals, params, graph=None):
    """A node of the control-flow ``op`` and its ``result`` nodes; returns their tracers.
    ``operands`` are tracers (of this graph or one enclosing it) or arrays."""
    graph = graph or find_graph(operands)
    operands = [captured_into(graph, o) if isinstance(o, Tracer) else constant(graph, o)
                for o in operands]
    attrs = node_attributes()
    node = graph.add_node(op, [o.node for o in operands], (), "float64", params, **attrs)
    return [result_of(graph, node, index, aval) for index, aval in enumerate(result_avals)]


def result_of(graph, node, index, aval):
    """A new ``result`` node picking element ``index`` (of ``aval``) of ``node``'s tuple."""
    attrs = {"source": graph[node].get("source", "")}
    if "batched" in graph[node]:            # a vmapped loop's results are batched values too
        attrs["batched"] = graph[node]["batched"]
    if aval.weak:
        attrs["weak"] = True
    return Tracer(graph, graph.add_node("result", [node], aval.shape, aval.dtype,
                                        {"index": index}, **attrs))


def results(graph, node):
    """The existing ``result`` nodes of ``node``: {index: node}."""
    return {graph[user]["params"]["index"]: user for user in graph.users(node)}


def scan_reference(*operands, body, length, reverse, carries, xs, saved=None):
    carry = list(operands[:carries])
    sequences = operands[carries:carries + xs]
    captured = list(operands[carries + xs:])
    ys = [np.empty((length,) + body[n]["shape"], body[n]["dtype"])
          for n in body.outputs[carries:]]
    for step in range(length):
        i = length - 1 - step if reverse else step
        outputs = evaluate(body, carry + [s[i] for s in sequences] + captured)
        carry = outputs[:carries]
        for stacked, y in zip(ys, outputs[carries:]):
            stacked[i] = y
    return tuple(carry + ys)


def while_reference(*operands, cond, body, carries, max_trips=None):
    carry = list(operands[:carries])
    captured = list(operands[carries:])
    trips = 0
    while (max_trips is None or trips < max_trips) and bool(evaluate(cond, carry + captured)[0]):
        carry = evaluate(body, carry + captured)
        trips += 1
    return tuple(carry)


def switch_reference(index, *operands, branches):
    chosen = branches[int(np.clip(index, 0, len(branches) - 1))]
    return tuple(evaluate(chosen, list(operands)))


def pick_result(packed, index):
    return packed[index]
