"""Tracer values: what an array is while a function is traced (tracing a whole function,
its arguments and outputs: symgrad.core.trace_function).

A :class:`Tracer` stands for an array while a function runs: every operation on it adds a
node to a :class:`~symgrad.core.graph.Graph` instead of computing numbers. Tracers implement
``__array_ufunc__`` and ``__array_function__`` so unmodified numpy code traces.

>>> import numpy as np, symgrad as sg
>>> print(sg.trace(lambda x: np.exp(x).sum(), np.ones(3)))  # doctest: +ELLIPSIS
{ lambda ...
"""
import contextlib
from dataclasses import dataclass

import numpy as np

import symgrad.core.numpy_namespace as numpy_namespace
from symgrad.core.scipy_names import inside_scipy_hint, is_scipy_ufunc
from symgrad.core.errors import (TracingAttributeError, TracingError, TracingTypeError,
                            TracingValueError, UnexpectedTracerError)
from symgrad.core.ops.registry import OPS, Aval
from symgrad.core.source_info import describe_location, user_location

# Filled by symgrad.core.tracer_faces: numpy callable -> symgrad function, and the name of a
# scipy.special ufunc -> symgrad function (by name: importing symgrad does not import scipy).
NUMPY_FUNCTIONS = {}
SCIPY_UFUNCS = {}
_origin_stack = []
_scope_stack = [{}]      # attributes every node built in the current scope gets
_active_graphs = []     # graphs being traced right now, innermost last


@dataclass
class View:
    """How a view tracer (``a[1]``, ``a.T``, ``a.reshape(-1)``) reads its base array and how
    a write into it goes back (symgrad.core.views makes them)."""
    base: "Tracer"
    base_node: int      # the base's node this view was last read from
    read: object        # base -> this view's value
    write_back: object  # (base, new value of the view) -> the base's new value
    layout: np.ndarray  # a stand-in with the view's strides in its base (symgrad.core.views.layout)
    readonly: bool = False


