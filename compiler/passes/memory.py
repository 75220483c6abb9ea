"""Buffer planning for loops: which updated values may be written over their old buffer.

A training step's new parameter ``p' = p - lr * g`` can be computed straight into ``p``'s
buffer when the loop nest that computes it reads ``p`` only at the element it writes, and
every other reader of ``p`` (directly or through views such as ``p.T``) has run before it.
"""
import symgrad.core.ops  # noqa: F401  (every op declared before the view set is read)
from symgrad.core.ops.registry import view_ops

VIEW_OPS = view_ops()   # their output may live in their first operand's buffer


def emission_positions(graph, plan):
    """Node -> the index in the emitted order at which its value is computed."""
    order = graph.topological_order()
    position = {node: i for i, node in enumerate(order)}
    for node in order:
        nest = plan.nest_of.get(node)
        if nest is not None:
            position[node] = position[nest.root]
    return position


def memory_source(graph, node):
    """The node whose buffer ``node``'s value lives in (itself, unless it is a view)."""
    while graph.op(node) in VIEW_OPS:
        node = graph.operands(node)[0]
    return node


def readers(graph, node):
    """Nodes that read ``node``'s memory: its users, and the users of views of it."""
    found = set()
    for user in graph.users(node):
        if graph.op(user) in VIEW_OPS:
            found |= readers(graph, user) | {user}
        else:
            found.add(user)
    return found


def plan_in_place(graph, plan, carried):
    """``{output node: input node}`` for the (input, output) pairs of ``carried`` whose
    output may overwrite the input's buffer."""
    position = emission_positions(graph, plan)
    in_place = {}
    for source, result in carried:
        if (result == source or result in in_place or graph[result]["shape"] == ()
                or graph[result]["shape"] != graph[source]["shape"]
                or graph[result]["dtype"] != graph[source]["dtype"]):
            continue
        nest = plan.nest_of.get(result)
        if nest is None:
            # another kind of op (a matmul's gradient) may overwrite state nobody reads
            if graph.op(result) == "matmul" and not readers(graph, source):
                in_place[result] = source
            continue
        if nest.reduction is not None or nest.shape != graph[source]["shape"]:
            continue
        # members read ``source`` at the element they write, unless through a view
        through_views = set()
        for user in graph.users(source):
            if graph.op(user) in VIEW_OPS:
                through_views |= readers(graph, user)
        others = readers(graph, source) - (set(nest.members) - through_views)
        if all(position[reader] < position[result] for reader in others):
            in_place[result] = source
    return in_place
