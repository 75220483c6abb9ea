"""Inline pictures in Jupyter: a ``Graph``, a compiled function or loop, and an export show
themselves as SVG (the built-in writer: no Graphviz needed), with their text as the plain
fallback.

``Graph`` is floor 1 and the compiled objects live in the backend, which import nothing from
here; so the display methods are given to ``Graph`` when symgrad.viz is imported, and the
compiled types are registered with IPython's SVG formatter by name (nothing is imported for
it). Graphs over ``MAX_NODES`` nodes show as text only: a picture that large is better
exported and opened.
"""
import sys

from symgrad.core.graph import Graph

MAX_NODES = 400
# the backend's compiled objects, by (module, class): each has ``.optimized`` (a Graph)
COMPILED_TYPES = [("symgrad.compiler.cpu.host", "CompiledGraph"),
                  ("symgrad.compiler.cpu.host", "CompiledLoop"),
                  ("symgrad.compiler.cuda.host", "CompiledCudaGraph"),
                  ("symgrad.compiler.cuda.training_loop", "CudaTrainingLoop"),
                  ("symgrad.training.tiered_loop", "TieredLoop")]


def svg_of(obj):
    """The built-in writer's SVG text of a Graph, or of a compiled object (its optimized graph,
    fused loop nests boxed); None when it is too large to show inline."""
    from symgrad.viz.layout import layout
    from symgrad.viz.style import default_title
    from symgrad.viz.svg import render_svg
    from symgrad.viz.target import resolve
    graph, plan = resolve(obj)
    if len(graph) > MAX_NODES:
        return None
    return render_svg(layout(graph, plan, default_title(graph)))


def _graph_svg(graph):
    return svg_of(graph)


def _graph_mimebundle(graph, include=None, exclude=None):
    bundle = {"text/plain": repr(graph)}
    svg = svg_of(graph)
    if svg is not None:
        bundle["image/svg+xml"] = svg
    return bundle


def install():
    """Give ``Graph`` its display methods; register the compiled types with IPython, if it
    is running."""
    Graph._repr_svg_ = _graph_svg
    Graph._repr_mimebundle_ = _graph_mimebundle
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None and hasattr(ipython, "get_ipython") \
        else None
    if shell is None:
        return
    formatter = shell.display_formatter.formatters["image/svg+xml"]
    for module, name in COMPILED_TYPES:
        formatter.for_type_by_name(module, name, svg_of)
