"""Fusion: group elementwise nodes (and the reduction that consumes them) into loop nests.

A node joins the group of its users when it is elementwise, has the group's shape and all
its users are in that group, so its value never needs to be stored — unless it is a graph
output (a training step's new optimizer state), which the nest then also stores. A
reduction absorbs
the group that produces its operand when the reduction is that group's only user. Every
group is emitted as one loop nest at the position of its last node.
"""
from dataclasses import dataclass, field
from typing import Optional

from symgrad.core.ops.registry import OPS


@dataclass
class LoopNest:
    shape: tuple                     # the iteration space
    members: list = field(default_factory=list)   # elementwise nodes, topological order
    reduction: Optional[int] = None  # a reduction node fed by the last member (or its operand)
    stores: list = field(default_factory=list)    # members besides the root that are outputs

    @property
    def root(self):
        return self.reduction if self.reduction is not None else self.members[-1]


@dataclass
class FusionPlan:
    nests: list
    nest_of: dict                    # node -> LoopNest, for every fused node

    def emits_at(self, node):
        """The nest whose code goes at ``node``'s place in the order, if any."""
        nest = self.nest_of.get(node)
        return nest if nest is not None and nest.root == node else None


def fused_ops():
    """Names of the ops that only ever appear inside loop nests (backends lower them as one)."""
    return [name for name, op in OPS.items() if op.elementwise or op.family == "reduction"]


def is_elementwise(graph, node):
    return OPS[graph.op(node)].elementwise


def is_reduction(graph, node):
    return OPS[graph.op(node)].family == "reduction"


def plan_fusion(graph):
    nest_of = {}
    nests = []
    for node in reversed(graph.topological_order()):
        if is_reduction(graph, node):
            nest = LoopNest(graph[graph.operands(node)[0]]["shape"], reduction=node)
            nests.append(nest)
        elif is_elementwise(graph, node):
            nest = _joinable_nest(graph, node, nest_of)
            if nest is None:
                nest = LoopNest(graph[node]["shape"])
                nests.append(nest)
            elif node in graph.outputs:
                nest.stores.append(node)
            nest.members.append(node)
        else:
            continue
        nest_of[node] = nest
    for nest in nests:
        nest.members.reverse()
    nests.reverse()
    return FusionPlan(nests, nest_of)


def _joinable_nest(graph, node, nest_of):
    """The one nest all of ``node``'s users are in, if ``node`` may be computed inside it."""
    nests = {id(nest_of.get(user)): nest_of.get(user) for user in graph.users(node)}
    if len(nests) != 1:
        return None
    (nest,) = nests.values()
    if nest is None or nest.shape != graph[node]["shape"] or not _accepts(graph, nest, node):
        return None
    return nest


def _accepts(graph, nest, node):
    """A reduction nest takes only its direct operand's producer chain, and only once."""
    if nest.reduction is None:
        return True
    return bool(nest.members) or graph.operands(nest.reduction)[0] == node