class Tracer:
    """A symbolic array: a node of a graph under construction.

    A tracer is mutable like an ndarray: ``a[1:] = v``, ``a += 1`` and writes into a view of
    ``a`` give it a new node. A view tracer re-reads its base when the base was written since
    (symgrad.core.views). ``immutable`` tracers stand for numpy scalars and Python numbers (0-d
    results of arithmetic and reductions): in-place operators give the name a new value."""
    __array_priority__ = 1000
    __hash__ = object.__hash__

    def __init__(self, graph, node, view=None, immutable=None):
        self.graph = graph
        self._node = node
        self.view = view
        attrs = graph[node]
        self.aval = Aval(attrs["shape"], np.dtype(attrs["dtype"]), attrs.get("weak", False))
        if immutable is None:       # numpy's default: 0-d results are scalars, views arrays
            immutable = not attrs["shape"] and view is None
        self.immutable = immutable

    shape = property(lambda self: self.aval.shape)
    dtype = property(lambda self: self.aval.dtype)
    ndim = property(lambda self: len(self.aval.shape))
    size = property(lambda self: int(np.prod(self.aval.shape, dtype=np.int64)))
    readonly = property(lambda self: self.view is not None and self.view.readonly)

    @property
    def node(self):
        view = self.view
        if view is not None and view.base.node != view.base_node:
            self._node = view.read(view.base).node     # the base was written since
            view.base_node = view.base.node
        return self._node

    def write(self, value):
        """Make this array hold ``value`` (a tracer of its shape and dtype); a view writes
        its region of the base too. Nothing changes when the write fails."""
        view = self.view
        if view is not None:
            if view.readonly:
                raise error_here(f"assignment destination is read-only: {self!r} is a view made "
                                 "by np.broadcast_to (or a view of one); copy it first "
                                 "(np.broadcast_to(...).copy())", TracingValueError)
            view.base.write(view.write_back(view.base, value))
            view.base_node = view.base.node
        self._node = value.node

    def __len__(self):
        if not self.shape:
            raise error_here(f"len() of unsized object: {self!r} is a 0-d traced array",
                             TracingTypeError)
        return self.shape[0]

    def __iter__(self):
        if not self.shape:
            raise error_here(f"iteration over a 0-d array ({self!r})", TracingTypeError)
        return (self[i] for i in range(self.shape[0]))

    def __repr__(self):
        return f"Tracer<{self.dtype.name}{list(self.shape)}>"

    def __format__(self, spec):
        if not spec:
            return repr(self)
        self._concrete(f"Formatting with {spec!r} (f'{{value:{spec}}}')")

    def __getattr__(self, name):
        # Only for names the class lacks: ndarray's other methods and attributes.
        if name.startswith("_") or not hasattr(np.ndarray, name):
            raise AttributeError(f"'Tracer' object has no attribute {name!r}")
        hint = IN_PLACE_METHODS.get(name)
        what = (f"x.{name}() changes the array in place: {hint}" if hint else
                f"the ndarray attribute x.{name} is not supported on traced arrays by symgrad")
        raise error_here(f"{what} (x is {self!r})", TracingAttributeError)

    # numpy protocols --------------------------------------------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        function = NUMPY_FUNCTIONS.get(ufunc if method == "__call__" else (ufunc, method))
        if function is None:
            scipy = is_scipy_ufunc(ufunc)
            function = SCIPY_UFUNCS.get(ufunc.__name__) if scipy and method == "__call__" else None
        if function is None:
            name = ("scipy.special." if scipy else "np.") + ufunc.__name__
            raise unsupported(name + ("" if method == "__call__" else f".{method}"))
        out = kwargs.pop("out", None)
        if kwargs:
            raise error_here(f"np.{ufunc.__name__} with keyword arguments {sorted(kwargs)} is "
                             f"not supported by symgrad; call np.{ufunc.__name__}(a, b) "
                             "without them")
        result = function(*inputs)
        if out is None:
            return copy_of(result) if any(result is value for value in inputs) else result
        return write_out(ufunc, result, out)

    def __array_function__(self, func, types, args, kwargs):
        function = NUMPY_FUNCTIONS.get(func)
        if function is None:
            raise unsupported(numpy_name(func))
        check_arguments(func, function, args, kwargs)
        result = function(*args, **kwargs)
        # numpy functions that do not make views return new arrays, never an argument
        if any(result is value for value in (*args, *kwargs.values())):
            return copy_of(result)
        return result

    def __array__(self, dtype=None, copy=None):
        check_live(self)
        raise self._remembered(error_here(
            f"numpy tried to turn the traced value {self!r} into a concrete array, but "
            "symgrad traces the function once for all values. This happens with "
            "array/asarray imported from numpy by name (np.array works), storing it in a "
            "numpy array (array[i:j] = traced), "
            ".item()/.tolist()/float() of a Tensor that holds it, a method of a plain numpy "
            "array given it (data.dot(traced): write np.dot(a, b) or a @ b instead), or a "
            "numpy function given a list of traced values (a list argument is a pytree of "
            "scalars: np.stack it first)"))

    def _concrete(self, what):
        check_live(self)
        raise self._remembered(error_here(
            f"{what} needs the concrete value of a traced array {self!r}, but symgrad traces "
            "the function once for all values. Use symgrad.where(condition, a, b) (or "
            "np.where) instead of Python control flow on traced values, and return values "
            "to print or log them from the function"))

    def _remembered(self, error):
        """``error``, kept on the graph: numpy replaces an error raised while it converts a
        sequence-like object (``array[i] = traced``) by its own ValueError, and
        :func:`tracing_into` puts ours back."""
        self.graph.conversion_error = error
        return error

    def __bool__(self):
        self._concrete("Python control flow (if/while/and/or/bool())")

    def __float__(self):
        self._concrete("float() (or storing it in a numpy array: array[i] = traced, which "
                       "numpy arrays cannot hold; build arrays from traced values with "
                       "np.stack or x[i] = v on a traced array)")

    def __int__(self):
        self._concrete("int()")

    def __index__(self):
        self._concrete("Using a traced value as an index")

    def __complex__(self):
        self._concrete("complex()")

    def __round__(self, ndigits=None):
        self._concrete("round()")

    def item(self, *args):
        self._concrete(".item()")

    def tolist(self):
        self._concrete(".tolist()")


