"""See the graphs: DOT text, SVG/PNG pictures, GraphML/JSON data and statistics.

>>> import numpy as np, symgrad as sg
>>> graph = sg.grad(lambda x: np.sum(np.exp(x))).trace(np.ones(3))
>>> 'gradient op' in sg.viz.to_dot(graph)
True

* :func:`to_dot` — Graphviz DOT text (forward and gradient nodes coloured apart, a legend,
  tooltips with source lines, module and fused-loop clusters);
* :func:`export` — write ``.dot .svg .png .graphml .json .txt``; SVG/PNG through Graphviz
  ``dot`` when installed, otherwise the built-in SVG writer or matplotlib;
* :func:`summary` — node counts by op, FLOPs, bytes moved and peak memory;
* in Jupyter a Graph, a compiled function or loop and an export display as SVG.

Errors about files (unknown extension, missing folder, no permission) are
:class:`ExportError`, a ``ValueError`` whose message names the path and the formats.
"""
from symgrad.viz.dot import to_dot
from symgrad.viz.files import FORMATS, Exported, export, plain_graph
from symgrad.viz.stats import Summary, summary
from symgrad.viz.target import ExportError, resolve
import symgrad.viz.notebook as notebook

notebook.install()      # Graph, compiled functions and loops show inline in Jupyter

__all__ = ["to_dot", "export", "summary", "Summary", "Exported", "ExportError", "FORMATS",
           "plain_graph", "resolve"]
