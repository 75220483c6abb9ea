"""Tracer values and ``trace(fn, *args) -> Graph``.

A :class:`Tracer` stands for an array while a function runs: every operation on it adds a
node to a :class:`~symgrad.core.graph.Graph` instead of computing numbers. Tracers implement
``__array_ufunc__`` and ``__array_function__`` so unmodified numpy code traces.

>>> import numpy as np, symgrad as sg
>>> print(sg.trace(lambda x: np.exp(x).sum(), np.ones(3)))  # doctest: +ELLIPSIS
{ lambda ...
"""
import contextlib

import numpy as np

import symgrad.core.pytree as pytree
from symgrad.core.errors import TracingError
from symgrad.core.graph import Graph
from symgrad.core.ops.registry import OPS, Aval
from symgrad.core.source_info import describe_location, user_location

# Filled by symgrad.core.numpy_dispatch: numpy callable -> symgrad function.
NUMPY_FUNCTIONS = {}
_origin_stack = []
_scope_stack = [{}]      # attributes every node built in the current scope gets
_active_graphs = []     # graphs being traced right now, innermost last


class Tracer:
    """A symbolic array: a node of a graph under construction."""
    __array_priority__ = 1000
    __hash__ = object.__hash__

    def __init__(self, graph, node):
        self.graph = graph
        self.node = node
        attrs = graph[node]
        self.aval = Aval(attrs["shape"], np.dtype(attrs["dtype"]), attrs.get("weak", False))

    shape = property(lambda self: self.aval.shape)
    dtype = property(lambda self: self.aval.dtype)
    ndim = property(lambda self: len(self.aval.shape))
    size = property(lambda self: int(np.prod(self.aval.shape, dtype=np.int64)))

    def __len__(self):
        if not self.shape:
            raise TracingError("len() of a 0-d traced array")
        return self.shape[0]

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __repr__(self):
        return f"Tracer<{self.dtype.name}{list(self.shape)}>"

    # numpy protocols --------------------------------------------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        function = NUMPY_FUNCTIONS.get(ufunc) if method == "__call__" else None
        if function is None:
            name = f"np.{ufunc.__name__}" + ("" if method == "__call__" else f".{method}")
            raise unsupported(name)
        if kwargs:
            raise error_here(f"np.{ufunc.__name__} with keyword arguments {sorted(kwargs)} is "
                             f"not supported by symgrad; call np.{ufunc.__name__}(a, b) "
                             "without them")
        return function(*inputs)

    def __array_function__(self, func, types, args, kwargs):
        function = NUMPY_FUNCTIONS.get(func)
        if function is None:
            raise unsupported(numpy_name(func))
        check_arguments(func, function, args, kwargs)
        return function(*args, **kwargs)

    def __array__(self, dtype=None, copy=None):
        raise error_here(
            f"numpy tried to turn the traced value {self!r} into a concrete array. This happens "
            "when a method of a plain numpy array (e.g. data.dot(traced)) receives a traced "
            "value, or with np.array/np.asarray of one; write np.dot(a, b) or a @ b instead")

    def _concrete(self, what):
        raise error_here(
            f"{what} needs the concrete value of a traced array {self!r}, but symgrad traces "
            "the function once for all values. Use symgrad.where(condition, a, b) (or "
            "np.where) instead of Python control flow on traced values")

    def __bool__(self):
        self._concrete("Python control flow (if/while/and/or/bool())")

    def __float__(self):
        self._concrete("float()")

    def __int__(self):
        self._concrete("int()")

    def __index__(self):
        self._concrete("Using a traced value as an index")

    def __complex__(self):
        self._concrete("complex()")

    def item(self, *args):
        self._concrete(".item()")

    def tolist(self):
        self._concrete(".tolist()")


def error_here(message):
    """A TracingError pointing at the user's current line."""
    return TracingError(message + describe_location(user_location()))


def numpy_name(func):
    """``np.linalg.inv`` for numpy.linalg.inv: the name as a user writes it."""
    module = getattr(func, "__module__", None) or "numpy"
    return module.replace("numpy", "np", 1) + "." + func.__name__


