"""Forward mode through ``sg.while_loop`` without ``max_trips``.

Forward mode transposes pullbacks (symgrad.core.transposition), and a while loop of
unbounded trip count has no pullback: its carries would have to be stored for a number of
trips known only at run time. Its tangents, though, are one more while loop, carrying the
tangents of the carries beside them (its body is the body's JVP), as JAX's forward mode
does. So while a pullback to be transposed is traced, the loop's VJP gives for each
differentiable operand a ``custom_vjp`` node (symgrad.core.ops.custom) whose value is a
placeholder (zeros, dead once transposed: dead-code elimination drops it) and whose
cotangent rule, which transposition runs, is that tangent loop (:class:`WhileTangent`).

>>> import numpy as np, symgrad as sg
>>> f = lambda x: sg.while_loop(lambda c: c < 10.0, lambda c: c * x, 1.0)
>>> sg.jvp(f, (2.0,), (1.0,), backend="reference")
(array(16.), array(32.))
"""
from dataclasses import dataclass, field

from symgrad.core.ops.control_nodes import bind_control
from symgrad.core.ops.registry import Aval
from symgrad.core.ops.shape import zeros_like
from symgrad.core.reverse_mode import is_differentiable
from symgrad.core.subgraph import aval_of, inline, new_inputs, subgraph
from symgrad.core.tracing import bind
from symgrad.core.transposition import pushed_tangents


def _tangent_graph(graph_in, carries, differentiable, parent, with_tangents):
    """``graph_in`` (a while's body or cond: inputs carries, captured) on inputs (carries,
    their tangents, captured, their tangents); a body also returns its carries' tangents."""
    graph = subgraph(f"jvp_{graph_in.name}", parent)
    avals = [Aval(a.shape, a.dtype) for a in (aval_of(graph_in, n) for n in graph_in.inputs)]
    c = new_inputs(graph, avals[:carries])
    tc = new_inputs(graph, [avals[i] for i in differentiable if i < carries])
    k = new_inputs(graph, avals[carries:])
    tk = new_inputs(graph, [avals[i] for i in differentiable if i >= carries])
    x = c + k
    outs = inline(graph, graph_in, x)
    if with_tangents:
        outs = outs + pushed_tangents([outs[j] for j in differentiable if j < carries],
                                      [x[i] for i in differentiable], tc + tk)
    graph.outputs = [t.node for t in outs]
    graph.closed = True
    return graph


def tangent_loop(cond, body, carries, operands, tangents):
    """The tangents of a while loop's results (None where not differentiable) along
    ``tangents`` (one per operand: carries, then captured; None for zero)."""
    graph = operands[0].graph
    differentiable = [i for i, o in enumerate(operands) if is_differentiable(o.dtype)]
    float_carries = [i for i in differentiable if i < carries]
    if not float_carries:
        return [None] * carries
    t = {i: zeros_like(operands[i]) if tangents[i] is None else tangents[i] for i in differentiable}
    loop_operands = (list(operands[:carries]) + [t[i] for i in float_carries]
                     + list(operands[carries:]) + [t[i] for i in differentiable if i >= carries])
    found = bind_control("while", loop_operands,
                         [Aval(o.shape, o.dtype) for o in loop_operands[:carries + len(float_carries)]], {
                             "cond": _tangent_graph(cond, carries, differentiable, graph, False),
                             "body": _tangent_graph(body, carries, differentiable, graph, True),
                             "carries": carries + len(float_carries), "max_trips": None}, graph)
    pushed = dict(zip(float_carries, found[carries:]))
    return [pushed.get(j) for j in range(carries)]


@dataclass(frozen=True, eq=False)
class WhileTangent:
    """The transpose of a while loop's pullback to operand ``operand``: the cotangent rule
    of its placeholder (operands: the placeholder, the cotangents of ``results``, the loop's
    operands) gives, for the cotangent at ``results[i]``, that result's tangent along the
    placeholder's cotangent (the operand's tangent)."""
    cond: object
    body: object
    carries: int
    operand: int
    results: tuple
    pushed: dict = field(default_factory=dict, repr=False)     # one tangent loop per tangent

    def __call__(self, position, g, out, *operands):
        if not 1 <= position <= len(self.results):
            return None                   # no cotangent to the placeholder or the primals
        primal = list(operands[1 + len(self.results):])
        key = (g.node, tuple(o.node for o in primal))
        if key not in self.pushed:
            tangents = [g if i == self.operand else None for i in range(len(primal))]
            self.pushed[key] = tangent_loop(self.cond, self.body, self.carries, primal, tangents)
        tangent = self.pushed[key][self.results[position - 1]]
        return zeros_like(operands[position]) if tangent is None else tangent


def tangent_placeholders(g, operands, cond, body, carries):
    """The while loop's VJP for transposition: one placeholder per differentiable operand."""
    results = tuple(sorted(r for r in g if is_differentiable(operands[r].dtype)))
    cotangents = [g[r] for r in results]
    return [bind("custom_vjp", zeros_like(o), *cotangents, *operands,
                 rule=WhileTangent(cond, body, carries, j, results))
            if is_differentiable(o.dtype) else None for j, o in enumerate(operands)]
