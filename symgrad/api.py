"""``grad``, ``value_and_grad``, ``vjp`` and ``jit``: trace → differentiate → compile → cache.

Called on concrete arrays, a transformed function traces once per input signature (shapes,
dtypes, pytree structure), compiles the graph and caches it. Called on tracers (inside
another transformation) it adds its nodes to the caller's graph instead, which is how
``grad(grad(f))`` differentiates a gradient graph.

>>> import numpy as np, symgrad as sg
>>> sg.grad(lambda x: np.sum(x ** 3))(np.array([1.0, 2.0]))
array([ 3., 12.])
"""
import functools

import numpy as np

import symgrad.core.pytree as pytree
from symgrad.core.reverse_mode import backward, is_differentiable
from symgrad.core.errors import TracingError
from symgrad.core.graph import Graph
from symgrad.core.interpreter import evaluate
from symgrad.core.ops.elementwise import identity
from symgrad.core.ops.shape import reshape
from symgrad.core.tracing import (Tracer, add_argument_inputs, argument_names, constant, current_graph,
                             find_graph, is_array_leaf, set_outputs, tracing_into)


def leaf_signature(leaf):
    """What a compiled graph depends on: shape and dtype of arrays, type of Python scalars,
    the value of static (non-array) leaves."""
    if isinstance(leaf, (bool, int, float)) and not isinstance(leaf, np.generic):
        return ("scalar", type(leaf).__name__)
    if is_array_leaf(leaf):
        array = leaf if isinstance(leaf, np.ndarray) else np.asarray(leaf)
        return (array.shape, array.dtype.str)
    try:
        hash(leaf)
        return ("static", leaf)
    except TypeError:
        return ("static", id(leaf))


class Interpreted:
    """The reference backend: run the graph with numpy, op by op (the test oracle)."""

    def __init__(self, graph, device="cpu"):
        if device != "cpu":
            raise ValueError(f"backend='reference' runs the graph with numpy on the CPU; "
                             f"device={device!r} needs backend='numba'")
        self.graph = graph

    def __call__(self, *inputs):
        return tuple(evaluate(self.graph, inputs))


def compile_numba(graph, device="cpu"):
    from symgrad.compiler import compile_graph
    return compile_graph(graph, device)


BACKENDS = {"numba": compile_numba, "reference": Interpreted}   # name -> (graph, device) -> callable


def check_device(device):
    """``device`` if the compiler has a code generator for it (symgrad.compiler.GRAPH_COMPILERS)."""
    from symgrad.compiler import GRAPH_COMPILERS
    if device not in GRAPH_COMPILERS:
        raise ValueError(f"unknown device {device!r}: symgrad compiles for "
                         f"{', '.join(map(repr, GRAPH_COMPILERS))}")
    return device


def lift_leaf(graph, leaf):
    """A concrete array leaf as a constant of ``graph`` (Python scalars stay weakly typed);
    static leaves pass through."""
    if isinstance(leaf, Tracer) or not is_array_leaf(leaf):
        return leaf
    if isinstance(leaf, (bool, int, float)) and not isinstance(leaf, np.generic):
        return Tracer(graph, graph.add_constant(leaf, weak=True))
    return constant(graph, leaf)


def array_inputs(leaves):
    return [leaf for leaf in leaves if is_array_leaf(leaf)]


class Staged:
    """A traced-and-compiled function for one input signature."""

    def __init__(self, graph, out_tree, backend, device="cpu"):
        self.graph = graph
        self.out_tree = out_tree
        self.compiled = BACKENDS[backend](graph, device)

    def __call__(self, leaves):
        outputs = self.compiled(*array_inputs(leaves))
        return pytree.unflatten(self.out_tree, list(outputs))


