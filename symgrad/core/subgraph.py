"""Sub-graphs: a function traced once into a Graph of its own (a loop's body, a branch of a
``cond``), which a control-flow node holds as a param (symgrad.core.ops.control).

Values of the enclosing traces that the function uses (closed-over tracers) become extra
inputs of the sub-graph, after its arguments; ``Body.captured`` lists the outer value each
one is fed from (symgrad.core.tracing.captured_into).

>>> import numpy as np
>>> from symgrad.core.ops.registry import Aval
>>> body = trace_body(lambda x: np.sin(x) * 2.0, [Aval((3,), np.dtype("float64"))], None)
>>> [body.graph.op(n) for n in body.graph.topological_order()]
['input', 'sin', 'constant', 'mul']
"""
from dataclasses import dataclass

import numpy as np

import symgrad.core.pytree as pytree
from symgrad.core.graph import Graph
from symgrad.core.ops.registry import Aval
from symgrad.core.trace_function import flatten_outputs
from symgrad.core.tracing import (Tracer, bind, captured_into, constant, depth, error_here,
                                  tracing_into)


@dataclass
class Body:
    """A traced function: its graph (inputs: the argument leaves, then the captures), the
    outer tracers its captures are fed from, and its output's pytree structure."""
    graph: Graph
    captured: list
    out_tree: object

    @property
    def out_avals(self):
        return [aval_of(self.graph, node) for node in self.graph.outputs]


def aval_of(graph, node):
    attrs = graph[node]
    return Aval(attrs["shape"], np.dtype(attrs["dtype"]), attrs.get("weak", False))


def subgraph(name, parent):
    """An empty Graph traced inside ``parent`` (None outside of any trace)."""
    graph = Graph(name)
    graph.parent = parent
    graph.depth = depth(parent) + 1 if parent is not None else 0
    graph.captures, graph.captured = {}, []
    return graph


def new_inputs(graph, avals):
    """Tracers of new inputs of ``graph``, one per aval."""
    return [Tracer(graph, graph.add_input(a.shape, a.dtype)) for a in avals]


def trace_body(fun, avals, treedef, parent=None, name=None, expect=()):
    """``fun`` traced on arguments of ``avals`` (leaves of ``treedef``; None: one argument per
    aval) into a sub-graph of ``parent``. A weak output (a Python number, or arithmetic of
    only such) whose ``expect`` aval differs in dtype alone is cast to it, as JAX's weak
    types are."""
    graph = subgraph(name or getattr(fun, "__name__", "body"), parent)
    tracers = [Tracer(graph, graph.add_input(a.shape, a.dtype, name=f"arg{i}", weak=a.weak))
               for i, a in enumerate(avals)]
    with tracing_into(graph):
        out = fun(*tracers) if treedef is None else fun(*pytree.unflatten(treedef, tracers))
        leaves, out_tree = flatten_outputs(out)
        outputs = [_output_leaf(graph, leaf, expected)
                   for leaf, expected in zip(leaves, [*expect, *[None] * len(leaves)])]
    graph.outputs = [t.node for t in outputs]
    return Body(graph, list(graph.captured), out_tree)


def _output_leaf(graph, leaf, expected):
    if not isinstance(leaf, Tracer):
        value = np.asarray(leaf)
        if expected is not None and value.shape == expected.shape and np.can_cast(
                value.dtype, expected.dtype, "same_kind") and np.ndim(leaf) == 0:
            value = value.astype(expected.dtype)
        tracer = constant(graph, value)
        if isinstance(leaf, (bool, int, float)) and not isinstance(leaf, np.generic):
            graph[tracer.node]["weak"] = True      # a Python number: weak, as in JAX
        return tracer
    lifted = captured_into(graph, leaf)
    if lifted is None:
        raise error_here(f"the function returned {leaf!r}, a traced value of another trace; "
                         "pass it in as an argument instead")
    if (expected is not None and lifted.aval.weak and lifted.shape == expected.shape
            and lifted.dtype != expected.dtype
            and np.can_cast(lifted.dtype, expected.dtype, "same_kind")):
        return bind("cast", lifted, dtype=expected.dtype.name)
    return lifted


def inline(graph, body, inputs):
    """Copy the nodes of the Graph ``body`` into ``graph``, its inputs fed by the tracers
    ``inputs``; returns tracers of its outputs."""
    mapping = {node: tracer.node for node, tracer in zip(body.inputs, inputs)}
    for node in body.topological_order():
        if node in mapping:
            continue
        attrs = {k: v for k, v in body[node].items() if k not in ("grad_of", "tangent_of")}
        op, shape, dtype, params = (attrs.pop(k) for k in ("op", "shape", "dtype", "params"))
        mapping[node] = graph.add_node(op, [mapping[o] for o in body.operands(node)],
                                       shape, dtype, params, **attrs)
    return [Tracer(graph, mapping[node]) for node in body.outputs]


def with_captures(body, captured, parent):
    """``body``'s graph taking every value of ``captured`` (a superset of its own captures,
    by node) after its arguments, so that branches of one node share their inputs."""
    graph = subgraph(body.graph.name, parent)
    arguments = len(body.graph.inputs) - len(body.captured)
    inputs = [Tracer(graph, graph.add_input(a.shape, a.dtype, name=f"arg{i}", weak=a.weak))
              for i, a in enumerate(aval_of(body.graph, n) for n in body.graph.inputs[:arguments])]
    shared = {}
    for i, outer in enumerate(captured):
        shared[outer.node] = Tracer(graph, graph.add_input(outer.shape, outer.dtype,
                                                           name=f"captured{i}"))
    own = [shared[outer.node] for outer in body.captured]
    graph.outputs = [t.node for t in inline(graph, body.graph, inputs + own)]
    graph.closed = True
    return graph


def union_of_captures(bodies):
    """The captured values of all ``bodies``, each once, in order of first use."""
    seen = {}
    for body in bodies:
        for outer in body.captured:
            seen.setdefault(outer.node, outer)
    return list(seen.values())
