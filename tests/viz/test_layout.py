"""The built-in layout (symgrad/viz/layout.py, columns.py, routing.py): a cluster's rectangle
holds its members and no other node, edges pass no box, labels fit."""
import numpy as np
import pytest

import symgrad as sg
import symgrad as torch
from symgrad.viz.layout import CHAR_WIDTH, layout
from symgrad.viz.routing import segments


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.Tanh(),
                                           torch.nn.Linear(5, 4))
        self.head = torch.nn.Linear(4, 2)

    def forward(self, x):
        return self.head(self.encoder(x).clamp(min=0))


def inside(box, rect):
    x, y, width, height = rect
    return x <= box.x and box.x + box.width <= x + width and y <= box.y \
        and box.y + box.height <= y + height


def overlaps(box, rect):
    x, y, width, height = rect
    return box.x < x + width and x < box.x + box.width and box.y < y + height and \
        y < box.y + box.height


@pytest.fixture(scope="module")
def drawings():
    torch.manual_seed(0)
    model, x, y = Net(), torch.randn(3, 6), torch.randn(3, 2)
    loss = ((model(x) - y) ** 2).sum()
    from symgrad.viz.eager_graphs import module_graph, tensor_graph
    compiled = sg.grad(lambda w, x: np.sum(np.tanh(x @ w) ** 2)).compiled(np.ones((3, 2)),
                                                                          np.ones((4, 3)))
    graph, plan = sg.viz.resolve(compiled)
    return [layout(module_graph(model, (x,))), layout(tensor_graph(loss)), layout(graph, plan)]


def test_a_cluster_holds_its_members_and_nothing_else(drawings):
    for drawn in drawings[::2]:
        assert drawn.clusters
        for cluster, rect, _ in drawn.clusters:
            members = set(cluster.all_members())
            for node, box in drawn.boxes.items():
                if node in members:
                    assert inside(box, rect), (cluster.label, node)
                else:
                    assert not overlaps(box, rect), (cluster.label, node)


def test_nested_clusters_nest(drawings):
    clusters = {cluster.label: rect for cluster, rect, _ in drawings[0].clusters}
    assert {"encoder", "encoder.0", "encoder.2", "head"} <= set(clusters)
    outer = clusters["encoder"]
    for name in ("encoder.0", "encoder.2"):
        x, y, width, height = clusters[name]
        assert outer[0] < x and x + width < outer[0] + outer[2]
        assert outer[1] < y and y + height < outer[1] + outer[3]


def sample(start, piece, steps=12):
    """Points along one segment of an edge."""
    if piece[0] == "L":
        (x0, y0), (x1, y1) = start, piece[1]
        return [(x0 + (x1 - x0) * t / steps, y0 + (y1 - y0) * t / steps) for t in range(steps + 1)]
    p0, p1, p2, p3 = start, *piece[1:]
    times = [k / steps for k in range(steps + 1)]
    return [tuple((1 - t) ** 3 * a + 3 * (1 - t) ** 2 * t * b + 3 * (1 - t) * t * t * c + t ** 3 * d
                  for a, b, c, d in zip(p0, p1, p2, p3)) for t in times]


def test_edges_pass_no_box(drawings):
    for drawn in drawings:
        assert any(len(points) > 2 for *_, points in drawn.edges)    # some cross rows
        for source, user, _, _, points in drawn.edges:
            start, path = points[0], []
            for piece in segments(points):
                path += sample(start, piece)[1:-1]
                start = piece[-1]
            for node, box in drawn.boxes.items():
                if node in (source, user):
                    continue
                assert not any(box.x + 1 < x < box.x + box.width - 1 and
                               box.y + 1 < y < box.y + box.height - 1 for x, y in path), \
                    (source, user, node)


def test_labels_fit_their_boxes_and_the_picture(drawings):
    for drawn in drawings:
        for box in drawn.boxes.values():
            assert max(len(line) for line in box.lines) * CHAR_WIDTH < box.width
            assert 0 <= box.x and box.x + box.width <= drawn.width
        for cluster, (x, _, width, _), _ in drawn.clusters:
            assert len(cluster.label) * 0.62 * 10 < width
