"""Where nodes go across: every cluster (an nn module, a fused loop nest) gets a column of its
own, so its box holds its members and nothing else.

The layered layout (symgrad.viz.layout) fixes each node's row and, by barycentre sweeps, a
preferred order within its row (a ``key`` from 0 to 1). Here each level of the cluster tree
becomes a sequence of columns: the child clusters, ordered by their members' mean key, with
gap columns before, between and after them for the nodes in no child. A column is as wide
as its widest row; a node sits in its column's slice of its row, so a cluster's rectangle
(its column's width, from its first member's row to its last's) never covers a node of
another cluster or of none.
"""
import bisect
from dataclasses import dataclass, field

PAD = 8                 # between a cluster's border and what it holds


@dataclass
class Column:
    cluster: object = None                      # None: a gap of nodes in no sub-cluster
    parts: list = field(default_factory=list)   # a cluster's (or the root's) sub-columns
    rows: dict = field(default_factory=dict)    # a gap's nodes: row -> [node, ...]
    width: float = 0.0
    x: float = 0.0

    def walk(self):
        yield self
        for part in self.parts:
            yield from part.walk()


def build_columns(clusters, loose, row_of, key, boxes, gap, label_width):
    """The root column: ``clusters`` (top-level Clusters) and the ``loose`` nodes beside them.
    ``label_width(cluster)`` is the room its label needs."""
    root = _level(clusters, loose, row_of, key, boxes, gap, label_width)
    root.width = _parts_width(root.parts, gap)
    return root


def _level(clusters, direct, row_of, key, boxes, gap, label_width, cluster=None):
    def mean_key(child):
        members = child.all_members()
        return sum(key[n] for n in members) / len(members)
    children = sorted((c for c in clusters if c.all_members()), key=mean_key)
    bounds = [mean_key(c) for c in children]
    gaps = [Column() for _ in range(len(children) + 1)]
    for node in direct:
        gaps[bisect.bisect(bounds, key[node])].rows.setdefault(row_of[node], []).append(node)
    for column in gaps:
        for row in column.rows.values():
            row.sort(key=lambda n: key[n])
        column.width = max((_row_width(row, boxes, gap) for row in column.rows.values()),
                           default=0.0)
    parts = [gaps[0]]
    for child, after in zip(children, gaps[1:]):
        column = _level(child.children, child.members, row_of, key, boxes, gap, label_width,
                        child)
        column.width = max(_parts_width(column.parts, gap), label_width(child)) + 2 * PAD
        parts += [column, after]
    return Column(cluster, [p for p in parts if p.cluster is not None or p.rows])


def _row_width(nodes, boxes, gap):
    return sum(boxes[n].width for n in nodes) + gap * (len(nodes) - 1)


def _parts_width(parts, gap):
    return sum(p.width for p in parts) + gap * max(len(parts) - 1, 0)


def place_columns(column, x, boxes, gap):
    """Give every column its ``x`` and every node its ``box.x`` (centred in its column)."""
    column.x = x
    if column.cluster is None and not column.parts:
        for nodes in column.rows.values():
            left = x + (column.width - _row_width(nodes, boxes, gap)) / 2
            for node in nodes:
                boxes[node].x = left
                left += boxes[node].width + gap
        return
    inner = _parts_width(column.parts, gap)
    left = x + (column.width - inner) / 2
    for part in column.parts:
        place_columns(part, left, boxes, gap)
        left += part.width + gap


def cluster_rectangles(root, boxes, label_height):
    """``{cluster key: (x, y, width, height)}``: each cluster's column, from above its topmost
    member (room for its label, and for those of clusters nested in it) to below its
    lowest."""
    rects = {}

    def extent(column):
        tops, bottoms = [], []
        for part in column.parts:
            if part.cluster is None:
                nodes = [n for row in part.rows.values() for n in row]
                tops += [boxes[n].y for n in nodes]
                bottoms += [boxes[n].y + boxes[n].height for n in nodes]
            else:
                top, bottom = extent(part)
                tops.append(top)
                bottoms.append(bottom)
        if column.cluster is None:
            return min(tops, default=0.0), max(bottoms, default=0.0)
        top, bottom = min(tops) - PAD - label_height, max(bottoms) + PAD
        rects[column.cluster.key] = (column.x, top, column.width, bottom - top)
        return top, bottom

    extent(root)
    return rects


def nesting_depth(clusters):
    """How deeply clusters nest (0 without clusters)."""
    return max((1 + nesting_depth(c.children) for c in clusters), default=0)
