"""The control-flow primitives ``scan``, ``while``, ``switch`` and ``result`` (their nodes and
references: symgrad.core.ops.control_nodes) and their VJP rules, which are loops and
branches again (so gradients of gradients work):

* ``scan`` stores the carry entering each iteration (an extra stacked output of the forward
  node, added when it is first differentiated) and runs a reverse ``scan`` whose body is the
  forward body's pullback at those carries;
* ``while`` with ``max_trips``: the pullback of the same loop written as a ``scan`` of
  ``max_trips`` iterations that stop changing the carries once ``cond`` fails; without it,
  a TracingError naming the loop's line, but for forward mode, which transposes a
  placeholder whose transpose is a while loop of tangents (symgrad.core.ops.control_forward);
* ``switch``: a ``switch`` over the branches' pullbacks (the gradient flows through the
  branch taken).

Their batching rules (``vmap``) batch the bodies in turn: symgrad.core.ops.control_batching.
"""
import numpy as np

import symgrad.core.ops.control_batching as control_batching
import symgrad.core.ops.control_forward as control_forward
import symgrad.core.reverse_mode as reverse_mode
from symgrad.core.errors import TracingError
from symgrad.core.ops.control_nodes import (bind_control, pick_result, result_of, results,
                                            scan_reference, switch_reference, while_reference)
from symgrad.core.ops.elementwise import where
from symgrad.core.ops.logical import logical_and
from symgrad.core.ops.registry import Aval, declare
from symgrad.core.ops.shape import zeros_like
from symgrad.core.source_info import describe_location
from symgrad.core.subgraph import aval_of, inline, new_inputs, subgraph
from symgrad.core.tracing import Tracer, constant
from symgrad.core.transposition import transposing


def _differentiable(aval):
    return np.dtype(aval.dtype).kind in "fc"


def _seed(seeds, tracer, cotangent):
    node = tracer.node
    seeds[node] = seeds[node] + cotangent if node in seeds else cotangent


def _saved_carries(graph, node, carries, length):
    """Tracers of the carries entering each iteration of the scan ``node``, stacked: extra
    outputs of its body (the inputs passed through), added to the node on first use."""
    params = graph[node]["params"]
    body = params["body"]
    if params.get("saved") is None:
        augmented = body.copy()
        augmented.outputs = body.outputs + body.inputs[:carries]
        saved = len(body.outputs) - carries
        graph[node]["params"] = {**params, "body": augmented, "saved": saved}
        body = augmented
    start = carries + graph[node]["params"]["saved"]
    existing = results(graph, node)
    return [Tracer(graph, existing[start + j]) if start + j in existing else
            result_of(graph, node, start + j, _stacked(aval_of(body, body.inputs[j]), length))
            for j in range(carries)]


def _stacked(aval, length):
    return Aval((length,) + tuple(aval.shape), aval.dtype)


def _scan_pullback_body(body, carries, xs, wanted, parent):
    """The reverse scan's body: carries (cotangents of the differentiable carries, sums of the
    captured values' cotangents), xs (saved carries, xs, cotangents of the ys in ``wanted.y``),
    captured values; outputs: new carries, then the cotangents of the differentiable xs."""
    graph = subgraph(f"grad_{body.name}", parent)
    avals = [aval_of(body, n) for n in body.inputs]
    plain = [Aval(a.shape, a.dtype) for a in avals]
    gc = new_inputs(graph, [plain[j] for j in wanted.carry])
    gk = new_inputs(graph, [plain[carries + xs + e] for e in wanted.captured])
    c = new_inputs(graph, avals[:carries])
    x = new_inputs(graph, avals[carries:carries + xs])
    gy = new_inputs(graph, [aval_of(body, body.outputs[carries + l]) for l in wanted.y])
    k = new_inputs(graph, avals[carries + xs:])
    outputs = inline(graph, body, c + x + k)
    seeds = {}
    for j, g in zip(wanted.carry, gc):
        _seed(seeds, outputs[j], g)
    for l, g in zip(wanted.y, gy):
        _seed(seeds, outputs[carries + l], g)
    wrt = [c[j] for j in wanted.carry] + [x[i] for i in wanted.xs] + [k[e] for e in wanted.captured]
    cotangents = reverse_mode.backward(graph, seeds, [w.node for w in wrt]) if seeds else [
        zeros_like(w) for w in wrt]
    nd, nx = len(wanted.carry), len(wanted.xs)
    new_gk = [a + b for a, b in zip(gk, cotangents[nd + nx:])]
    graph.outputs = [t.node for t in cotangents[:nd] + new_gk + cotangents[nd:nd + nx]]
    graph.closed = True
    return graph


class _Wanted:
    """Which carries, xs, ys (with a cotangent) and captured values a scan's pullback covers."""

    def __init__(self, g, operands, body, carries, xs):
        self.carry = [j for j in range(carries) if _differentiable(operands[j].aval)]
        self.xs = [i for i in range(xs) if _differentiable(operands[carries + i].aval)]
        self.captured = [e for e in range(len(operands) - carries - xs)
                         if _differentiable(operands[carries + xs + e].aval)]
        self.y = [l for l in range(len(body.outputs) - carries)
                  if carries + l in g and _differentiable(aval_of(body, body.outputs[carries + l]))]