# ndarray methods that change the array in place (see Tracer.__getattr__), with what to
# write instead; fill and the in-place operators are supported (symgrad.core.views).
IN_PLACE_METHODS = {
    "resize": "write a new array (np.reshape, np.concatenate) instead",
    "put": "write x[index] = value with basic indices instead",
}


def copy_of(tracer, immutable=None):
    """A new array holding ``tracer``'s value: writes into either leave the other alone."""
    return Tracer(tracer.graph, tracer.node, immutable=immutable)


def conformed(target, value, what):
    """``value`` as the new value of ``target`` in ``target op= value``: numpy's rules for
    an in-place result (the target's shape; a 'same_kind' cast to its dtype)."""
    if value.shape != target.shape:
        raise error_here(f"{what}: non-broadcastable output operand with shape "
                         f"{target.shape} doesn't match the broadcast shape {value.shape}",
                         TracingValueError)
    if not np.can_cast(value.dtype, target.dtype, "same_kind"):
        raise error_here(f"Cannot cast ufunc {what!r} output from {value.dtype!r} to "
                         f"{target.dtype!r} with casting rule 'same_kind'", TracingTypeError)
    return value if value.dtype == target.dtype else bind("cast", value, dtype=target.dtype.name)


def write_out(ufunc, result, out):
    """``np.<ufunc>(..., out=target)``: write ``result`` into a traced target."""
    (target,) = out
    if not isinstance(target, Tracer):
        raise error_here(
            f"np.{ufunc.__name__}(..., out=...) would write a traced value into a numpy "
            f"array of shape {list(np.shape(target))} in place (as `array += traced` does), "
            "and numpy arrays cannot hold traced values; write array = array + traced, or "
            "start from a traced value", TracingTypeError)
    if target.immutable:
        raise error_here(f"np.{ufunc.__name__}(..., out=...) needs an array to write into; "
                         f"{target!r} is a scalar", TracingTypeError)
    target.write(conformed(target, result, ufunc.__name__))
    return target


def error_here(message, kind=TracingError):
    """A TracingError (or one of its subclasses) pointing at the user's current line."""
    return kind(message + describe_location(user_location()))


def check_live(tracer):
    """An UnexpectedTracerError when ``tracer``'s trace has ended: it was kept past the end
    of its function (in a global, a list, an attribute) and is used now."""
    graph = tracer.graph
    if not getattr(graph, "closed", False):
        return
    created = graph[tracer._node].get("source")
    origin = (f"created at {created}" if created else
              f"the input {graph[tracer._node].get('name')!r} of that trace")
    raise error_here(
        f"a traced value {tracer!r} of the finished trace of {graph.name!r} ({origin}) is used "
        "here, after that trace ended: a traced value exists only while its function is "
        "traced, and values from different traces cannot be mixed. It escaped the function "
        "through a global, a list or object outside it, or an attribute; return it from the "
        "function (or pass it in as an argument) instead", UnexpectedTracerError)


# What compiled code computes with: float32/float64, complex64/complex128 (differentiated
# with autograd's and JAX's convention), and integer and bool arrays as data.
SUPPORTED_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
SUPPORTED_COMPLEX = (np.dtype(np.complex64), np.dtype(np.complex128))


