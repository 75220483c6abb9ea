"""The matplotlib renderer: the same layered layout drawn to PNG (or SVG/PDF) with Agg.

Used for PNG when the Graphviz ``dot`` program is missing (``pip install symgrad[viz]``).
It draws on its own Figure, never touching pyplot's global state.
"""
import io

import symgrad.viz.style as style
from symgrad.viz.layout import FONT_SIZE, LINE_HEIGHT, MARGIN
from symgrad.viz.routing import segments

POINTS_PER_INCH = 72
MAX_INCHES = 200          # Agg refuses images over 2^16 pixels a side


def _box(axes, box, patches):
    look = style.STYLES[box.kind]
    shape = "round,pad=0,rounding_size=5" if look.rounded else "square,pad=0"
    axes.add_patch(patches.FancyBboxPatch(
        (box.x, box.y), box.width, box.height, boxstyle=shape, facecolor=look.fill,
        edgecolor=style.OUTPUT_BORDER if box.output else look.border,
        linewidth=2.2 if box.output else 0.8, zorder=3))
    cx = box.x + box.width / 2
    for i, line in enumerate(box.lines):
        axes.text(cx, box.y + 5 + (i + 0.5) * LINE_HEIGHT, line, ha="center", va="center",
                  family="monospace", fontsize=FONT_SIZE * 0.75,
                  fontweight="bold" if i == 0 else "normal", zorder=4)


def _edge(axes, layout, source, user, label, colour, points):
    from matplotlib.path import Path
    vertices, codes = [points[0]], [Path.MOVETO]
    for piece in segments(points):
        vertices += list(piece[1:])
        codes += [Path.CURVE4] * 3 if piece[0] == "C" else [Path.LINETO]
    axes.add_patch(patches_module().PathPatch(Path(vertices, codes), facecolor="none",
                                              edgecolor=colour, linewidth=0.7, zorder=2))
    end, before = points[-1], vertices[-2]
    axes.annotate("", xy=end, xytext=(end[0] + (before[0] - end[0]) * 0.01, end[1] - 6),
                  zorder=2, arrowprops=dict(arrowstyle="-|>", color=colour, linewidth=0.7,
                                            shrinkA=0, shrinkB=1, mutation_scale=8))
    if label:
        axes.text(end[0] + 3, end[1] - 5, label, color=colour, fontsize=FONT_SIZE * 0.7,
                  fontweight="bold", zorder=4, bbox=dict(facecolor="white", edgecolor="none",
                                                         pad=0.5))


def patches_module():
    from matplotlib import patches
    return patches


def _cluster(axes, cluster, rect, label_at, patches):
    colour = "#3b8a3b" if cluster.kind == "fusion" else "#6a6aa8"
    x, y, width, height = rect
    axes.add_patch(patches.FancyBboxPatch(
        (x, y), width, height, boxstyle="round,pad=0,rounding_size=8", facecolor=colour,
        alpha=0.10, edgecolor=colour, linestyle="--" if cluster.kind == "fusion" else "-",
        zorder=1))
    axes.text(label_at[0], label_at[1], cluster.label, color=colour, va="bottom",
              fontsize=FONT_SIZE * 0.7, zorder=4)


def _legend(axes, layout, patches, width, top):
    """One row of swatches under the title, wrapped to the drawing's width."""
    entries = [(style.STYLES[k].fill, style.STYLES[k].border, 0.8, style.STYLES[k].title)
               for k in layout.kinds]
    entries.append(("white", style.OUTPUT_BORDER, 2.2, "graph output"))
    x, y = MARGIN, top
    for fill, border, line, title in entries:
        span = 30 + len(title) * 0.5 * FONT_SIZE * 0.8
        if x + span > width and x > MARGIN:
            x, y = MARGIN, y + LINE_HEIGHT
        axes.add_patch(patches.Rectangle((x, y - 5), 10, 10, facecolor=fill, edgecolor=border,
                                         linewidth=line))
        axes.text(x + 14, y, title, va="center", fontsize=FONT_SIZE * 0.8)
        x += span
    return y


def render_matplotlib(layout, fmt="png", dpi=110):
    """Image bytes of ``layout`` in ``fmt`` (any format matplotlib writes)."""
    from matplotlib import patches
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    span = max(layout.width, 640)
    shift = (span - layout.width) / 2
    legend_rows = 1 + sum(len(style.STYLES[k].title) for k in layout.kinds) * 5.3 // span
    top = -(legend_rows + 1) * LINE_HEIGHT       # room above the layout for the legend
    width = min(span / POINTS_PER_INCH, MAX_INCHES * 72 / dpi)
    height = min((layout.height - top) / POINTS_PER_INCH, MAX_INCHES * 72 / dpi)
    figure = Figure(figsize=(width, height))
    FigureCanvasAgg(figure)
    axes = figure.add_axes((0, 0, 1, 1))
    axes.set_xlim(-shift, span - shift)
    axes.set_ylim(layout.height, top)
    axes.axis("off")
    axes.text(layout.width / 2, top + LINE_HEIGHT, layout.title, ha="center", va="center",
              fontsize=FONT_SIZE, fontweight="bold")
    _legend(axes, layout, patches, span - shift, top + 2.6 * LINE_HEIGHT)
    for cluster in layout.clusters:
        _cluster(axes, *cluster, patches)
    for edge in layout.edges:
        _edge(axes, layout, *edge)
    for box in layout.boxes.values():
        _box(axes, box, patches)
    buffer = io.BytesIO()
    figure.savefig(buffer, format=fmt, dpi=dpi, facecolor="white")
    return buffer.getvalue()
