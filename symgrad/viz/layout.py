"""A layered drawing without Graphviz: nodes in topological layers, top to bottom.

Every op sits one layer below its deepest operand; inputs and constants sit just above
their first user. Within a layer, nodes are ordered by the mean position of their
neighbours (one barycentre sweep), which keeps most edges short.
"""
from dataclasses import dataclass

import symgrad.viz.style as style
from symgrad.viz.clusters import cluster_tree

FONT_SIZE = 11
CHAR_WIDTH = 0.62 * FONT_SIZE        # monospace advance
LINE_HEIGHT = 1.3 * FONT_SIZE
LAYER_GAP = 34
NODE_GAP = 16
MARGIN = 24


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
    edges: list           # (source, user, position label, colour, where on the user's top edge)
    clusters: list        # (Cluster, [(x, y, width, height)], label (x, y))
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


def cluster_shapes(boxes, cluster, pad=7):
    """Padded rectangles around each member (only members are shaded, even when the layered
    layout puts other nodes between them), and where the label goes (above the topmost)."""
    members = sorted((boxes[n] for n in cluster.all_members()), key=lambda b: (b.y, b.x))
    rects = [(b.x - pad, b.y - pad, b.width + 2 * pad, b.height + 2 * pad) for b in members]
    first = rects[0]
    return rects, (first[0], first[1] - 3)


def layout(graph, plan=None, title=""):
    """Positions (in points) for every node, edge and cluster of ``graph``."""
    graph = style.without_argument_copies(graph)
    has_gradients = style.is_gradient_graph(graph)
    boxes = {n: make_box(graph, n, has_gradients) for n in graph.nodes()}
    rows = order_layers(graph, assign_layers(graph))
    widths = [sum(boxes[n].width for n in row) + NODE_GAP * (len(row) - 1) for row in rows]
    width = max(widths, default=0) + 2 * MARGIN
    y = MARGIN + 2 * LINE_HEIGHT
    for row, row_width in zip(rows, widths):
        x = (width - row_width) / 2
        height = max(boxes[n].height for n in row)
        for node in row:
            box = boxes[node]
            box.x, box.y = x, y + (height - box.height) / 2
            x += box.width + NODE_GAP
        y += height + LAYER_GAP
    edges = [(s, u, style.edge_label(graph, u, p), style.edge_color(graph, u),
              (p + 1) / (len(graph.operands(u)) + 1))
             for s, u, p in sorted(graph.nx.edges(keys=True), key=lambda e: (e[1], e[2]))]
    top, _ = cluster_tree(graph, plan)
    clusters = [(c, *cluster_shapes(boxes, c)) for t in top for c in t.walk()]
    kinds = [k for k in style.STYLES if any(b.kind == k for b in boxes.values())]
    return Layout(title, boxes, edges, clusters, width, y + MARGIN, kinds)
