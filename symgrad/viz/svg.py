"""The built-in SVG renderer: a :class:`~symgrad.viz.layout.Layout` written as SVG text.

It needs nothing beyond the standard library, so ``sg.viz.export(graph, "g.svg")`` works on
a fresh machine without Graphviz. Nodes carry ``<title>`` tooltips (source ``file:line``,
and for gradient nodes the forward node) and gradient nodes link to their forward node.
"""
from xml.sax.saxutils import escape

import symgrad.viz.style as style
from symgrad.viz.layout import FONT_SIZE, LINE_HEIGHT, MARGIN
from symgrad.viz.routing import segments

FONT = "DejaVu Sans Mono, Menlo, Consolas, monospace"


def attr(value):
    return escape(str(value), {'"': "&quot;", "\n": "&#10;"})


def box_svg(box, href=None):
    look = style.STYLES[box.kind]
    radius = 6 if look.rounded else 0
    border = style.OUTPUT_BORDER if box.output else look.border
    parts = [f'<g id="n{box.node}" class="node {box.kind}"><title>{escape(box.tooltip)}</title>']
    if href:
        parts.append(f'<a href="{attr(href)}">')
    parts.append(f'<rect x="{box.x:.1f}" y="{box.y:.1f}" width="{box.width:.1f}" '
                 f'height="{box.height:.1f}" rx="{radius}" fill="{look.fill}" stroke="{border}" '
                 f'stroke-width="{2.2 if box.output else 1}"/>')
    if box.output:
        parts.append(f'<rect x="{box.x + 3:.1f}" y="{box.y + 3:.1f}" width="{box.width - 6:.1f}" '
                     f'height="{box.height - 6:.1f}" rx="{max(radius - 2, 0)}" fill="none" '
                     f'stroke="{border}"/>')
    cx = box.x + box.width / 2
    for i, line in enumerate(box.lines):
        y = box.y + 5 + (i + 0.8) * LINE_HEIGHT
        weight = ' font-weight="bold"' if i == 0 else ""
        parts.append(f'<text x="{cx:.1f}" y="{y:.1f}" text-anchor="middle"{weight}>'
                     f'{escape(line)}</text>')
    if href:
        parts.append("</a>")
    parts.append("</g>")
    return "".join(parts)


def edge_svg(layout, source, user, label, colour, points):
    """The edge along its routed points; its position label on a white patch (readable in
    every renderer, unlike a text halo drawn with ``paint-order``)."""
    (x1, y1), (x2, y2) = points[0], points[-1]
    path = [f"M{x1:.1f},{y1:.1f}"]
    for piece in segments(points[:-1] + [(x2, y2 - 1)]):
        path.append(" ".join(f"{piece[0] if i == 0 else ''}{x:.1f},{y:.1f}"
                             for i, (x, y) in enumerate(piece[1:])))
    drawn = (f'<path d="{" ".join(path)}" fill="none" stroke="{colour}" '
             f'marker-end="url(#arrow)"/>')
    if not label:
        return drawn
    width = len(label) * 0.62 * (FONT_SIZE - 1) + 4
    return drawn + (f'<rect x="{x2 + 1:.1f}" y="{y2 - 15:.1f}" width="{width:.1f}" height="12" '
                    f'fill="white" fill-opacity="0.9"/><text x="{x2 + 3:.1f}" y="{y2 - 5:.1f}" '
                    f'font-size="{FONT_SIZE - 1}" font-weight="bold" fill="{colour}">'
                    f'{escape(label)}</text>')


def cluster_svg(cluster, rect, label_at):
    colour = "#3b8a3b" if cluster.kind == "fusion" else "#6a6aa8"
    dash = ' stroke-dasharray="5,3"' if cluster.kind == "fusion" else ""
    x, y, w, h = rect
    return (f'<g class="cluster {cluster.kind}"><title>{escape(cluster.label)}</title>'
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" rx="8" '
            f'fill="{colour}" fill-opacity="0.08" stroke="{colour}"{dash}/>'
            f'<rect x="{label_at[0] - 2:.1f}" y="{label_at[1] - 10:.1f}" '
            f'width="{len(cluster.label) * 0.62 * (FONT_SIZE - 1) + 4:.1f}" height="13" '
            f'fill="white" fill-opacity="0.85"/>'
            f'<text x="{label_at[0]:.1f}" y="{label_at[1]:.1f}" fill="{colour}" '
            f'font-size="{FONT_SIZE - 1}">{escape(cluster.label)}</text></g>')


def legend_svg(layout):
    parts, x = [], MARGIN
    y = MARGIN + LINE_HEIGHT
    for kind in layout.kinds + ["output"]:
        look = style.STYLES.get(kind, style.Style("graph output", "#ffffff", style.OUTPUT_BORDER,
                                                  "box"))
        width = 14 + len(look.title) * 0.62 * (FONT_SIZE - 1)
        stroke = 2.2 if kind == "output" else 1
        parts.append(f'<rect x="{x:.1f}" y="{y - 10:.1f}" width="12" height="12" fill="{look.fill}" '
                     f'stroke="{look.border}" stroke-width="{stroke}"/><text x="{x + 16:.1f}" '
                     f'y="{y:.1f}" font-size="{FONT_SIZE - 1}">{escape(look.title)}</text>')
        x += width + 16
    return "".join(parts), x


def render_svg(layout):
    """SVG text for ``layout``."""
    legend, legend_width = legend_svg(layout)
    width = max(layout.width, legend_width + MARGIN)
    shift = (width - layout.width) / 2
    body = [cluster_svg(*cluster) for cluster in layout.clusters]
    body += [edge_svg(layout, *edge) for edge in layout.edges]
    body += [box_svg(box, None if box.origin is None else f"#n{box.origin}")
             for box in layout.boxes.values()]
    return "\n".join([
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{layout.height:.0f}" '
        f'viewBox="0 0 {width:.0f} {layout.height:.0f}" font-family="{FONT}" '
        f'font-size="{FONT_SIZE}">',
        f'<title>{escape(layout.title)}</title>',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        'fill="#555555"/></marker></defs>',
        '<rect width="100%" height="100%" fill="white"/>',
        f'<text x="{width / 2:.1f}" y="{MARGIN - 6:.1f}" text-anchor="middle" font-size="14" '
        f'font-weight="bold">{escape(layout.title)}</text>',
        legend,
        f'<g transform="translate({shift:.1f},0)">',
        *body,
        "</g>",
        "</svg>",
    ]) + "\n"