def _scan_vjp(g, out, *operands, body, length, reverse, carries, xs, saved=None):
    graph = out.graph
    wanted = _Wanted(g, operands, body, carries, xs)
    stacked = _saved_carries(graph, out.node, carries, length)
    pullback = _scan_pullback_body(body, carries, xs, wanted, graph)
    captured = list(operands[carries + xs:])
    init = ([g[j] if j in g else zeros_like(operands[j]) for j in wanted.carry]
            + [zeros_like(captured[e]) for e in wanted.captured])
    sequences = stacked + list(operands[carries:carries + xs]) + [g[carries + l] for l in wanted.y]
    avals = ([Aval(operands[j].shape, operands[j].dtype) for j in wanted.carry]
             + [Aval(captured[e].shape, captured[e].dtype) for e in wanted.captured]
             + [Aval(operands[carries + i].shape, operands[carries + i].dtype) for i in wanted.xs])
    pulled = bind_control("scan", init + sequences + captured, avals, {
        "body": pullback, "length": length, "reverse": not reverse,
        "carries": len(wanted.carry) + len(wanted.captured), "xs": len(sequences)}, graph)
    cotangents = [None] * len(operands)
    positions = (wanted.carry + [carries + xs + e for e in wanted.captured]
                 + [carries + i for i in wanted.xs])
    for position, cotangent in zip(positions, pulled):
        cotangents[position] = cotangent
    return cotangents


def _masked_scan_body(cond, body, carries, parent):
    """``(carry, active) -> (where(still, body(carry), carry), still)``, ``still`` being
    ``active and cond(carry)``: a while loop's body as one of a scan of bounded length."""
    graph = subgraph(f"bounded_{body.name}", parent)
    avals = [aval_of(body, n) for n in body.inputs]
    c = new_inputs(graph, avals[:carries])
    active = new_inputs(graph, [Aval((), np.dtype(bool))])[0]
    k = new_inputs(graph, avals[carries:])
    still = logical_and(active, inline(graph, cond, c + k)[0])
    stepped = inline(graph, body, c + k)
    graph.outputs = [where(still, new, old).node for new, old in zip(stepped, c)] + [still.node]
    graph.closed = True
    return graph


def _while_vjp(g, out, *operands, cond, body, carries, max_trips=None):
    graph = out.graph
    if max_trips is None and transposing():       # forward mode needs no bound
        return control_forward.tangent_placeholders(g, operands, cond, body, carries)
    if max_trips is None:
        raise TracingError(
            "reverse-mode differentiation of sg.while_loop needs a bound on its trip count: "
            "pass max_trips=N (the loop then runs at most N iterations), or use sg.fori_loop "
            "or sg.scan with a static length (forward mode, sg.jvp and sg.jacfwd, is derived from "
            "reverse mode and needs the bound too)" + describe_location(graph[out.node].get("source")))
    masked = _masked_scan_body(cond, body, carries, graph)
    init, captured = list(operands[:carries]), list(operands[carries:])
    avals = [Aval(o.shape, o.dtype) for o in init] + [Aval((), np.dtype(bool))]
    bounded = bind_control("scan", init + [constant(graph, True)] + captured, avals, {
        "body": masked, "length": max_trips, "reverse": False, "carries": carries + 1,
        "xs": 0}, graph)
    node = graph.operands(bounded[0].node)[0]
    cotangents = _scan_vjp(g, Tracer(graph, node), *[Tracer(graph, o) for o in graph.operands(node)],
                           **graph[node]["params"])
    return cotangents[:carries] + cotangents[carries + 1:]


def _branch_pullback(branch, wanted_outputs, wanted_operands, parent):
    """A switch branch's pullback: (operands, cotangents of ``wanted_outputs``) -> the
    cotangents of the ``wanted_operands``."""
    graph = subgraph(f"grad_{branch.name}", parent)
    operands = new_inputs(graph, [aval_of(branch, n) for n in branch.inputs])
    gs = new_inputs(graph, [Aval(branch[branch.outputs[r]]["shape"], np.dtype(branch[branch.outputs[r]]["dtype"]))
                         for r in wanted_outputs])
    outputs = inline(graph, branch, operands)
    seeds = {}
    for r, g in zip(wanted_outputs, gs):
        _seed(seeds, outputs[r], g)
    wrt = [operands[p] for p in wanted_operands]
    cotangents = reverse_mode.backward(graph, seeds, [w.node for w in wrt]) if seeds else [
        zeros_like(w) for w in wrt]
    graph.outputs = [t.node for t in cotangents]
    graph.closed = True
    return graph


def _switch_vjp(g, out, index, *operands, branches):
    graph = out.graph
    first = branches[0]
    wanted_outputs = [r for r in range(len(first.outputs))
                      if r in g and _differentiable(aval_of(first, first.outputs[r]))]
    wanted_operands = [p for p, o in enumerate(operands) if _differentiable(o.aval)]
    pullbacks = tuple(_branch_pullback(b, wanted_outputs, wanted_operands, graph) for b in branches)
    pulled = bind_control("switch", [index, *operands, *(g[r] for r in wanted_outputs)],
                          [Aval(operands[p].shape, operands[p].dtype) for p in wanted_operands],
                          {"branches": pullbacks}, graph)
    cotangents = [None] * (1 + len(operands))
    for p, cotangent in zip(wanted_operands, pulled):
        cotangents[1 + p] = cotangent
    return cotangents


def _tuple_rule(*avals, **params):
    return (), np.dtype("float64")


declare("scan", _tuple_rule, scan_reference, [_scan_vjp], family="control",
        params=("body", "length", "reverse", "carries", "xs", "saved"), multiple_results=True,
        batch=control_batching.scan_rule)
declare("while", _tuple_rule, while_reference, [_while_vjp], family="control",
        params=("cond", "body", "carries", "max_trips"), multiple_results=True,
        batch=control_batching.while_rule)
declare("switch", _tuple_rule, switch_reference, [_switch_vjp], family="control",
        params=("branches",), multiple_results=True,
        batch=control_batching.switch_rule)
declare("result", lambda packed, index: None, pick_result,
        [lambda g, out, packed, index: {index: g}], family="control", params=("index",),
        batch=control_batching.result_rule)
