"""``export``: write a graph as DOT, SVG, PNG, GraphML, node-link JSON or a text listing.

SVG and PNG are drawn by the Graphviz ``dot`` program when it is installed; otherwise SVG by
the built-in writer (:mod:`symgrad.viz.svg`, no dependencies) and PNG by matplotlib
(``pip install symgrad[viz]``). The returned :class:`Exported` says which renderer ran.
"""
from typing import Any
import json
import os
import shutil
import subprocess
from dataclasses import dataclass

import networkx as nx
import numpy as np

import symgrad.viz.style as style
from symgrad.core.install_hint import install_command
from symgrad.viz.dot import to_dot
from symgrad.viz.layout import layout
from symgrad.viz.target import ExportError, resolve

FORMATS = {".dot": "dot", ".gv": "dot", ".svg": "svg", ".png": "png", ".graphml": "graphml",
           ".json": "json", ".txt": "txt"}
RENDERERS = ("auto", "graphviz", "builtin", "matplotlib")


@dataclass
class Exported:
    path: str
    format: str
    renderer: str        # "graphviz dot", "built-in SVG writer", "matplotlib", "networkx", ...

    def __str__(self):
        return f"{self.path} ({self.format}, rendered by {self.renderer})"

    def _repr_mimebundle_(self, include=None, exclude=None):
        """In a notebook an exported picture shows itself (SVG or PNG), other files their path."""
        bundle = {"text/plain": str(self)}
        kinds = {"svg": ("image/svg+xml", "r"), "png": ("image/png", "rb")}
        if self.format in kinds and os.path.exists(self.path):
            kind, mode = kinds[self.format]
            with open(self.path, mode) as file:
                bundle[kind] = file.read()
        return bundle

    def _repr_svg_(self):
        return self._repr_mimebundle_().get("image/svg+xml")


def supported():
    return ", ".join(sorted(FORMATS))


def format_of(path):
    extension = os.path.splitext(str(path))[1].lower()
    if extension not in FORMATS:
        raise ExportError(f"cannot export a graph to {str(path)!r}: unknown file extension "
                          f"{extension or '(none)'}; supported formats: {supported()}")
    return FORMATS[extension]


def check_writable(path):
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise ExportError(f"cannot write {path!r}: it is a folder, not a file name")
    if not os.path.isdir(folder):
        raise ExportError(f"cannot write {path!r}: the folder {folder!r} does not exist")
    if not os.access(folder, os.W_OK) or (os.path.exists(path) and not os.access(path, os.W_OK)):
        raise ExportError(f"cannot write {path!r}: permission denied")


def write(path, data):
    try:
        with open(path, "wb") as file:
            file.write(data.encode() if isinstance(data, str) else data)
    except OSError as problem:
        raise ExportError(f"cannot write {path!r}: {problem.strerror or problem}") from None


