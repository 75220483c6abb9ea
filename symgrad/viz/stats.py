"""``summary``: node counts, FLOPs, bytes moved and peak memory, estimated from shapes.

The model is deliberately simple. FLOPs: a matmul costs ``2·M·N·K`` per batch element,
an elementwise op one per output element, a reduction one per input element; data movement
(reshape, transpose, slicing, broadcast, casts) costs none. Bytes moved: every op that
writes a buffer reads its operands and writes its result once; views move nothing. For a
compiled graph a fused loop nest is one unit: it reads what comes from outside the nest and
writes only its result. Peak memory: walk the topological order, allocate each buffer where
it is produced and free it after its last use (views keep their base alive); inputs and
constants stay resident, outputs live to the end.
"""
from typing import Any
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from symgrad.core.ops.registry import OPS, view_ops
import symgrad.viz.style as style
from symgrad.viz.target import resolve

# ops that move or name data without arithmetic: views, a broadcast (read in place by the
# nests that use it) and the identity of a differentiated input
VIEW_OPS = view_ops() - {"custom_vjp"} | {"broadcast_to", "identity"}
FREE_OPS = VIEW_OPS | {"cast", "input", "constant", "setitem", "concatenate"}


def size_of(attrs):
    return int(np.prod(attrs["shape"], dtype=np.int64))


def nbytes(attrs):
    return size_of(attrs) * np.dtype(attrs["dtype"]).itemsize


def matmul_flops(graph, node):
    """2·K multiply-adds per output element (covers 1-D, 2-D and batched operands)."""
    a = graph[graph.operands(node)[0]]
    return 2 * size_of(graph[node]) * a["shape"][-1]


FLOP_RULES = {"matmul": matmul_flops}
FAMILY_FLOPS = {
    "elementwise": lambda graph, node: size_of(graph[node]),
    "reduction": lambda graph, node: size_of(graph[graph.operands(node)[0]]),
}


def flops_of(graph, node):
    op = graph.op(node)
    if op in FREE_OPS:
        return 0
    rule = FLOP_RULES.get(op) or FAMILY_FLOPS.get(OPS[op].family)
    return rule(graph, node) if rule else 0


@dataclass
class Summary:
    name: str
    nodes: int
    op_counts: dict                  # op -> number of nodes, most frequent first
    kind_counts: dict                # forward / gradient / input / parameter / constant
    flops: int
    bytes_moved: int
    peak_bytes: int
    resident_bytes: int              # inputs and constants
    fused: bool = False
    per_node_flops: dict = field(default_factory=dict, repr=False)

    def as_dict(self):
        return {k: v for k, v in self.__dict__.items() if k != "per_node_flops"}

    def __str__(self):
        kinds = ", ".join(f"{n} {k}" for k, n in self.kind_counts.items())
        ops = ", ".join(f"{op} {n}" for op, n in self.op_counts.items())
        plan = " (fused loop nests as compiled)" if self.fused else " (op by op)"
        return (f"{self.name}: {self.nodes} nodes ({kinds})\n"
                f"  ops: {ops}\n"
                f"  FLOPs: {human(self.flops)}   bytes moved: {human(self.bytes_moved, 'B')}{plan}\n"
                f"  peak memory: {human(self.peak_bytes, 'B')} "
                f"(of which inputs and constants {human(self.resident_bytes, 'B')})")


def human(number, unit=""):
    for scale, prefix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if number >= scale:
            return f"{number / scale:.3g} {prefix}{unit}"
    return f"{number} {unit}".rstrip()


def units(graph, plan):
    """Groups that each read their outside operands and write their result once."""
    seen, groups = set(), []
    for node in graph.topological_order():
        nest = plan.nest_of.get(node) if plan is not None else None
        if nest is None:
            groups.append([node])
        elif id(nest) not in seen:
            seen.add(id(nest))
            reduction = [nest.reduction] if nest.reduction is not None else []
            groups.append(list(nest.members) + reduction)
    return groups


def buffers(graph, plan):
    """Nodes whose values are stored: not views, not values kept inside a fused loop."""
    fused_inside = set()
    if plan is not None:
        for nest in plan.nests:
            fused_inside |= set(nest.members) - {nest.root}
    return [n for n in graph.topological_order()
            if graph.op(n) not in VIEW_OPS and n not in fused_inside]


def bytes_moved(graph, plan):
    total = 0
    for group in units(graph, plan):
        if all(graph.op(n) in VIEW_OPS or graph.op(n) in ("input", "constant") for n in group):
            continue
        inside = set(group)
        outside = {o for n in group for o in graph.operands(n) if o not in inside}
        root = group[-1] if plan is None or len(group) == 1 else plan.nest_of[group[0]].root
        total += sum(nbytes(graph[o]) for o in outside) + nbytes(graph[root])
    return total


def base_of(graph, node):
    while graph.op(node) in VIEW_OPS:
        node = graph.operands(node)[0]
    return node


def peak_memory(graph, plan):
    """``(peak bytes, resident bytes)`` from a liveness walk over the topological order."""
    order = graph.topological_order()
    position = {n: i for i, n in enumerate(order)}
    last = len(order) - 1
    death = {}
    for node in order:
        for operand in graph.operands(node):
            base = base_of(graph, operand)
            death[base] = max(death.get(base, 0), position[node])
    for out in graph.outputs:
        death[base_of(graph, out)] = last
    change = [0] * (len(order) + 1)
    resident = 0
    for node in buffers(graph, plan):
        size = nbytes(graph[node])
        resident_node = graph.op(node) in ("input", "constant")
        birth = 0 if resident_node else position[node]
        end = last if resident_node else max(death.get(node, position[node]), position[node])
        resident += size if resident_node else 0
        change[birth] += size
        change[end + 1] -= size
    live = peak = 0
    for step in change[:-1]:
        live += step
        peak = max(peak, live)
    return peak, resident


def summary(graph: Any, *args: Any, fusion: bool | None = None) -> "Summary":
    """A :class:`Summary` of ``graph`` (a Graph, a compiled graph, or a function and args).

    >>> import numpy as np, symgrad as sg
    >>> stats = sg.viz.summary(sg.trace(lambda a, b: a @ b, np.ones((2, 3)), np.ones((3, 4))))
    >>> stats.flops, stats.op_counts
    (48, {'input': 2, 'matmul': 1})
    """
    graph, plan = resolve(graph, args, fusion)
    has_gradients = style.is_gradient_graph(graph)
    order = graph.topological_order()
    per_node = {n: flops_of(graph, n) for n in order}
    kinds = Counter(style.node_kind(graph, n, has_gradients) for n in order)
    peak, resident = peak_memory(graph, plan)
    return Summary(
        name=graph.name, nodes=len(graph),
        op_counts=dict(Counter(graph.op(n) for n in order).most_common()),
        kind_counts={k: kinds[k] for k in style.STYLES if kinds[k]},
        flops=sum(per_node.values()), bytes_moved=bytes_moved(graph, plan), peak_bytes=peak,
        resident_bytes=resident, fused=plan is not None, per_node_flops=per_node)
