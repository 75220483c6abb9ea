"""What every transformation shares: a function traced once per input signature (shapes,
dtypes, pytree structure), its graph compiled by a backend and cached (:class:`Transformed`),
and the bounded cache that gives back the same transformation of the same function
(:func:`reused`)."""
import functools
import inspect
import os

import numpy as np

import symgrad.core.pytree as pytree
from symgrad.core.bounded_cache import BoundedCache
from symgrad.core.compile_log import history_for, log_compile
from symgrad.core.graph import Graph
from symgrad.core.interpreter import evaluate
from symgrad.core.tracing import Tracer, check_live, constant, current_graph, tracing_into
from symgrad.core.trace_function import (add_argument_inputs, argument_names, flatten_outputs,
                                         is_array_leaf, is_immutable, set_outputs)
from symgrad.output_sizes import check_output_sizes
from symgrad.tiers import TieredGraph, tiered
from symgrad.static_arguments import StaticSpec, unwrapped


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
    """``device`` if the compiler has a wing for it (symgrad.compiler.WINGS);
    "cpu" without importing the backend, so the reference backend runs without numba."""
    if device == "cpu":
        return device
    from symgrad.compiler import WINGS
    if device not in WINGS:
        raise ValueError(f"unknown device {device!r}: symgrad compiles for "
                         f"{', '.join(map(repr, WINGS))}")
    return device


def lift_leaf(graph, leaf):
    """A concrete array leaf as a constant of ``graph`` (Python scalars stay weakly typed);
    static leaves pass through."""
    if isinstance(leaf, Tracer) or not is_array_leaf(leaf):
        return leaf
    if isinstance(leaf, (bool, int, float)) and not isinstance(leaf, np.generic):
        return Tracer(graph, graph.add_constant(leaf, weak=True))
    return Tracer(graph, constant(graph, leaf).node, immutable=is_immutable(leaf))


def array_inputs(leaves):
    return [leaf for leaf in leaves if is_array_leaf(leaf)]


class Staged:
    """A traced-and-compiled function for one input signature."""

    def __init__(self, graph, out_tree, backend, device="cpu"):
        self.graph = graph
        self.out_tree = out_tree
        check_output_sizes(graph)
        # numba CPU code is made in the background while the interpreter answers
        self.run = tiered(graph, functools.partial(BACKENDS[backend], graph, device),
                          has_tier=BACKENDS[backend] is compile_numba and device == "cpu",
                          child=("symgrad.compiler", "compile_graph", (graph, device)))

    @property
    def compiled(self):
        """The compiled callable (``.source``), waiting for a background compile."""
        return self.run.compiled() if isinstance(self.run, TieredGraph) else self.run

    def __call__(self, leaves):
        outputs = self.run(*array_inputs(leaves))
        return pytree.unflatten(self.out_tree, list(outputs))


def function_label(fn):
    """``loss (w1.py:12)``: a function's qualified name and where it is defined."""
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)
    code = getattr(inspect.unwrap(fn), "__code__", None)
    if code is None:
        return name
    return f"{name} ({os.path.basename(code.co_filename)}:{code.co_firstlineno})"


def signature_key(leaves, treedef):
    """The cache key of a call with concrete ``leaves``: the pytree structure and which
    leaves are numpy scalars (immutable, unlike 0-d arrays: symgrad.core.views), then each
    leaf's signature."""
    scalars = tuple(i for i, leaf in enumerate(leaves) if isinstance(leaf, np.generic))
    return (treedef, scalars), tuple(leaf_signature(leaf) for leaf in leaves)


