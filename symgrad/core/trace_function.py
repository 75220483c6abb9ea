"""Tracing a whole Python function: its array arguments become graph inputs (other leaves
stay static), its results the graph's outputs; ``trace(fn, *args) -> Graph``.

>>> import numpy as np, symgrad as sg
>>> print(sg.trace(lambda x: np.exp(x).sum(), np.ones(3)))  # doctest: +ELLIPSIS
{ lambda ...
"""
from collections.abc import Callable
from typing import Any
import numpy as np

import symgrad.core.pytree as pytree
from symgrad.core.graph import Graph
from symgrad.core.tracing import Tracer, check_dtype, check_live, constant, error_here, tracing_into


def is_array_leaf(value):
    return isinstance(value, (np.ndarray, np.generic, bool, int, float, Tracer))


def is_immutable(leaf):
    """Whether ``leaf`` stands for a value that in-place operators replace rather than
    change: Python numbers, numpy scalars, immutable tracers."""
    return leaf.immutable if isinstance(leaf, Tracer) else not isinstance(leaf, np.ndarray)


def is_static_output(leaf):
    """Output leaves returned as they are, not computed (a string or other object in an
    aux pytree, as JAX allows); objects with __array__ (a Tensor) are arrays."""
    return not is_array_leaf(leaf) and not hasattr(leaf, "__array__")


def add_argument_inputs(graph, leaves, names):
    """Graph inputs for every array-like leaf; other leaves are static and pass through."""
    traced = []
    for leaf, name in zip(leaves, names):
        if isinstance(leaf, (bool, int, float)) and not isinstance(leaf, np.generic):
            kind = np.asarray(leaf).dtype
            node = graph.add_input((), kind, name=name, weak=True)
        elif is_array_leaf(leaf):
            array = np.asarray(leaf)
            check_dtype(array.dtype, f"argument {name} (shape {list(array.shape)})")
            node = graph.add_input(array.shape, array.dtype, name=name)
        else:
            traced.append(leaf)
            continue
        traced.append(Tracer(graph, node, immutable=is_immutable(leaf)))
    return traced


def argument_names(fn, args, kwargs=None):
    """Input names like ``w1`` or ``params[0]`` from the function's parameter names, in the
    order pytree.flatten((args, kwargs)) gives the leaves."""
    import inspect
    try:
        parameters = list(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        parameters = []
    bases = [parameters[position] if position < len(parameters) else f"arg{position}"
             for position in range(len(args))]
    named = sorted((kwargs or {}).items())
    return [base + path for base, arg in [*zip(bases, args), *named]
            for path in pytree.leaf_paths(arg)]


def set_outputs(graph, out_leaves):
    """Make ``out_leaves`` (tracers of ``graph`` or concrete arrays) the graph's outputs;
    the trace is complete, so its tracers are dead from now on."""
    outputs = []
    for leaf in out_leaves:
        if not isinstance(leaf, Tracer):
            leaf = constant(graph, leaf)
        elif leaf.graph is not graph:
            check_live(leaf)
            raise error_here(f"the function returned {leaf!r}, a traced value of another "
                             f"trace ({leaf.graph.name!r}, still running) than its own "
                             f"({graph.name!r}); pass it to the function as an argument instead")
        outputs.append(leaf.node)
    graph.outputs = outputs
    graph.closed = True


def flatten_outputs(out):
    """``(array leaves, tree)`` of a traced function's output; static leaves stay in the tree."""
    return pytree.flatten(out, is_static=is_static_output)


def trace(fn: Callable, *args: Any, name: str | None = None) -> Graph:
    """Trace ``fn`` on example arguments into a forward :class:`Graph`.

    >>> import numpy as np, symgrad as sg
    >>> graph = sg.trace(lambda x: np.sum(x * x), np.ones(3))
    >>> [graph.op(n) for n in graph.topological_order()]
    ['input', 'mul', 'sum']
    """
    graph = Graph(name or getattr(fn, "__name__", "fn"))
    leaves, treedef = pytree.flatten(args)
    tracers = add_argument_inputs(graph, leaves, argument_names(fn, args))
    with tracing_into(graph):
        out = fn(*pytree.unflatten(treedef, tracers))
        out_leaves, graph.out_tree = flatten_outputs(out)
        set_outputs(graph, out_leaves)
    return graph
