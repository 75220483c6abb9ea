"""Forward mode by transposing reverse mode (the "linear transpose trick" of
symgrad.forward_mode), in the core so that the control-flow ops can use it on their bodies.

The pullback ``u -> J^T u`` of some outputs is traced at a fixed cotangent ``u``; reverse
mode through it, seeded with tangents ``t`` at its results, gives ``J t``. While a pullback
that is to be transposed is traced (:func:`for_transposition`), an op without a pullback of
its own but with a forward-mode one (a while loop of unbounded trip count:
symgrad.core.ops.control_forward) may give a placeholder whose cotangent rule is that
forward-mode derivative.

>>> import numpy as np
>>> from symgrad.core.graph import Graph
>>> from symgrad.core.tracing import Tracer, constant
>>> graph = Graph()
>>> x = Tracer(graph, graph.add_input((2,), "float64"))
>>> tangent = pushed_tangents([np.sin(x)], [x], [constant(graph, np.ones(2))])[0]
>>> graph[tangent.node]["op"]
'mul'
"""
import contextlib

import numpy as np

from symgrad.core.reverse_mode import backward
from symgrad.core.tracing import bind, constant

_transposing = []


@contextlib.contextmanager
def for_transposition():
    """Mark the pullbacks traced inside as ones forward mode transposes."""
    _transposing.append(True)
    try:
        yield
    finally:
        _transposing.pop()


def transposing():
    """Whether the pullback being traced is one that forward mode will transpose."""
    return bool(_transposing)


def linearization_point(leaf):
    """The cotangent the pullback is traced at: fixed values away from 0, not 0 (the
    pullback is linear, so any point gives the same transpose), since a rule may treat a
    zero cotangent apart (eigh's and svd's give 0 instead of 0/0 between equal eigenvalues)
    and would transpose to 0 there."""
    return np.random.default_rng(0).uniform(0.5, 1.5, leaf.shape).astype(leaf.dtype)


def accumulated(seeds, tracer, value):
    """``seeds`` with ``value`` added at ``tracer``'s node."""
    node = tracer.node
    seeds[node] = seeds[node] + value if node in seeds else value
    return seeds


def pushed_tangents(outputs, inputs, tangents, since=0):
    """``J t``: the tangents of ``outputs`` (float tracers of one graph, computed from the
    float tracers ``inputs`` by the nodes made from ``since`` on) along ``tangents`` (one
    per input)."""
    graph = inputs[0].graph
    pullback_start = graph._next_id
    us = [bind("identity", constant(graph, linearization_point(out))) for out in outputs]
    seeds = {}
    for out, u in zip(outputs, us):
        accumulated(seeds, out, u)
    with for_transposition():
        cotangents = backward(graph, seeds, [x.node for x in inputs], since)
    pushes = {}
    for cotangent, tangent in zip(cotangents, tangents):
        accumulated(pushes, cotangent, tangent.astype(cotangent.dtype))
    return backward(graph, pushes, [u.node for u in us], pullback_start)