class Transformed:
    """A user function wrapped by a transformation; callable like the original. Keyword
    arguments are traced like positional ones (never differentiated: argnums counts
    positional arguments), as in JAX."""

    def __init__(self, fn, build, backend="numba", kind="jit", device="cpu", static=StaticSpec()):
        functools.update_wrapper(self, fn, updated=())
        self.fn = fn
        self.static = static        # which arguments are static (symgrad.static_arguments)
        self.build = unwrapped(build)   # (*args as tracers, **kwargs) -> pytree of tracers
        self.backend = backend
        self.device = check_device(device)   # "cpu" or "cuda": where the compiled code runs
        self.kind = kind            # the transformation's name, for compile logs
        self.cache = {}

    def __repr__(self):
        """``<symgrad.grad of loss (examples/w1.py:12)>``: the transformation and its function."""
        return f"<symgrad.{self.kind} of {function_label(self.fn)}>"

    def __call__(self, *args, **kwargs):
        args, kwargs = self.static.mark(self.fn, args, kwargs)
        leaves, treedef = pytree.flatten((args, kwargs))
        traced = [leaf for leaf in leaves if isinstance(leaf, Tracer)]
        if traced:
            for leaf in traced:
                check_live(leaf)
            return self.build(*args, **kwargs)
        outer = current_graph()
        if outer is not None:
            # Called with concrete values while another function is traced (e.g. an inner
            # grad whose function closes over the outer variables): its nodes join the outer
            # graph, with the concrete arguments as constants.
            args, kwargs = pytree.unflatten(treedef, [lift_leaf(outer, leaf) for leaf in leaves])
            return self.build(*args, **kwargs)
        key = signature_key(leaves, treedef)
        staged = self.cache.get(key)
        if staged is None:
            self._log_compile(args, kwargs, key)
            staged = self.cache[key] = self.stage(args, kwargs)
        return staged(leaves)

    def _log_compile(self, args, kwargs, key):
        """Say why this compiles (``SYMGRAD_LOG_COMPILES=1``); warn if it keeps compiling."""
        history = history_for(self.kind, self.fn)
        reason = history.record(argument_names(self.fn, args, kwargs), key[1], key[0],
                                warn=self.backend != "reference")
        log_compile(self.kind, getattr(self.fn, "__name__", "fn"), reason)

    def trace(self, *args, **kwargs):
        """The graph this transformation compiles for ``args`` (forward, or with gradients)."""
        graph = Graph(getattr(self.fn, "__name__", "fn"))
        args, kwargs = self.static.mark(self.fn, args, kwargs)
        leaves, treedef = pytree.flatten((args, kwargs))
        tracers = add_argument_inputs(graph, leaves, argument_names(self.fn, args, kwargs))
        with tracing_into(graph):
            args, kwargs = pytree.unflatten(treedef, tracers)
            out_leaves, graph.out_tree = flatten_outputs(self.build(*args, **kwargs))
            set_outputs(graph, out_leaves)
        return graph

    def stage(self, args, kwargs):
        graph = self.trace(*args, **kwargs)
        return Staged(graph, graph.out_tree, self.backend, self.device)

    def compiled(self, *args, **kwargs):
        """The compiled object for ``args`` (its ``.source`` is the generated code)."""
        self(*args, **kwargs)
        args, kwargs = self.static.mark(self.fn, args, kwargs)
        return self.cache[signature_key(*pytree.flatten((args, kwargs)))].compiled


# The transformations of the last TRANSFORMED_SIZE functions used (bounded: a program that
# transforms a new lambda per call keeps a bounded number alive).
TRANSFORMED_SIZE = 256
TRANSFORMED = BoundedCache(TRANSFORMED_SIZE)


def reused(transformation):
    """Transforming the same function the same way twice gives back the first result, with
    its compiled cache: ``sg.value_and_grad(loss)`` written inside a training step compiles
    once, not once per step. (As with jax.jit, globals the function reads are captured when
    it is first traced.)"""
    @functools.wraps(transformation)
    def cached(fn=None, *args, **options):
        if fn is None:
            return transformation(fn, *args, **options)
        key = (fn, transformation.__name__, args, tuple(sorted(options.items())))
        try:
            hash(key)
        except TypeError:           # unhashable args (or function)
            return transformation(fn, *args, **options)
        return TRANSFORMED.get_or_make(key, lambda: transformation(fn, *args, **options))
    return cached