class Transformed:
    """A user function wrapped by a transformation; callable like the original."""

    def __init__(self, fn, build, backend="numba", kind="jit", device="cpu"):
        functools.update_wrapper(self, fn, updated=())
        self.fn = fn
        self.build = build          # (graph, args as tracers) -> output pytree of tracers
        self.backend = backend
        self.device = check_device(device)   # "cpu" or "cuda": where the compiled code runs
        self.kind = kind            # the transformation's name, for compile logs
        self.cache = {}

    def __call__(self, *args):
        leaves, treedef = pytree.flatten(args)
        if find_graph(leaves) is not None:
            return self.build(*args)
        outer = current_graph()
        if outer is not None:
            # Called with concrete values while another function is traced (e.g. an inner
            # grad whose function closes over the outer variables): its nodes join the outer
            # graph, with the concrete arguments as constants.
            return self.build(*pytree.unflatten(treedef, [lift_leaf(outer, leaf) for leaf in leaves]))
        key = (treedef, tuple(leaf_signature(leaf) for leaf in leaves))
        staged = self.cache.get(key)
        if staged is None:
            self._log_compile(args, key)
            staged = self.cache[key] = self.stage(args)
        return staged(leaves)

    def _log_compile(self, args, key):
        """Say why this compiles (``SYMGRAD_LOG_COMPILES=1``); warn if it keeps compiling."""
        from symgrad.compiler.compile_log import history_for, log_compile
        history = history_for(self.kind, self.fn)
        reason = history.record(argument_names(self.fn, args), key[1], key[0],
                                warn=self.backend != "reference")
        log_compile(self.kind, getattr(self.fn, "__name__", "fn"), reason)

    def trace(self, *args):
        """The graph this transformation compiles for ``args`` (forward, or with gradients)."""
        graph = Graph(getattr(self.fn, "__name__", "fn"))
        leaves, treedef = pytree.flatten(args)
        tracers = add_argument_inputs(graph, leaves, argument_names(self.fn, args))
        with tracing_into(graph):
            out = self.build(*pytree.unflatten(treedef, tracers))
        out_leaves, out_tree = pytree.flatten(out)
        set_outputs(graph, out_leaves)
        graph.out_tree = out_tree
        return graph

    def stage(self, args):
        graph = self.trace(*args)
        return Staged(graph, graph.out_tree, self.backend, self.device)

    def compiled(self, *args):
        """The compiled object for ``args`` (its ``.source`` is the generated code)."""
        leaves, treedef = pytree.flatten(args)
        self(*args)
        return self.cache[(treedef, tuple(leaf_signature(leaf) for leaf in leaves))].compiled


def reused(transformation):
    """Transforming the same function the same way twice gives back the first result, with
    its compiled cache: ``sg.value_and_grad(loss)`` written inside a training step compiles
    once, not once per step. (As with jax.jit, globals the function reads are captured when
    it is first traced.)"""
    @functools.wraps(transformation)
    def cached(fn=None, *args, **options):
        if fn is None:
            return transformation(fn, *args, **options)
        key = (transformation.__name__, args, tuple(sorted(options.items())))
        try:
            store = fn.__dict__.setdefault("_symgrad_transformations", {})
            hash(key)
        except (AttributeError, TypeError):     # no __dict__ (bound methods), unhashable args
            return transformation(fn, *args, **options)
        if key not in store:
            store[key] = transformation(fn, *args, **options)
        return store[key]
    return cached


@reused
def jit(fn=None, *, backend="numba", device="cpu"):
    """Compile ``fn``'s forward computation (traced once per signature). ``device="cuda"``
    compiles it into CUDA kernels instead (symgrad.compiler.cuda.lowering; so do ``grad``,
    ``value_and_grad`` and ``vjp``): arrays in and out are numpy arrays.

    >>> import numpy as np, symgrad as sg
    >>> sg.jit(lambda x: np.maximum(x, 0).sum())(np.array([-1.0, 2.0]))
    array(2.)
    """
    if fn is None:
        return functools.partial(jit, backend=backend, device=device)
    return Transformed(fn, fn, backend, kind="jit", device=device)


