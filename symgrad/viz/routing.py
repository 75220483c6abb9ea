"""Edges that go around nodes: an edge that spans several rows passes each row between two
boxes, at the gap nearest to its straight line, and curves from row to row.

Rows of the layered layout hold every box; between rows there are none. So an edge made of
vertical pieces through gaps of the rows it crosses and curves in the space between rows
touches no box. Both renderers draw the same pieces (``segments``).
"""
from dataclasses import dataclass

CLEARANCE = 5           # how far an edge keeps from a box it passes


@dataclass
class Row:
    top: float
    bottom: float
    spans: list          # (left, right) of each box, left to right

    def free_x(self, wanted):
        """The x nearest to ``wanted`` where a vertical line crosses this row between boxes."""
        if not any(left - CLEARANCE < wanted < right + CLEARANCE for left, right in self.spans):
            return wanted
        candidates = [self.spans[0][0] - 2 * CLEARANCE, self.spans[-1][1] + 2 * CLEARANCE]
        candidates += [(a[1] + b[0]) / 2 for a, b in zip(self.spans, self.spans[1:])
                       if b[0] - a[1] >= 2 * CLEARANCE]
        return min(candidates, key=lambda x: abs(x - wanted))


def rows_of(layers, boxes):
    """One :class:`Row` per layer of nodes."""
    rows = []
    for nodes in layers:
        placed = sorted((boxes[n] for n in nodes), key=lambda box: box.x)
        rows.append(Row(min(b.y for b in placed), max(b.y + b.height for b in placed),
                        [(b.x, b.x + b.width) for b in placed]))
    return rows


def route(start, end, rows, first_row, last_row):
    """Points from ``start`` (below a box of row ``first_row``) to ``end`` (above a box of row
    ``last_row``): two per row crossed, at its top and bottom, at a free x."""
    points = [start]
    crossed = range(first_row + 1, last_row)
    for k, index in enumerate(crossed):
        row = rows[index]
        share = (k + 1) / (len(crossed) + 1)
        x = row.free_x(start[0] + (end[0] - start[0]) * share)
        points += [(x, row.top - CLEARANCE), (x, row.bottom + CLEARANCE)]
    points.append(end)
    return points


def segments(points):
    """``[("C", c1, c2, to) or ("L", to), ...]`` from ``points[0]``: a vertical line through
    each row crossed, a smooth curve between rows."""
    pieces = []
    for k, (p, q) in enumerate(zip(points, points[1:])):
        if k % 2 == 1:                          # through a row (both ends at one x)
            pieces.append(("L", q))
            continue
        bend = max((q[1] - p[1]) / 2, 8)
        pieces.append(("C", (p[0], p[1] + bend), (q[0], q[1] - bend), q))
    return pieces
