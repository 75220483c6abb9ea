"""Batching rules (``vmap``) of the control-flow nodes: the body graph is batched in turn.

A control-flow node has several results, so its rule returns ``([tracers], [dims])`` (one
per result) and the ``result`` nodes pick from them (:func:`result_rule`). As in JAX:

* ``scan``: a carry is batched where its initial value or the body's new value is (found
  by batching the body until the carries' batchedness stops growing); batched xs are
  scanned along their leading axis with the batch axis second; batched ys come out with
  the batch axis second (after the stacked axis);
* ``while``: as ``scan`` for the carries; where ``cond`` is batched, every carry is, the
  loop runs while ANY example's ``cond`` holds and an example whose ``cond`` fails keeps its
  carry (a ``where`` in the body), so each example stops at its own trip count;
* ``switch``: a shared index runs one branch, each batched; a batched index runs every
  branch and selects each example's result (``where``), as ``jax.lax.cond`` does.

>>> import numpy as np, symgrad as sg
>>> sg.vmap(lambda x: sg.fori_loop(0, 3, lambda i, c: c * x, 1.0), backend="reference")(
...     np.array([1.0, 2.0]))
array([1., 8.])
"""
import numpy as np

from symgrad.core.batching import batched_call
from symgrad.core.ops.batch_rules import at_front, moved, size_of
from symgrad.core.ops.control_nodes import bind_control
from symgrad.core.ops.elementwise import clip, equal, where
from symgrad.core.ops.registry import Aval
from symgrad.core.ops.statistics import any as any_of
from symgrad.core.subgraph import aval_of, inline, subgraph
from symgrad.core.tracing import Tracer, bind, constant


def batched_values(graph, fn, inputs, dims, size, forced):
    """``fn`` (tracers of ``graph`` -> list of tracers) applied to every example of ``inputs``
    (batched at ``dims``): the outputs with their batch axis first (broadcast where
    ``forced[i]`` though shared) or shared (None), and those dims."""
    if all(d is None for d in dims):
        pairs = [(out, None) for out in fn(*inputs)]
    else:
        pairs = batched_call(lambda *e: fn(*e), inputs, dims, size)[1]
    outs = [at_front(out, d, size) if d is not None or must else out
            for (out, d), must in zip(pairs, forced)]
    return outs, [0 if d is not None or must else None for (_, d), must in zip(pairs, forced)]


def batched_body(body, dims, size, parent, forced, wrap=None):
    """The Graph ``body`` with the inputs at ``dims`` (0 or None) batched along a new leading
    axis of ``size``: ``(graph, output dims)``; ``wrap(inputs, outputs)`` may rewrite the
    outputs (the masked while body)."""
    graph = subgraph(f"batched_{body.name}", parent)
    inputs = []
    for node, d in zip(body.inputs, dims):
        a = aval_of(body, node)
        shape = a.shape if d is None else (size,) + tuple(a.shape)
        inputs.append(Tracer(graph, graph.add_input(shape, a.dtype, weak=a.weak)))
    outs, out_dims = batched_values(graph, lambda *e: inline(graph, body, list(e)), inputs, dims,
                                    size, forced)
    if wrap is not None:
        outs = wrap(inputs, outs)
    graph.outputs = [t.node for t in outs]
    graph.closed = True
    return graph, out_dims


def carried_fixpoint(batch, batched, extra):
    """The carries' batchedness: ``batched`` (initial values) grown by what ``batch(dims)``'s
    carry outputs make batched, until it stops changing; returns ``(batched, batch result)``."""
    while True:
        graph, out_dims = batch([0 if b else None for b in batched] + extra, batched)
        grown = [b or out_dims[j] is not None for j, b in enumerate(batched)]
        if grown == batched:
            return batched, graph, out_dims
        batched = grown


def unbatched(name, operands, params, graph, avals):
    """The node again, as it is (no operand batched after all)."""
    return bind_control(name, operands, avals, params, graph), [None] * len(avals)


def scan_rule(name, operands, dims, *, body, length, reverse, carries, xs, saved=None):
    """Batch a ``scan``: carries at axis 0, xs and ys with the batch axis second."""
    graph = operands[0].graph
    params = {"length": length, "reverse": reverse, "carries": carries, "xs": xs, "saved": saved}
    if all(d is None for d in dims):
        avals = [aval_of(body, n) for n in body.outputs[:carries]] + [
            Aval((length,) + tuple(aval_of(body, n).shape), aval_of(body, n).dtype)
            for n in body.outputs[carries:]]
        return unbatched(name, operands, {**params, "body": body}, graph, avals)
    size = size_of(operands, dims)
    rest = [None if d is None else 0 for d in dims[carries:]]
    ys = len(body.outputs) - carries

    def batch(in_dims, batched):
        return batched_body(body, in_dims, size, graph, batched + [False] * ys)
    batched, new_body, out_dims = carried_fixpoint(batch, [d is not None for d in dims[:carries]],
                                                   rest)
    lined = ([at_front(x, d, size) if b else x for x, d, b in zip(operands, dims, batched)]
             + [x if d is None else moved(x, d, 1 if i < xs else 0)
                for i, (x, d) in enumerate(zip(operands[carries:], dims[carries:]))])
    avals = [aval_of(new_body, n) for n in new_body.outputs]
    avals = avals[:carries] + [Aval((length,) + tuple(a.shape), a.dtype) for a in avals[carries:]]
    found = bind_control(name, lined, [Aval(a.shape, a.dtype) for a in avals],
                         {**params, "body": new_body}, graph)
    return found, out_dims[:carries] + [None if d is None else 1 for d in out_dims[carries:]]