def _normalize_argnums(fn, argnums, args):
    many = not isinstance(argnums, int)
    positions = tuple(argnums) if many else (argnums,)
    for position in positions:
        if not -len(args) <= position < len(args):
            raise TracingError(f"argnums={argnums!r} is out of range: "
                               f"{getattr(fn, '__name__', 'the function')} was called with "
                               f"{len(args)} positional argument(s)")
    return tuple(p % len(args) for p in positions), many


def _fresh_differentiable(fn, graph, args, positions):
    """Copy each differentiated leaf into a fresh node so it is a variable of its own."""
    args = list(args)
    for position in positions:
        leaves, treedef = pytree.flatten(args[position])
        fresh = []
        for path, leaf in zip(pytree.leaf_paths(args[position]), leaves):
            dtype = leaf.dtype if isinstance(leaf, Tracer) else np.asarray(leaf).dtype
            if not is_differentiable(dtype) or isinstance(leaf, bool):
                raise TracingError(
                    f"cannot differentiate {getattr(fn, '__name__', 'the function')} with respect "
                    f"to argument {position}{path} of dtype {dtype.name}: only floating-point "
                    "arguments have gradients (convert with .astype(np.float64) or leave it "
                    "out of argnums)")
            fresh.append(identity(leaf if isinstance(leaf, Tracer) else constant(graph, leaf)))
        args[position] = pytree.unflatten(treedef, fresh)
    return args


def _scalar_output(fn, out):
    if not isinstance(out, Tracer):
        raise TracingError(f"grad: {getattr(fn, '__name__', 'the function')} must return a "
                           f"scalar array, got {type(out).__name__}")
    if out.shape != () and out.size != 1 or not is_differentiable(out.dtype):
        raise TracingError(
            f"grad: {getattr(fn, '__name__', 'the function')} must return a scalar float, got "
            f"an output of shape {list(out.shape)} and dtype {out.dtype.name}; use sg.vjp(f, "
            "*args) and pull back a seed of that shape for non-scalar outputs")
    return reshape(out, ()) if out.shape != () else out


@reused
def value_and_grad(fn=None, argnums=0, has_aux=False, *, backend="numba", device="cpu"):
    """Like JAX: ``(value, gradient)``; the gradient has the structure of ``args[argnums]``.

    >>> import numpy as np, symgrad as sg
    >>> value, gradient = sg.value_and_grad(lambda x: (x * x).sum())(np.array([3.0]))
    >>> float(value), gradient
    (9.0, array([6.]))
    """
    if fn is None:
        return functools.partial(value_and_grad, argnums=argnums, has_aux=has_aux, backend=backend,
                                 device=device)

    def build(*args):
        positions, many = _normalize_argnums(fn, argnums, args)
        graph = find_graph(pytree.flatten(args)[0])
        since = graph._next_id
        args = _fresh_differentiable(fn, graph, args, positions)
        # The variables, taken before fn runs: `a[:2] = v` inside fn rebinds the tracer `a`
        # to the set-item node, but the gradient is with respect to the argument as passed.
        trees = [pytree.flatten(args[position]) for position in positions]
        wrt = [leaf.node for leaves, _ in trees for leaf in leaves]
        out = fn(*args)
        if has_aux:
            if not (isinstance(out, (tuple, list)) and len(out) == 2):
                raise TracingError("has_aux=True: the function must return a pair (output, aux)")
            out, aux = out
        out = _scalar_output(fn, out)
        seed = constant(graph, np.ones((), out.dtype))
        flat_grads = iter(backward(graph, {out.node: seed}, wrt, since))
        grads = [pytree.unflatten(treedef, [next(flat_grads) for _ in leaves])
                 for leaves, treedef in trees]
        grads = tuple(grads) if many else grads[0]
        return ((out, aux), grads) if has_aux else (out, grads)

    return Transformed(fn, build, backend, kind="value_and_grad", device=device)


