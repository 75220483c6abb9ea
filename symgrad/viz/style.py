"""What every renderer agrees on: the kind of each node, its colours, label and tooltip.

Kinds: ``input`` (a data argument), ``parameter`` (a differentiated argument, or an input a
model marked with the attribute ``parameter=True``), ``constant``, ``forward`` (an op traced
from the user's code) and ``gradient`` (an op the reverse-mode pass added; it records
``grad_of``, the forward node whose VJP produced it) and ``tangent`` (an op of forward mode,
symgrad.forward_mode; it records ``tangent_of``, the forward node it differentiates). Graph outputs are drawn with a double
border whatever their kind.
"""
import os
from dataclasses import dataclass

from symgrad.core.listing import batch_note, format_node, format_param, name_of, type_of


@dataclass(frozen=True)
class Style:
    title: str        # the legend's words
    fill: str
    border: str
    shape: str        # Graphviz node shape
    rounded: bool = False


STYLES = {
    "input": Style("input", "#d5f0d5", "#3b8a3b", "invhouse"),
    "parameter": Style("differentiated input", "#fff2b3", "#a08000", "box3d"),
    "constant": Style("constant", "#eeeeee", "#888888", "note"),
    "forward": Style("forward op", "#d6e6f7", "#3a6ea5", "box", rounded=True),
    "gradient": Style("gradient op", "#fcdcc4", "#c0602a", "box", rounded=True),
    "tangent": Style("tangent op (forward mode)", "#e6d9f5", "#7040a8", "box", rounded=True),
}
OUTPUT_BORDER = "#111111"
GRADIENT_EDGE = "#c0602a"
FORWARD_EDGE = "#555555"

# Operand order does not matter for these, so their edges carry no position label.
COMMUTATIVE = frozenset({"add", "mul", "maximum", "minimum", "eq", "ne"})


def without_argument_copies(graph):
    """``graph`` for drawing: the ``identity`` node that ``grad`` puts after each differentiated
    input (a variable of its own) left out, its users reading the input, which is drawn as a
    differentiated input under the argument's name (``w1`` rather than ``param0``)."""
    copies = [n for n in graph.nodes() if graph.op(n) == "identity"
              and [graph.op(o) for o in graph.operands(n)] == ["input"]]
    if not copies or not is_gradient_graph(graph):
        return graph
    drawn = graph.copy()
    for node in copies:
        (source,) = drawn.operands(node)
        drawn[source]["parameter"] = True
        if graph[node].get("argument") and not graph[source].get("argument"):
            drawn[source]["argument"] = graph[node]["argument"]
        drawn.replace_uses(node, source)
        drawn.remove_node(node)
    return drawn


def is_gradient_graph(graph):
    return any("grad_of" in graph[n] or "tangent_of" in graph[n] for n in graph.nodes())


def node_kind(graph, node, has_gradients=None):
    """One of the keys of :data:`STYLES`."""
    attrs = graph[node]
    if attrs["op"] == "input":
        if attrs.get("parameter"):
            return "parameter"
        if has_gradients is None:
            has_gradients = is_gradient_graph(graph)
        # grad/value_and_grad copy each differentiated argument into an identity node.
        differentiated = has_gradients and any(graph.op(u) == "identity" for u in graph.users(node))
        return "parameter" if differentiated else "input"
    if attrs["op"] == "constant":
        return "constant"
    if "tangent_of" in attrs:
        return "tangent"
    return "gradient" if "grad_of" in attrs else "forward"


def short_params(attrs, limit=28):
    """Static params as ``axes=(0, 1)``, shortened for a node label."""
    text = " ".join(f"{k}={format_param(v)}" for k, v in attrs["params"].items())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def node_label(graph, node, outputs=None):
    """The lines drawn inside a node: name/op, type, and params or what output it is."""
    attrs = graph[node]
    if attrs["op"] == "input":
        lines = [attrs.get("argument") or name_of(graph, node), type_of(attrs)]
    elif attrs["op"] == "constant":
        lines = [constant_text(attrs["params"]["value"]), type_of(attrs)]
    else:
        lines = [f"%{node} {attrs['op']}", type_of(attrs)]
        if attrs["params"]:
            lines.append(short_params(attrs))
    outputs = graph.outputs if outputs is None else outputs
    names = graph.output_names if outputs is graph.outputs else []
    positions = [i for i, out in enumerate(outputs) if out == node]
    if positions:
        lines.append("→ " + ", ".join(names[i] if i < len(names) else f"output {i}"
                                      for i in positions))
    return lines


def constant_text(value):
    """A constant's value when it is short: ``2.0``, ``1e-06``, ``[1. 2.]``, ``all 0.5``
    (a float32 as numpy prints it, the shortest text that reads back the same)."""
    text = str(value[()]) if value.ndim == 0 else format_param(value)
    if value.ndim and value.size > 4:
        first = value.flat[0]
        text = f"all {first}" if bool((value == first).all()) else ""
    text = " ".join(text.split())
    return text if text and len(text) <= 20 else "constant"


def _location(source):
    filename, _, line = source.rpartition(":")
    return f"{os.path.basename(filename)}:{line}"


def node_tooltip(graph, node):
    """The equation, where it came from, and for gradient nodes the forward node it serves."""
    attrs = graph[node]
    lines = [format_node(graph, node).split("    # ")[0]]
    if attrs.get("source"):
        lines.append(f"source: {attrs['source']}")
    origin = attrs.get("grad_of")
    if origin is not None:
        if origin in graph:
            described = format_node(graph, origin).split("    # ")[0]
            source = graph[origin].get("source")
            where = f" at {_location(source)}" if source else ""
            lines.append(f"gradient of %{origin}: {described}{where}")
        else:
            lines.append(f"gradient of %{origin} (optimized away)")
    if attrs.get("tangent_of") is not None:
        lines.append(f"tangent of %{attrs['tangent_of']}")
    if batch_note(attrs):
        lines.append(batch_note(attrs))
    if attrs.get("module"):
        lines.append(f"module: {attrs['module']}")
    return "\n".join(lines)


def edge_label(graph, user, position):
    """The operand position, where it matters: ops with several, non-commutative operands."""
    op = graph.op(user)
    if op in COMMUTATIVE or len(graph.operands(user)) < 2:
        return ""
    return str(position)


def edge_color(graph, user):
    return GRADIENT_EDGE if "grad_of" in graph[user] else FORWARD_EDGE


def default_title(graph):
    kind = "forward and gradient graph" if is_gradient_graph(graph) else "forward graph"
    return f"{graph.name}: {kind}, {len(graph)} nodes"
