"""A layered drawing without Graphviz: nodes in topological layers, top to bottom.

Every op sits one layer below its deepest operand; inputs and constants sit just above
their first user. Within a layer, nodes are ordered by the mean position of their
neighbours (barycentre sweeps), which keeps most edges short; clusters then get columns of
their own (symgrad.viz.columns) and edges are routed between boxes (symgrad.viz.routing).
"""
from dataclasses import dataclass

import symgrad.viz.style as style
from symgrad.viz.clusters import cluster_tree
from symgrad.viz.columns import (PAD, build_columns, cluster_rectangles, nesting_depth,
                                 place_columns)
from symgrad.viz.routing import route, rows_of

FONT_SIZE = 11
CHAR_WIDTH = 0.62 * FONT_SIZE        # monospace advance
LINE_HEIGHT = 1.3 * FONT_SIZE
LAYER_GAP = 34
NODE_GAP = 16
MARGIN = 24
CLUSTER_CHAR_WIDTH = 0.62 * (FONT_SIZE - 1)
TITLE_CHAR_WIDTH = 0.62 * 14


@dataclass
class Box:
    node: int
    kind: str
    lines: list
    tooltip: str
    output: bool
    origin: object = None  # a gradient node's forward node, when still in the graph
    x: float = 0.0        # top-left corner
    y: float = 0.0
    width: float = 0.0
    height: float = 0.0

    @property
    def center(self):
        return self.x + self.width / 2, self.y + self.height / 2


@dataclass
class Layout:
    title: str
    boxes: dict           # node -> Box
    edges: list           # (source, user, position label, colour, points: symgrad.viz.routing)
    clusters: list        # (Cluster, (x, y, width, height), label (x, y))
    width: float
    height: float
    kinds: list           # node kinds present, legend order


def assign_layers(graph):
    order = graph.topological_order()
    layer = {}
    for node in order:
        layer[node] = 1 + max((layer[o] for o in graph.operands(node)), default=-1)
    for node in order:
        users = graph.users(node)
        if not graph.operands(node) and users:
            layer[node] = max(0, min(layer[u] for u in users) - 1)
    return layer


def order_layers(graph, layer):
    """Nodes of each layer, left to right, by two barycentre sweeps."""
    rows = {}
    for node in sorted(layer):
        rows.setdefault(layer[node], []).append(node)
    position = {n: i for row in rows.values() for i, n in enumerate(row)}
    for _ in range(2):
        for depth in sorted(rows):
            def key(node):
                neighbours = graph.operands(node) or graph.users(node)
                placed = [position[n] for n in neighbours]
                return (sum(placed) / len(placed) if placed else position[node], node)
            rows[depth].sort(key=key)
            position.update({n: i for i, n in enumerate(rows[depth])})
    return [rows[d] for d in sorted(rows)]


def make_box(graph, node, has_gradients):
    lines = style.node_label(graph, node)
    origin = graph[node].get("grad_of")
    width = max(len(line) for line in lines) * CHAR_WIDTH + 16
    return Box(node, style.node_kind(graph, node, has_gradients), lines,
               style.node_tooltip(graph, node), node in graph.outputs,
               origin if origin in graph else None,
               width=width, height=len(lines) * LINE_HEIGHT + 10)


def layout(graph, plan=None, title=""):
    """Positions (in points) for every node, edge and cluster of ``graph``: rows from the
    layers, columns from the clusters (symgrad.viz.columns), edges routed between the boxes
    of the rows they cross (symgrad.viz.routing)."""
    graph = style.without_argument_copies(graph)
    has_gradients = style.is_gradient_graph(graph)
    boxes = {n: make_box(graph, n, has_gradients) for n in graph.nodes()}
    rows = order_layers(graph, assign_layers(graph))
    row_of = {n: i for i, row in enumerate(rows) for n in row}
    key = {n: (i + 0.5) / len(row) for row in rows for i, n in enumerate(row)}
    top, loose = cluster_tree(graph, plan)
    root = build_columns(top, loose, row_of, key, boxes, NODE_GAP,
                         lambda cluster: len(cluster.label) * CLUSTER_CHAR_WIDTH + 8)
    width = max(root.width + 2 * MARGIN, len(title) * TITLE_CHAR_WIDTH + 2 * MARGIN)
    place_columns(root, (width - root.width) / 2, boxes, NODE_GAP)
    gap = LAYER_GAP + nesting_depth(top) * (PAD + LINE_HEIGHT)   # room for cluster labels
    y = MARGIN + 2 * LINE_HEIGHT + gap - LAYER_GAP
    for row in rows:
        height = max(boxes[n].height for n in row)
        for node in row:
            boxes[node].y = y + (height - boxes[node].height) / 2
        y += height + gap
    return Layout(title, boxes, _edges(graph, boxes, rows, row_of),
                  _clusters(top, root, boxes), width, y + MARGIN - gap + LAYER_GAP,
                  [k for k in style.STYLES if any(b.kind == k for b in boxes.values())])


def _edges(graph, boxes, rows, row_of):
    """``(source, user, position label, colour, points)`` for every edge, in user order."""
    crossing = rows_of(rows, boxes)
    edges = []
    for source, user, position in sorted(graph.nx.edges(keys=True), key=lambda e: (e[1], e[2])):
        a, b = boxes[source], boxes[user]
        slot = (position + 1) / (len(graph.operands(user)) + 1)
        points = route((a.x + a.width / 2, a.y + a.height), (b.x + b.width * slot, b.y),
                       crossing, row_of[source], row_of[user])
        edges.append((source, user, style.edge_label(graph, user, position),
                      style.edge_color(graph, user), points))
    return edges


def _clusters(top, root, boxes):
    """``(Cluster, (x, y, width, height), label (x, y))`` for every cluster, outermost first."""
    rects = cluster_rectangles(root, boxes, LINE_HEIGHT)
    return [(c, rects[c.key], (rects[c.key][0] + 6, rects[c.key][1] + LINE_HEIGHT - 2))
            for t in top for c in t.walk() if c.key in rects]