def check_arguments(func, function, args, kwargs):
    """A TracingError naming the numpy function when symgrad's version does not take these
    arguments (e.g. ``np.sum(x, where=...)``), instead of a TypeError from inside symgrad."""
    import inspect
    try:
        inspect.signature(function).bind(*args, **kwargs)
    except TypeError as problem:
        raise error_here(f"{numpy_name(func)} with these arguments is not supported by symgrad "
                         f"({problem}); supported: {numpy_name(func)}"
                         f"{inspect.signature(function)}") from None
    except ValueError:   # no signature available: let the call decide
        pass


def unsupported(name):
    return error_here(f"{name} is not supported by symgrad (no such op); "
                      "see symgrad.core.ops.OPS for the supported primitives")


@contextlib.contextmanager
def node_scope(**attrs):
    """Give every node built inside the block these attributes (e.g. ``module="fc1"``)."""
    _scope_stack.append({**_scope_stack[-1], **attrs})
    try:
        yield
    finally:
        _scope_stack.pop()


@contextlib.contextmanager
def gradient_of(forward_node):
    """Tag every node built inside with the forward node whose VJP produced it."""
    _origin_stack.append(forward_node)
    try:
        yield
    finally:
        _origin_stack.pop()


@contextlib.contextmanager
def tracing_into(graph):
    """Mark ``graph`` as the one being traced while the user's function runs."""
    _active_graphs.append(graph)
    try:
        yield graph
    finally:
        _active_graphs.pop()


def current_graph():
    """The innermost graph being traced, or None outside of any trace."""
    return _active_graphs[-1] if _active_graphs else None


def bind(name, *operands, **params):
    """Apply primitive ``name`` to tracers (all from one graph): add a node, return its tracer."""
    op = OPS[name]
    graph = operands[0].graph
    if any(o.graph is not graph for o in operands):
        raise error_here(
            f"{name}: its operands come from different traces ({', '.join(map(repr, operands))}). "
            "A traced value was kept from another trace (stored in a global, a default argument "
            "or an object attribute); pass it to the function as an argument instead")
    try:
        shape, dtype = op.shape_rule(*(o.aval for o in operands), **params)
    except (ValueError, TypeError, IndexError) as problem:
        shapes = ", ".join(f"{o.dtype.name}{list(o.shape)}" for o in operands)
        raise error_here(f"{name}: {problem} (operands: {shapes})") from None
    attrs = {"source": user_location(), **_scope_stack[-1]}
    if _origin_stack:
        attrs["grad_of"] = _origin_stack[-1]
    if all(o.aval.weak for o in operands) and np.dtype(dtype).kind in "biuf":
        attrs["weak"] = True
    node = graph.add_node(name, [o.node for o in operands], shape, dtype, params, **attrs)
    return Tracer(graph, node)


def constant(graph, value, dtype=None):
    """A constant node holding ``value``."""
    node = graph.add_constant(value, dtype, source=user_location())
    return Tracer(graph, node)


def find_graph(values):
    for value in values:
        if isinstance(value, Tracer):
            return value.graph
    return None


def is_array_leaf(value):
    return isinstance(value, (np.ndarray, np.generic, bool, int, float, Tracer))


def add_argument_inputs(graph, leaves, names):
    """Graph inputs for every array-like leaf; other leaves are static and pass through."""
    traced = []
    for leaf, name in zip(leaves, names):
        if isinstance(leaf, (bool, int, float)) and not isinstance(leaf, np.generic):
            kind = np.asarray(leaf).dtype
            node = graph.add_input((), kind, name=name, weak=True)
        elif is_array_leaf(leaf):
            array = np.asarray(leaf)
            node = graph.add_input(array.shape, array.dtype, name=name)
        else:
            traced.append(leaf)
            continue
        traced.append(Tracer(graph, node))
    return traced


def argument_names(fn, args):
    """Input names like ``w1`` or ``params[0]`` from the function's parameter names."""
    import inspect
    try:
        parameters = list(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        parameters = []
    names = []
    for position, arg in enumerate(args):
        base = parameters[position] if position < len(parameters) else f"arg{position}"
        paths = pytree.leaf_paths(arg)
        names.extend(base + path for path in paths)
    return names


def set_outputs(graph, out_leaves):
    outputs = []
    for leaf in out_leaves:
        if not isinstance(leaf, Tracer):
            leaf = constant(graph, leaf)
        outputs.append(leaf.node)
    graph.outputs = outputs


def trace(fn, *args, name=None):
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
    out_leaves, out_tree = pytree.flatten(out)
    set_outputs(graph, out_leaves)
    graph.out_tree = out_tree
    return graph
