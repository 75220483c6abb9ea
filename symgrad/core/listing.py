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

DTYPE_CODES = {"float64": "f64", "float32": "f32", "int64": "i64", "int32": "i32", "bool": "bool"}


def type_of(attrs):
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
        params = " ".join(f"{k}={format_param(v)}" for k, v in attrs["params"].items())
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


def format_graph(graph, show_sources=False):
    """The text listing of ``graph``; sources and gradient origins as trailing comments."""
    inputs = " ".join(f"{name_of(graph, n)}:{type_of(graph[n])}" for n in graph.inputs)
    body = [format_node(graph, n) for n in graph.topological_order() if graph.op(n) != "input"]
    if not show_sources:
        body = [line.split("    # ")[0] for line in body]
    outputs = " ".join(name_of(graph, n) for n in graph.outputs)
    lines = [f"{{ lambda {inputs} ."]
    lines += [("  let " if i == 0 else "      ") + line for i, line in enumerate(body)]
    lines.append(f"  in ({outputs}) }}")
    return "\n".join(lines)