# -- plain data for GraphML and JSON -----------------------------------------------------------
def jsonable(value):
    """Param values as JSON types: arrays as nested lists, slices and tuples as lists."""
    if isinstance(value, np.ndarray):
        return {"array": value.tolist(), "dtype": value.dtype.name, "shape": list(value.shape)}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, slice):
        return {"slice": [value.start, value.stop, value.step]}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, float) and not np.isfinite(value):
        return str(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


def plain_graph(graph, flat=False):
    """A networkx MultiDiGraph with only JSON-able attributes (``flat``: strings for GraphML)."""
    out = nx.MultiDiGraph(name=graph.name)
    has_gradients = style.is_gradient_graph(graph)
    pack = (lambda v: json.dumps(jsonable(v))) if flat else jsonable
    for node in graph.topological_order():
        attrs = graph[node]
        data = {"op": attrs["op"], "shape": pack(attrs["shape"]), "dtype": attrs["dtype"],
                "params": pack(attrs["params"]), "kind": style.node_kind(graph, node, has_gradients),
                "label": " ".join(style.node_label(graph, node))}
        for key in ("name", "source", "grad_of", "tangent_of", "batched", "module"):
            if attrs.get(key) is not None:
                data[key] = attrs[key] if isinstance(attrs[key], (int, str)) else str(attrs[key])
        if node in graph.outputs:
            data["output"] = pack([i for i, n in enumerate(graph.outputs) if n == node])
        out.add_node(node, **data)
    for source, user, position in graph.nx.edges(keys=True):
        out.add_edge(source, user, key=position, position=position)
    out.graph.update(inputs=pack(list(graph.inputs)), outputs=pack(list(graph.outputs)))
    return out


def graphml_text(graph):
    return "\n".join(nx.generate_graphml(plain_graph(graph, flat=True))) + "\n"


def json_text(graph):
    try:
        data = nx.node_link_data(plain_graph(graph), edges="edges")
    except TypeError:            # networkx < 3.4 names the argument ``link``
        data = nx.node_link_data(plain_graph(graph), link="edges")
    return json.dumps(data, indent=1) + "\n"


# -- pictures ---------------------------------------------------------------------------------
def graphviz_program():
    return shutil.which("dot")


def run_graphviz(dot_text, fmt):
    try:
        done = subprocess.run([graphviz_program(), f"-T{fmt}"], input=dot_text.encode(),
                              capture_output=True, timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired) as problem:
        raise ExportError(f"the Graphviz dot program failed: {problem}") from None
    if done.returncode != 0:
        raise ExportError(f"the Graphviz dot program failed: {done.stderr.decode().strip()}")
    return done.stdout


def has_matplotlib():
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def choose_renderer(fmt, renderer):
    """The renderer for an image format: Graphviz when installed, else a pip-only one."""
    if renderer not in RENDERERS:
        raise ExportError(f"unknown renderer {renderer!r}; choose one of {', '.join(RENDERERS)}")
    if renderer == "auto":
        if graphviz_program():
            return "graphviz"
        return "builtin" if fmt == "svg" else "matplotlib"
    if renderer == "graphviz" and not graphviz_program():
        raise ExportError("renderer='graphviz' needs the Graphviz dot program on PATH "
                          "(apt-get install graphviz, brew install graphviz)")
    if renderer == "builtin" and fmt != "svg":
        raise ExportError(f"the built-in renderer writes SVG only, not {fmt.upper()}")
    return renderer


def render_image(graph, plan, fmt, renderer, title):
    """``(bytes, renderer description)`` for an SVG or PNG picture of ``graph``."""
    renderer = choose_renderer(fmt, renderer)
    if renderer == "graphviz":
        return run_graphviz(to_dot(graph, fusion=plan is not None, title=title), fmt), "graphviz dot"
    drawing = layout(graph, plan, title or style.default_title(graph))
    if renderer == "builtin":
        from symgrad.viz.svg import render_svg
        return render_svg(drawing).encode(), "built-in SVG writer"
    if not has_matplotlib():
        raise ExportError(f"writing {fmt.upper()} needs the Graphviz dot program "
                          f"(apt-get install graphviz) or matplotlib ({install_command('viz')}); "
                          "neither is installed. SVG (.svg) and DOT (.dot) need neither")
    from symgrad.viz.mpl import render_matplotlib
    return render_matplotlib(drawing, fmt), "matplotlib"


def export(graph_or_fn: Any, path: str | os.PathLike, *args: Any, renderer: str = "auto",
           fusion: bool | None = None, title: str | None = None,
           params: dict | None = None) -> Exported:
    """Write ``graph_or_fn`` to ``path``; the extension picks the format.

    ``graph_or_fn`` is anything :func:`symgrad.viz.target.resolve` takes: a Graph, a compiled
    graph, ``sg.grad(f)``, a plain function (traced on ``*args``), a Tensor (its recorded
    computation and gradient; ``params=dict(model.named_parameters())`` names the leaves) or
    an ``nn.Module`` (traced on ``*args``). Formats: ``.dot``/``.gv``
    (Graphviz text), ``.svg``, ``.png``, ``.graphml``, ``.json`` (networkx node-link data,
    array params as nested lists) and ``.txt`` (the text listing with sources). ``renderer``
    ("auto", "graphviz", "builtin" for SVG, "matplotlib") picks who draws SVG and PNG.
    Returns an :class:`Exported` naming the renderer. A bad extension, a missing folder or an
    unwritable path raises :class:`ExportError` (a ValueError) naming the path.
    """
    path = os.fspath(path)
    fmt = format_of(path)
    check_writable(path)
    graph, plan = resolve(graph_or_fn, args, fusion, params)
    if fmt in ("svg", "png"):
        data, used = render_image(graph, plan, fmt, renderer, title)
    else:
        writers = {"dot": lambda: to_dot(graph, fusion=plan is not None, title=title),
                   "graphml": lambda: graphml_text(graph), "json": lambda: json_text(graph),
                   "txt": lambda: graph.listing(show_sources=True) + "\n"}
        data = writers[fmt]()
        used = "networkx" if fmt in ("graphml", "json") else "symgrad"
    write(path, data)
    return Exported(path, fmt, used)
