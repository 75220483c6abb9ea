"""The bodies of loops and branches (Graphs held by a control-flow node's params) as nested
DOT clusters below their node, one per body, recursively; an edge from the node to the
cluster links them.

>>> import numpy as np, symgrad as sg
>>> graph = sg.trace(lambda x: sg.fori_loop(0, 3, lambda i, c: np.sin(c), x), 1.0)
>>> 'cluster_n2_body' in sg.viz.to_dot(graph)
True
"""
import symgrad.viz.style as style
from symgrad.core.listing import nested_graphs


def body_cluster_lines(graph, prefix="", indent=1):
    """DOT lines for the bodies of ``graph``'s control-flow nodes; node ids start with
    ``prefix`` (``""`` for the top graph, whose nodes are ``n<id>``)."""
    lines = []
    for node in graph.topological_order():
        for label, body in nested_graphs(graph, node):
            inner = f"{prefix}n{node}_{label.replace('[', '_').replace(']', '')}_"
            lines += _cluster(graph, node, label, body, inner, indent)
            first = body.inputs[0] if body.inputs else body.topological_order()[0]
            lines.append("  " * indent + f'{prefix}n{node} -> {inner}n{first} '
                         f'[style=dashed, color="#888888", lhead="cluster_{inner.rstrip("_")}", '
                         f'label="{label}"];')
    return lines


def _cluster(graph, node, label, body, inner, indent):
    pad = "  " * indent
    lines = [f'{pad}subgraph "cluster_{inner.rstrip("_")}" {{',
             f'{pad}  label="%{node} {graph.op(node)}: {label}"; style="dashed,rounded"; '
             'color="#888888"; fontsize=11;']
    for n in body.topological_order():
        text = "\\n".join(style.node_label(body, n)).replace('"', '\\"')
        shape = "ellipse" if body.op(n) == "input" else "box"
        border = ', peripheries="2"' if n in body.outputs else ""
        lines.append(f'{pad}  {inner}n{n} [label="{text}", shape={shape}{border}];')
    for source, user, position in sorted(body.nx.edges(keys=True), key=lambda e: (e[1], e[2])):
        lines.append(f'{pad}  {inner}n{source} -> {inner}n{user};')
    lines += body_cluster_lines(body, inner, indent + 1)
    lines.append(pad + "}")
    return lines