def check_dtype(dtype, what, allow_complex=True):
    """A TracingTypeError naming ``what`` unless symgrad computes with ``dtype`` (complex
    dtypes only where ``allow_complex``: sg.train's data and parameters are real)."""
    dtype = np.dtype(dtype)
    if dtype.kind in "biu" or dtype in SUPPORTED_FLOATS or (
            allow_complex and dtype in SUPPORTED_COMPLEX):
        return
    complex_part = "" if allow_complex else " here (complex arrays trace in sg.grad and sg.jit)"
    raise error_here(f"{what} has dtype {dtype.name}: symgrad computes with float32 and "
                     f"float64{complex_part} (integer and bool arrays are accepted as data, not "
                     f"differentiated); convert it, e.g. with .astype(np.float64)",
                     TracingTypeError)


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
                      "see symgrad.core.ops.OPS for the supported primitives"
                      + inside_scipy_hint())



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
    """Mark ``graph`` as the one being traced while the user's function runs; once it
    returns (or fails), the graph's tracers are dead (check_live)."""
    _active_graphs.append(graph)
    try:
        with numpy_namespace.traced_constructors(outermost=len(_active_graphs) == 1):
            yield graph
    except ValueError as problem:
        swallowed = getattr(graph, "conversion_error", None)
        if swallowed is not None and "setting an array element with a sequence" in str(problem):
            raise swallowed from None
        raise
    finally:
        _active_graphs.pop()
        graph.closed = True


def current_graph():
    """The innermost graph being traced, or None outside of any trace."""
    return _active_graphs[-1] if _active_graphs else None


def bind(name, *operands, **params):
    """Apply primitive ``name`` to tracers (all from one graph): add a node, return its tracer."""
    op = OPS[name]
    graph = find_graph(operands)
    for operand in operands:
        check_live(operand)
    lifted = [captured_into(graph, o) for o in operands]
    if any(o is None for o in lifted):
        raise error_here(
            f"{name}: its operands come from different traces ({', '.join(map(repr, operands))}). "
            "A traced value was kept from another trace (stored in a global, a default argument "
            "or an object attribute); pass it to the function as an argument instead")
    operands = lifted
    try:
        shape, dtype = op.shape_rule(*(o.aval for o in operands), **params)
    except (ValueError, TypeError, IndexError) as problem:
        shapes = ", ".join(f"{o.dtype.name}{list(o.shape)}" for o in operands)
        raise error_here(f"{name}: {problem} (operands: {shapes})") from None
    check_dtype(dtype, f"{name}'s result")
    attrs = node_attributes()
    if all(o.aval.weak for o in operands) and np.dtype(dtype).kind in "biuf":
        attrs["weak"] = True
    node = graph.add_node(name, [o.node for o in operands], shape, dtype, params, **attrs)
    return Tracer(graph, node)


def node_attributes():
    """The attributes a node built here gets: the user's line, the scope's, its gradient origin."""
    attrs = {"source": user_location(), **_scope_stack[-1]}
    if _origin_stack:
        attrs["grad_of"] = _origin_stack[-1]
    return attrs


def constant(graph, value, dtype=None):
    """A constant node holding ``value``."""
    value = np.asarray(value, dtype=dtype)
    check_dtype(value.dtype, f"the constant {np.array2string(value, threshold=4)}")
    return Tracer(graph, graph.add_constant(value, source=user_location()))


def find_graph(values):
    """The graph of the tracers among ``values``: the innermost one when some come from the
    traces that enclose a loop body's (their values become its captured inputs)."""
    found = None
    for value in values:
        if isinstance(value, Tracer) and (found is None or depth(value.graph) > depth(found)):
            found = value.graph
    return found


def depth(graph):
    """How many traces enclose ``graph``: 0 for a function's, 1 for a loop body's in it..."""
    return getattr(graph, "depth", 0)


def captured_into(graph, tracer):
    """``tracer`` as a value of ``graph``: itself, or when it belongs to a trace that encloses
    the sub-graph ``graph`` (a loop body uses a value from outside), an input of ``graph``
    fed by it (recorded in ``graph.captured``); None when ``graph`` is not inside its trace."""
    if tracer.graph is graph:
        return tracer
    parent = getattr(graph, "parent", None)
    outer = captured_into(parent, tracer) if parent is not None else None
    if outer is None:
        return None
    node = graph.captures.get(outer.node)
    if node is None:
        node = graph.add_input(outer.shape, outer.dtype, name=f"captured{len(graph.captured)}",
                               weak=outer.aval.weak)
        graph.captures[outer.node] = node
        graph.captured.append(Tracer(parent, outer.node))
    return Tracer(graph, node, immutable=outer.immutable)