def _predicate_batched(cond, in_dims, size, parent):
    return batched_body(cond, in_dims, size, parent, [False])[1][0] is not None


def while_rule(name, operands, dims, *, cond, body, carries, max_trips=None):
    """Batch a ``while``; a batched ``cond`` runs until every example is done, masking the
    carries of the examples that are."""
    graph = operands[0].graph
    avals = [aval_of(body, n) for n in body.outputs]
    params = {"carries": carries, "max_trips": max_trips}
    if all(d is None for d in dims):
        return unbatched(name, operands, {**params, "cond": cond, "body": body}, graph, avals)
    size = size_of(operands, dims)
    rest = [None if d is None else 0 for d in dims[carries:]]

    def batch(in_dims, batched):
        return batched_body(body, in_dims, size, graph, batched)
    batched, new_body, _ = carried_fixpoint(batch, [d is not None for d in dims[:carries]], rest)
    in_dims = [0 if b else None for b in batched] + rest
    if _predicate_batched(cond, in_dims, size, graph):
        batched = [True] * carries
        in_dims = [0] * carries + rest
        new_cond, _ = batched_body(cond, in_dims, size, graph, [True],
                                   wrap=lambda inputs, outs: [any_of(outs[0])])
        new_body, _ = batched_body(body, in_dims, size, graph, batched,
                                   wrap=lambda inputs, outs: _masked(cond, in_dims, inputs, outs, size))
    else:
        new_cond, _ = batched_body(cond, in_dims, size, graph, [False])
    lined = ([at_front(x, d, size) if b else x for x, d, b in zip(operands, dims, batched)]
             + [x if d is None else moved(x, d) for x, d in zip(operands[carries:], dims[carries:])])
    found = bind_control(name, lined, [aval_of(new_body, n) for n in new_body.outputs],
                         {**params, "cond": new_cond, "body": new_body}, graph)
    return found, [0 if b else None for b in batched]


def _masked(cond, in_dims, inputs, outs, size):
    """The body's new carries where the example's own ``cond`` holds, the old ones elsewhere."""
    graph = inputs[0].graph
    still = batched_values(graph, lambda *e: inline(graph, cond, list(e)), inputs, in_dims,
                           size, [True])[0][0]
    return [where(_lined_up(still, new.ndim), new, old) for new, old in zip(outs, inputs)]


def _lined_up(mask, rank):
    """A (batch,) mask that broadcasts against arrays of ``rank`` with the batch axis first."""
    return bind("reshape", mask, shape=mask.shape + (1,) * (rank - 1)) if rank > 1 else mask


def switch_rule(name, operands, dims, *, branches):
    """Batch a ``switch``: each branch batched under a shared index; every branch run and
    their results selected per example under a batched one."""
    graph = operands[0].graph
    first = branches[0]
    if all(d is None for d in dims):
        return unbatched(name, operands, {"branches": branches}, graph,
                         [aval_of(first, n) for n in first.outputs])
    size = size_of(operands, dims)
    in_dims = [None if d is None else 0 for d in dims[1:]]
    lined = [x if d is None else moved(x, d) for x, d in zip(operands[1:], dims[1:])]
    if dims[0] is not None:
        return _selected(graph, moved(operands[0], dims[0]), branches, lined, in_dims, size)
    forced = [False] * len(first.outputs)
    for branch in branches:
        out_dims = batched_body(branch, in_dims, size, graph, forced)[1]
        forced = [f or d is not None for f, d in zip(forced, out_dims)]
    new = tuple(batched_body(b, in_dims, size, graph, forced)[0] for b in branches)
    found = bind_control(name, [operands[0], *lined], [aval_of(new[0], n) for n in new[0].outputs],
                         {"branches": new}, graph)
    return found, [0 if f else None for f in forced]


def _selected(graph, index, branches, operands, in_dims, size):
    """Every branch on every example, each example's result taken from its own branch."""
    index = clip(index, np.asarray(0, index.dtype), np.asarray(len(branches) - 1, index.dtype))
    forced = [True] * len(branches[0].outputs)
    results = [batched_values(graph, lambda *e, b=b: inline(graph, b, list(e)), operands,
                              in_dims, size, forced)[0] for b in branches]
    chosen = results[0]
    for k, outs in enumerate(results[1:], 1):
        pick = equal(index, constant(graph, np.asarray(k, index.dtype)))
        chosen = [where(_lined_up(pick, out.ndim), out, old) for out, old in zip(outs, chosen)]
    return chosen, [0] * len(chosen)


def result_rule(name, operands, dims, index):
    """A ``result`` node of a batched control-flow node: the rule made it already."""
    return operands[0][index], dims[0][index]
