"""Graphviz DOT text for a graph: colours, shapes, tooltips, operand positions, clusters.

>>> import numpy as np, symgrad as sg
>>> text = sg.viz.to_dot(sg.trace(lambda x: np.exp(x) - x, np.ones(2)))
>>> text.startswith('digraph') and 'exp' in text
True
"""
from typing import Any
import symgrad.viz.style as style
from symgrad.viz.bodies import body_cluster_lines
from symgrad.viz.clusters import cluster_tree
from symgrad.viz.target import resolve

CLUSTER_STYLE = {"module": ('"rounded,filled"', "#f7f7ff", "#6a6aa8"),
                 "fusion": ('"dashed,filled"', "#f2fbf2", "#3b8a3b")}


def quote(text):
    """A DOT string literal (``\\n`` stays a centred line break)."""
    escaped = str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def attributes(**values):
    return "[" + ", ".join(f"{k}={quote(v)}" for k, v in values.items() if v is not None) + "]"


def node_id(node):
    return f"n{node}"


def node_statement(graph, node, has_gradients):
    kind = style.node_kind(graph, node, has_gradients)
    look = style.STYLES[kind]
    attrs = graph[node]
    is_output = node in graph.outputs
    origin = attrs.get("grad_of")
    return node_id(node) + " " + attributes(
        label="\n".join(style.node_label(graph, node)),
        shape=look.shape,
        style="rounded,filled" if look.rounded else "filled",
        fillcolor=look.fill,
        color=style.OUTPUT_BORDER if is_output else look.border,
        peripheries="2" if is_output else None,
        penwidth="2" if is_output else None,
        tooltip=style.node_tooltip(graph, node),
        id=node_id(node),
        URL=f"#{node_id(origin)}" if origin is not None and origin in graph else None,
        **{"class": kind})


def edge_statements(graph):
    lines = []
    for source, user, position in sorted(graph.nx.edges(keys=True), key=lambda e: (e[1], e[2])):
        label = style.edge_label(graph, user, position)
        lines.append(f"{node_id(source)} -> {node_id(user)} " + attributes(
            label=label or None, color=style.edge_color(graph, user),
            tooltip=f"operand {position} of %{user} {graph.op(user)}"))
    return lines


def cluster_lines(graph, cluster, has_gradients, indent):
    fill_style, fill, border = CLUSTER_STYLE[cluster.kind]
    pad = "  " * indent
    lines = [f"{pad}subgraph {quote('cluster_' + cluster.key)} {{",
             f"{pad}  label={quote(cluster.label)}; style={fill_style}; "
             f"fillcolor={quote(fill)}; color={quote(border)}; fontsize=11;"]
    lines += [pad + "  " + node_statement(graph, n, has_gradients) + ";" for n in cluster.members]
    for child in cluster.children:
        lines += cluster_lines(graph, child, has_gradients, indent + 1)
    lines.append(pad + "}")
    return lines


def legend_lines(graph, has_gradients):
    """A cluster with one sample node per kind present in the graph, and one output."""
    kinds = [k for k in style.STYLES
             if any(style.node_kind(graph, n, has_gradients) == k for n in graph.nodes())]
    lines = ['  subgraph "cluster_legend" {', '    label="legend"; style="dashed"; color="#999999"; '
             'fontsize=11;']
    names = []
    for kind in kinds:
        look = style.STYLES[kind]
        names.append(f"legend_{kind}")
        lines.append(f"    {names[-1]} " + attributes(
            label=look.title, shape=look.shape, fillcolor=look.fill, color=look.border,
            style="rounded,filled" if look.rounded else "filled") + ";")
    names.append("legend_output")
    lines.append("    legend_output " + attributes(
        label="graph output", shape="box", style="filled", fillcolor="#ffffff",
        color=style.OUTPUT_BORDER, peripheries="2", penwidth="2") + ";")
    lines += ["    {rank=same; " + "; ".join(names) + ";}",
              f"    {' -> '.join(names)} [style=invis];", "  }"]
    return lines


def to_dot(graph: Any, fusion: bool | None = None, legend: bool = True, title: str | None = None,
           rankdir: str = "TB") -> str:
    """Graphviz DOT text for ``graph`` (a Graph or a compiled graph, see :func:`resolve`).

    Forward and gradient nodes have their own colours (legend included unless
    ``legend=False``); inputs, differentiated parameters, constants and outputs have their own
    shapes; edges into ops whose operand order matters are labelled with the position;
    tooltips give each node's source ``file:line`` and, for gradient nodes, the forward node
    (also a link to it in SVG). Nodes with a ``module`` attribute are grouped in labelled
    clusters; with ``fusion=True`` (the default for a compiled graph) so are fused loop nests.
    The bodies of loops and branches are nested clusters linked to their node.
    """
    graph, plan = resolve(graph, (), fusion)
    graph = style.without_argument_copies(graph)
    has_gradients = style.is_gradient_graph(graph)
    heading = title or style.default_title(graph)
    lines = [f"digraph {quote(graph.name)} {{",
             f"  graph [rankdir={rankdir}, label={quote(heading)}, labelloc=t, fontsize=14, "
             'fontname="Helvetica", newrank=true, compound=true];',
             '  node [fontname="Helvetica", fontsize=10];',
             '  edge [fontname="Helvetica", fontsize=9, arrowsize=0.7];']
    if legend:
        lines += legend_lines(graph, has_gradients)
    top, loose = cluster_tree(graph, plan)
    for cluster in top:
        lines += cluster_lines(graph, cluster, has_gradients, 1)
    lines += ["  " + node_statement(graph, n, has_gradients) + ";" for n in loose]
    lines += ["  " + line + ";" for line in edge_statements(graph)]
    lines += body_cluster_lines(graph)
    lines.append("}")
    return "\n".join(lines) + "\n"
