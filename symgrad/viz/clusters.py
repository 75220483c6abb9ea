"""Groups of nodes drawn inside a labelled box: nn modules and fused loop nests.

A node with the attribute ``module`` (a dotted name such as ``"encoder.fc1"``) belongs to
that module's cluster, nested inside ``encoder``'s. For a compiled graph, each loop nest of
the fusion plan (:func:`symgrad.compiler.passes.plan_fusion`) is a cluster; a node in a nest is
drawn there rather than in its module.
"""
from dataclasses import dataclass, field


@dataclass
class Cluster:
    key: str                  # unique among clusters, usable in an identifier
    label: str
    kind: str                 # "module" or "fusion"
    members: list = field(default_factory=list)     # nodes directly inside
    children: list = field(default_factory=list)    # nested clusters

    def all_members(self):
        nodes = list(self.members)
        for child in self.children:
            nodes += child.all_members()
        return nodes

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()


def fusion_clusters(graph, plan):
    """One cluster per loop nest that fuses two or more nodes."""
    clusters = []
    for index, nest in enumerate(plan.nests):
        members = list(nest.members) + ([nest.reduction] if nest.reduction is not None else [])
        members = [n for n in members if n in graph]
        if len(members) < 2:
            continue
        dims = "×".join(str(d) for d in nest.shape) or "scalar"
        into = f", into {graph.op(nest.reduction)}" if nest.reduction is not None else ""
        label = f"fused loop nest {index}: {dims}, {len(members)} ops{into}"
        clusters.append(Cluster(f"fusion{index}", label, "fusion", members))
    return clusters


def module_clusters(graph, skip=()):
    """Nested clusters from the nodes' dotted ``module`` names."""
    by_path = {}
    top = []

    def cluster_for(path):
        if path not in by_path:
            parent, _, _ = path.rpartition(".")
            cluster = Cluster("module_" + path.replace(".", "_"), path, "module")
            by_path[path] = cluster
            (cluster_for(parent).children if parent else top).append(cluster)
        return by_path[path]

    for node in graph.topological_order():
        path = graph[node].get("module")
        if path and node not in skip:
            cluster_for(str(path)).members.append(node)
    return top


def cluster_tree(graph, plan=None):
    """``(top-level clusters, nodes in no cluster)``; fused nests first, then modules."""
    fused = fusion_clusters(graph, plan) if plan is not None else []
    in_nest = {n for cluster in fused for n in cluster.members}
    top = fused + module_clusters(graph, skip=in_nest)
    clustered = {n for cluster in top for n in cluster.all_members()}
    loose = [n for n in graph.topological_order() if n not in clustered]
    return top, loose