@reused
def grad(fn=None, argnums=0, has_aux=False, *, backend="numba", device="cpu"):
    """The gradient of a scalar function, as a function (``@sg.grad`` works as a decorator).

    >>> import numpy as np, symgrad as sg
    >>> sg.grad(lambda w, x: np.sum(x @ w), argnums=0)(np.ones(2), np.ones((3, 2)))
    array([3., 3.])
    """
    if fn is None:
        return functools.partial(grad, argnums=argnums, has_aux=has_aux, backend=backend,
                                 device=device)
    with_value = value_and_grad(fn, argnums, has_aux, backend=backend, device=device)

    def build(*args):
        value, grads = with_value.build(*args)
        return (grads, value[1]) if has_aux else grads

    return Transformed(fn, build, backend, kind="grad", device=device)


def _check_cotangents(out_leaves, cotangents):
    leaves, _ = pytree.flatten(cotangents)
    if len(leaves) != len(out_leaves):
        raise TracingError(f"vjp: the function has {len(out_leaves)} output(s), the pullback "
                           f"got {len(leaves)} cotangent(s)")
    for out, cotangent in zip(out_leaves, leaves):
        shape = cotangent.shape if isinstance(cotangent, Tracer) else np.shape(cotangent)
        if tuple(shape) != out.shape:
            raise TracingError(f"vjp: cotangent of shape {list(shape)} does not match the "
                               f"output of shape {list(out.shape)}")
    return leaves


def _pullback_builder(fn, has_aux):
    def build(primals, cotangents):
        graph = find_graph(pytree.flatten((primals, cotangents))[0])
        since = graph._next_id
        leaves, treedef = pytree.flatten(primals)
        fresh = [identity(leaf if isinstance(leaf, Tracer) else constant(graph, leaf))
                 for leaf in leaves]
        # Taken before fn runs, which may rebind a tracer by `a[:2] = v`.
        wrt = [leaf.node for leaf in fresh if is_differentiable(leaf.dtype)]
        out = fn(*pytree.unflatten(treedef, fresh))
        out_leaves, _ = pytree.flatten(out[0] if has_aux else out)
        out_leaves = [leaf if isinstance(leaf, Tracer) else constant(graph, leaf) for leaf in out_leaves]
        seeds = {}
        for out_leaf, cotangent in zip(out_leaves, _check_cotangents(out_leaves, cotangents)):
            seed = cotangent if isinstance(cotangent, Tracer) else constant(graph, cotangent)
            seed = seed.astype(out_leaf.dtype)
            seeds[out_leaf.node] = seeds[out_leaf.node] + seed if out_leaf.node in seeds else seed
        grads = iter(backward(graph, seeds, wrt, since))
        return pytree.unflatten(treedef, [next(grads) if is_differentiable(leaf.dtype)
                                          else constant(graph, np.zeros(leaf.shape, leaf.dtype))
                                          for leaf in fresh])
    return build


_VJP_CACHE = {}


def vjp(fn, *primals, has_aux=False, backend="numba", device="cpu"):
    """``(outputs, pullback)``: ``pullback(cotangents)`` returns one gradient per primal.

    >>> import numpy as np, symgrad as sg
    >>> out, pullback = sg.vjp(lambda x: x * x, np.array([1.0, 2.0]))
    >>> pullback(np.array([1.0, 10.0]))
    (array([ 2., 40.]),)
    """
    forward, pull = _VJP_CACHE.get((fn, has_aux, backend, device), (None, None))
    if forward is None:
        forward = Transformed(fn, fn, backend, kind="vjp", device=device)
        pull = Transformed(fn, _pullback_builder(fn, has_aux), backend, kind="vjp pullback",
                           device=device)
        _VJP_CACHE[(fn, has_aux, backend, device)] = (forward, pull)
    out = forward(*primals)

    def pullback(cotangents):
        return pull(primals, cotangents)

    return (out[0], pullback, out[1]) if has_aux else (out, pullback)
