"""A Graph as text, one equation per line, like JAX's jaxpr.

>>> import numpy as np, symgrad as sg
>>> print(sg.trace(lambda x: np.exp(x) * 2.0, np.ones(3)))   # doctest: +NORMALIZE_WHITESPACE
{ lambda x:f64[3] .
  let %1:f64[3] = exp x
      %2:f64[] = constant 2.0
      %3:f64[3] = mul %1 %2
  in (%3) }
"""
import os

import numpy as np

from symgrad.core.ops.registry import OPS

DTYPE_CODES = {"float64": "f64", "float32": "f32", "int64": "i64", "int32": "i32", "bool": "bool"}


def type_of(attrs):
    op = OPS.get(attrs.get("op"))
    if op is not None and op.multiple_results:
        return "tuple"       # a control-flow node: its ``result`` nodes have the types
    dims = ",".join(str(d) for d in attrs["shape"])
    return f"{DTYPE_CODES.get(attrs['dtype'], attrs['dtype'])}[{dims}]"


def name_of(graph, node):
    attrs = graph[node]
    return attrs.get("name") if attrs["op"] == "input" else f"%{node}"


def format_param(value):
    if isinstance(value, np.ndarray):
        return np.array2string(value, threshold=4, precision=4) if value.ndim else repr(value.item())
    return repr(value)


def batch_note(attrs):
    """``batched over 64`` (``over 3x4`` under nested vmaps, outermost first) for a node a
    vmap's batching rule made (symgrad.core.batching), else None."""
    sizes = attrs.get("batched")
    return f"batched over {'x'.join(map(str, sizes))}" if sizes else None


def format_node(graph, node):
    attrs = graph[node]
    operands = " ".join(name_of(graph, o) for o in graph.operands(node))
    if attrs["op"] == "constant":
        params = format_param(attrs["params"]["value"])
    else:
        params = " ".join(f"{k}={format_param(v)}" for k, v in attrs["params"].items()
                          if not is_nested(v))
    line = f"{name_of(graph, node)}:{type_of(attrs)} = {attrs['op']}"
    line += "".join(f" {part}" for part in (params, operands) if part)
    notes = []
    if attrs.get("source"):
        filename, _, lineno = attrs["source"].rpartition(":")
        notes.append(f"{os.path.basename(filename)}:{lineno}")
    if "grad_of" in attrs:
        notes.append(f"grad of %{attrs['grad_of']}")
    if "tangent_of" in attrs:
        notes.append(f"tangent of %{attrs['tangent_of']}")
    if batch_note(attrs):
        notes.append(batch_note(attrs))
    if attrs.get("module"):
        notes.append(f"in {attrs['module']}")
    return line + (f"    # {', '.join(notes)}" if notes else "")


def _is_graph(value):
    # by its face: symgrad.core.graph imports this module for Graph.listing
    return hasattr(value, "nx") and hasattr(value, "topological_order")


def is_nested(value):
    return _is_graph(value) or (isinstance(value, tuple) and bool(value)
                                and all(_is_graph(v) for v in value))


def nested_graphs(graph, node):
    """``(label, Graph)`` for each body of a control-flow node (``body``, ``branches[1]``)."""
    for key, value in graph[node]["params"].items():
        if _is_graph(value):
            yield key, value
        elif is_nested(value):
            yield from ((f"{key}[{i}]", v) for i, v in enumerate(value))


def _node_lines(graph, node, show_sources):
    """The node's equation, then each of its bodies' listings, indented below it."""
    lines = [format_node(graph, node)]
    for label, body in nested_graphs(graph, node):
        nested = format_graph(body, show_sources).splitlines()
        lines.append(f"    {label} = {nested[0]}")
        lines += [" " * (7 + len(label)) + line for line in nested[1:]]
    return lines


def format_graph(graph, show_sources=False):
    """The text listing of ``graph``; sources and gradient origins as trailing comments; the
    bodies of loops and branches as nested listings below their node."""
    inputs = " ".join(f"{name_of(graph, n)}:{type_of(graph[n])}" for n in graph.inputs)
    body = [line for n in graph.topological_order() if graph.op(n) != "input"
            for line in _node_lines(graph, n, show_sources)]
    if not show_sources:
        body = [line.split("    # ")[0] for line in body]
    outputs = " ".join(name_of(graph, n) for n in graph.outputs)
    lines = [f"{{ lambda {inputs} ."]
    lines += [("  let " if i == 0 else "      ") + line for i, line in enumerate(body)]
    lines.append(f"  in ({outputs}) }}")
    return "\n".join(lines)
