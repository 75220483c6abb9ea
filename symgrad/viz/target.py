"""What can be drawn: a Graph, a compiled graph, or a function traced on example arguments."""
import inspect

from symgrad.core.errors import TracingError
from symgrad.core.graph import Graph


class ExportError(ValueError):
    """A graph or module could not be written: bad file name, format or path.

    The message names the path and the supported formats."""


def is_compiled(obj):
    """A :class:`symgrad.compiler.CompiledGraph` (checked by shape, so symgrad need not import it)."""
    return isinstance(getattr(obj, "optimized", None), Graph) and hasattr(obj, "source")


def fusion_plan(graph):
    from symgrad.compiler.passes import plan_fusion
    return plan_fusion(graph)


def resolve(obj, args=(), fusion=None, params=None):
    """``(graph, fusion plan or None)`` for ``obj``.

    ``obj`` is a :class:`~symgrad.core.graph.Graph`; a compiled graph (``sg.jit(f).compiled(*args)``,
    drawn as its optimized graph, with fused loop nests unless ``fusion=False``); a transformed
    function such as ``sg.grad(f)`` (its ``.trace(*args)``: the gradient graph); a plain
    function (``sg.trace(f, *args)``: the forward graph); a Tensor (the eager computation
    recorded behind it, with its gradient graph; ``params`` names leaves, as
    ``dict(model.named_parameters())``); or an ``nn.Module`` (traced on ``*args``).
    ``fusion=True`` plans fusion for a plain Graph too.
    """
    from symgrad.viz import eager_graphs
    if isinstance(obj, Graph):
        graph = obj
    elif eager_graphs.is_tensor(obj):
        graph = eager_graphs.tensor_graph(obj, params)
    elif eager_graphs.is_module(obj):
        graph = eager_graphs.module_graph(obj, args)
    elif is_compiled(obj):
        graph = obj.optimized
        fusion = True if fusion is None else fusion
    elif callable(getattr(obj, "trace", None)) and hasattr(obj, "build"):
        graph = obj.trace(*args)
    elif callable(obj) and not inspect.isclass(obj):
        from symgrad.core.trace_function import trace
        graph = trace(obj, *args)
    else:
        raise TracingError(f"cannot draw {type(obj).__name__}: expected a symgrad Graph, a "
                           "compiled graph, sg.grad(f)/sg.jit(f), a function with example "
                           "arguments, a Tensor or an nn.Module with example inputs")
    return graph, (fusion_plan(graph) if fusion else None)
