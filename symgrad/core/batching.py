"""The batching transform behind ``vmap``: a function traced on one example, rewritten into
nodes that compute every example at once.

:func:`batched_call` runs the function on stand-ins of one example's shape, in the graph
being traced, then walks the nodes it made in order and replaces each node that depends on
a stand-in by its op's batching rule (``Op.batch``, symgrad.core.ops.batch_rules) applied to
the batched operands. Nodes that depend on no stand-in (on values the function closes over,
on constants) stay as they are, computed once for all examples. The per-example nodes are
then removed, so the graph holds only the batched computation: it is differentiable, and
``vmap`` of a ``grad`` is one graph of batched gradient ops (no loop at run time). Every
node a rule makes keeps its example's source line and is tagged ``batched`` (the batch
sizes, outermost first), for listings and pictures.

>>> import numpy as np, symgrad as sg
>>> print(sg.trace(sg.vmap(lambda row: np.exp(row).sum()), np.ones((4, 3))))
... # doctest: +NORMALIZE_WHITESPACE
{ lambda row:f64[4,3] .
  let %5:f64[4,3] = exp row
      %6:f64[4] = sum axes=(1,) keepdims=False %5
  in (%6) }
"""
import numpy as np

import symgrad.core.pytree as pytree
from symgrad.core.errors import TracingError
from symgrad.core.ops.batch_rules import elementwise as elementwise_rule
from symgrad.core.ops.registry import OPS
from symgrad.core.tracing import Tracer, bind, constant, node_scope

CARRIED = ("source", "module")      # attributes a batched node keeps from its example
ORIGINS = ("grad_of", "tangent_of")  # tags that name another node (its batched value then)


def rule_of(op):
    """The op's batching rule: its own, else the elementwise one for ops with a scalar template."""
    if op.batch is not None:
        return op.batch
    if op.elementwise:
        return elementwise_rule
    raise TracingError(f"op {op.name!r} has no batching rule: it cannot be used under vmap")


def stand_in(graph, x, dim):
    """A node of one example's shape and dtype, for the function to be traced on."""
    shape = x.shape[:dim] + x.shape[dim + 1:]
    zero = constant(graph, np.zeros((), x.dtype))
    return Tracer(graph, bind("broadcast_to", zero, shape=shape).node)


def batched_call(fn, args, dims, size):
    """``fn`` applied to every example of ``args`` (tracers of one graph, batched along
    ``dims``; None for an argument shared by all examples): ``(out tree, [(tracer, dim)])``
    for the output leaves (dim None where a leaf is the same for every example)."""
    graph = next(x for x, d in zip(args, dims) if d is not None).graph
    start = graph._next_id
    examples = [x if d is None else stand_in(graph, x, d) for x, d in zip(args, dims)]
    env = {e.node: (x, d) for e, x, d in zip(examples, args, dims) if d is not None}
    first = graph._next_id
    leaves, tree = pytree.flatten(fn(*examples))
    end = graph._next_id
    dependent = set(range(start, first)) | depending(graph, range(first, end), set(env))
    wanted = [leaf.node for leaf in leaves if isinstance(leaf, Tracer) and leaf.graph is graph]
    for node in sorted(dependent & graph.ancestors(wanted)):
        if node >= first and node not in env:
            env[node] = batched_node(graph, node, env, dependent, size)
    results = [env.get(leaf.node, (leaf, None)) if isinstance(leaf, Tracer) else (leaf, None)
               for leaf in leaves]
    for node in range(first, end):       # kept nodes whose origin is an example's node
        if node in graph and node not in dependent:
            graph[node].update(origins(graph[node], env, dependent))
    graph.nx.remove_nodes_from(dependent)
    return tree, results


def depending(graph, nodes, sources):
    """The nodes among ``nodes`` (in creation order) computed from ``sources``."""
    found = set(sources)
    for node in nodes:
        if node in graph and any(o in found for o in graph.operands(node)):
            found.add(node)
    return found


def origins(attrs, env, dependent):
    """``grad_of``/``tangent_of`` of a node, pointing at batched values instead of the
    example's nodes (dropped where that node had no batched value: it was dead)."""
    tags = {}
    for tag in ORIGINS:
        origin = attrs.get(tag)
        if origin in env:
            tags[tag] = node_of(env[origin][0])
        elif origin is not None and origin not in dependent:
            tags[tag] = origin
    for tag in ORIGINS:
        attrs.pop(tag, None)
    return tags


def node_of(batched):
    """The node of a batched value; of a control-flow node's results, that node's."""
    if not isinstance(batched, list):
        return batched.node
    first = batched[0]
    operands = first.graph.operands(first.node)
    return operands[0] if first.graph.op(first.node) == "result" else first.node


def batched_node(graph, node, env, dependent, size):
    """The batched value of ``node`` (an op applied to one example) and its batch axis."""
    attrs = graph[node]
    op = OPS[attrs["op"]]
    pairs = [env.get(o, (Tracer(graph, o), None)) for o in graph.operands(node)]
    carried = {k: attrs[k] for k in CARRIED if attrs.get(k)}
    carried.update(origins(dict(attrs), env, dependent))
    with node_scope(**carried, batched=(size, *attrs.get("batched", ()))):
        out, dim = rule_of(op)(op.name, [x for x, _ in pairs], [d for _, d in pairs],
                               **attrs["params"])
    if op.multiple_results:     # a control-flow node: its result nodes' rule picks (and checks)
        return out, dim
    expected = attrs["shape"] if dim is None else attrs["shape"][:dim] + (size,) + attrs["shape"][dim:]
    if out.shape != expected or out.dtype != np.dtype(attrs["dtype"]):
        raise AssertionError(f"the batching rule of {op.name} gave {out.dtype.name}"
                             f"{list(out.shape)} with the batch at {dim}; expected "
                             f"{attrs['dtype']}{list(expected)}")
    return out, dim
