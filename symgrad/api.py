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

import symgrad.core.tracer_faces  # noqa: F401  (tracers trace numpy code)
import symgrad.core.pytree as pytree
from symgrad.core.bounded_cache import BoundedCache
from symgrad.core.reverse_mode import backward, is_differentiable
from symgrad.core.compile_log import history_for, log_compile
from symgrad.core.errors import TracingMemoryError, TracingTypeError, TracingValueError
from symgrad.core.graph import Graph
from symgrad.core.interpreter import evaluate
from symgrad.core.ops.elementwise import identity
from symgrad.core.ops.shape import reshape
from symgrad.core.source_info import describe_location
from symgrad.static_arguments import StaticSpec, unwrapped
from symgrad.core.tracing import (Tracer, add_argument_inputs, argument_names, check_live, constant,
                             current_graph, error_here, find_graph, flatten_outputs,
                             is_array_leaf, is_immutable, set_outputs, tracing_into)


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
    """``device`` if the compiler has a code generator for it (symgrad.compiler.GRAPH_COMPILERS);
    "cpu" without importing the backend, so the reference backend runs without numba."""
    if device == "cpu":
        return device
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
    return Tracer(graph, constant(graph, leaf).node, immutable=is_immutable(leaf))


def array_inputs(leaves):
    return [leaf for leaf in leaves if is_array_leaf(leaf)]


def _size_text(num_bytes):
    """``7.00 TiB``: a size as numpy's MemoryError writes it (binary units, 3 digits)."""
    units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
    unit = min(max(num_bytes.bit_length() - 1, 1) // 10, len(units) - 1)
    value = num_bytes / (1 << (10 * unit))
    if round(value) == 1024 and unit + 1 < len(units):     # 1023.9 MiB reads 1.00 GiB
        unit, value = unit + 1, value / 1024
    return f"{value:#.3g} {units[unit]}" if round(value) < 1000 else f"{value:#.0f} {units[unit]}"


def physical_memory():
    """Bytes of memory on this machine (None where the OS does not say)."""
    import os
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def check_output_sizes(graph):
    """numpy's MemoryError, before compiling, for an output larger than this machine's
    memory (a broadcast to a huge shape): the compiled code would only fail allocating it."""
    memory = physical_memory()
    if memory is None:
        return
    for node in graph.outputs:
        attrs = graph[node]
        itemsize = np.dtype(attrs["dtype"]).itemsize
        num_bytes = int(np.prod(attrs["shape"], dtype=object)) * itemsize
        if num_bytes > memory:
            raise TracingMemoryError(
                f"Unable to allocate {_size_text(num_bytes)} for an array with shape "
                f"{attrs['shape']} and data type {attrs['dtype']}: an output of "
                f"{graph.name!r} is larger than this machine's memory "
                f"({_size_text(memory)})" + describe_location(attrs.get("source", "")))


class Staged:
    """A traced-and-compiled function for one input signature."""

    def __init__(self, graph, out_tree, backend, device="cpu"):
        self.graph = graph
        self.out_tree = out_tree
        check_output_sizes(graph)
        self.compiled = BACKENDS[backend](graph, device)

    def __call__(self, leaves):
        outputs = self.compiled(*array_inputs(leaves))
        return pytree.unflatten(self.out_tree, list(outputs))


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
_TRANSFORMED = BoundedCache(TRANSFORMED_SIZE)


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
        return _TRANSFORMED.get_or_make(key, lambda: transformation(fn, *args, **options))
    return cached


@reused
def jit(fn=None, *, backend="numba", device="cpu", static_argnums=(), static_argnames=()):
    """Compile ``fn``'s forward computation (traced once per signature). ``device="cuda"``
    compiles it into CUDA kernels instead (symgrad.compiler.cuda.lowering; so do ``grad``,
    ``value_and_grad`` and ``vjp``): arrays in and out are numpy arrays.

    >>> import numpy as np, symgrad as sg
    >>> sg.jit(lambda x: np.maximum(x, 0).sum())(np.array([-1.0, 2.0]))
    array(2.)
    """
    if fn is None:
        return functools.partial(jit, backend=backend, device=device,
                                 static_argnums=static_argnums, static_argnames=static_argnames)
    return Transformed(fn, fn, backend, kind="jit", device=device,
                       static=StaticSpec.of(static_argnums, static_argnames))


def _check_argnums(argnums):
    """A TypeError at the user's line unless ``argnums`` is an int or a tuple of ints."""
    positions = argnums if isinstance(argnums, (tuple, list)) else (argnums,)
    for position in positions:
        if isinstance(position, bool) or not isinstance(position, (int, np.integer)):
            raise error_here(f"argnums must be an int or a tuple of ints (positions of the "
                             f"arguments to differentiate), got argnums={argnums!r} of type "
                             f"{type(argnums).__name__}", TracingTypeError)


def _normalize_argnums(fn, argnums, args):
    many = isinstance(argnums, (tuple, list))
    positions = tuple(argnums) if many else (argnums,)
    for position in positions:
        if not -len(args) <= position < len(args):
            raise error_here(f"argnums={argnums!r} is out of range: "
                             f"{getattr(fn, '__name__', 'the function')} was called with "
                             f"{len(args)} positional argument(s)", TracingValueError)
    return tuple(int(p) % len(args) for p in positions), many


def _variable(graph, leaf):
    """``leaf`` in a fresh node, a variable of its own to differentiate with respect to
    (mutable like the leaf: symgrad.core.views)."""
    value = identity(leaf if isinstance(leaf, Tracer) else constant(graph, leaf))
    return Tracer(graph, value.node, immutable=is_immutable(leaf))


def _fresh_differentiable(fn, graph, args, positions):
    """Copy each differentiated leaf into a fresh node so it is a variable of its own."""
    args = list(args)
    for position in positions:
        leaves, treedef = pytree.flatten(args[position])
        fresh = []
        for path, leaf in zip(pytree.leaf_paths(args[position]), leaves):
            dtype = leaf.dtype if isinstance(leaf, Tracer) else np.asarray(leaf).dtype
            if not is_differentiable(dtype) or isinstance(leaf, bool):
                raise error_here(
                    f"cannot differentiate {getattr(fn, '__name__', 'the function')} with respect "
                    f"to argument {position}{path} of dtype {dtype.name}: only floating-point "
                    "arguments have gradients (convert with .astype(np.float64) or leave it "
                    "out of argnums)")
            fresh.append(_variable(graph, leaf))
        args[position] = pytree.unflatten(treedef, fresh)
    return args


def _scalar_output(fn, out):
    if not isinstance(out, Tracer):
        raise error_here(f"grad: {getattr(fn, '__name__', 'the function')} must return a "
                         f"scalar array, got {type(out).__name__}")
    if out.shape != () and out.size != 1 or not is_differentiable(out.dtype):
        raise error_here(
            f"grad: {getattr(fn, '__name__', 'the function')} must return a scalar float, got "
            f"an output of shape {list(out.shape)} and dtype {out.dtype.name}; use sg.vjp(f, "
            "*args) and pull back a seed of that shape for non-scalar outputs")
    return reshape(out, ()) if out.shape != () else out


def _split_aux(fn, out):
    """``(output, aux)`` of a has_aux function; aux is any pytree (strings stay as they are)."""
    if not (isinstance(out, (tuple, list)) and len(out) == 2):
        got = f"a {type(out).__name__} of length {len(out)}" if isinstance(out, (tuple, list)) \
            else type(out).__name__
        raise error_here(f"has_aux=True: {getattr(fn, '__name__', 'the function')} must return a "
                         f"pair (output, aux), got {got}")
    return out


@reused
def value_and_grad(fn=None, argnums=0, has_aux=False, *, backend="numba", device="cpu",
                   static_argnums=(), static_argnames=()):
    """Like JAX: ``(value, gradient)``; the gradient has the structure of ``args[argnums]``.
    Keyword arguments pass through to ``fn`` and are not differentiated.

    >>> import numpy as np, symgrad as sg
    >>> value, gradient = sg.value_and_grad(lambda x: (x * x).sum())(np.array([3.0]))
    >>> float(value), gradient
    (9.0, array([6.]))
    """
    _check_argnums(argnums)
    if fn is None:
        return functools.partial(value_and_grad, argnums=argnums, has_aux=has_aux, backend=backend,
                                 device=device, static_argnums=static_argnums,
                                 static_argnames=static_argnames)

    def build(*args, **kwargs):
        positions, many = _normalize_argnums(fn, argnums, args)
        graph = find_graph(pytree.flatten((args, kwargs))[0]) or current_graph()
        since = graph._next_id
        args = _fresh_differentiable(fn, graph, args, positions)
        # The variables, taken before fn runs: `a[:2] = v` inside fn rebinds the tracer `a`
        # to the set-item node, but the gradient is with respect to the argument as passed.
        trees = [pytree.flatten(args[position]) for position in positions]
        wrt = [leaf.node for leaves, _ in trees for leaf in leaves]
        out = fn(*args, **kwargs)
        if has_aux:
            out, aux = _split_aux(fn, out)
        out = _scalar_output(fn, out)
        seed = constant(graph, np.ones((), out.dtype))
        flat_grads = iter(backward(graph, {out.node: seed}, wrt, since))
        grads = [pytree.unflatten(treedef, [next(flat_grads) for _ in leaves])
                 for leaves, treedef in trees]
        grads = tuple(grads) if many else grads[0]
        return ((out, aux), grads) if has_aux else (out, grads)

    return Transformed(fn, build, backend, kind="value_and_grad", device=device,
                       static=StaticSpec.of(static_argnums, static_argnames, argnums))


@reused
def grad(fn=None, argnums=0, has_aux=False, *, backend="numba", device="cpu", static_argnums=(),
         static_argnames=()):
    """The gradient of a scalar function, as a function (``@sg.grad`` works as a decorator).

    >>> import numpy as np, symgrad as sg
    >>> sg.grad(lambda w, x: np.sum(x @ w), argnums=0)(np.ones(2), np.ones((3, 2)))
    array([3., 3.])
    """
    _check_argnums(argnums)
    if fn is None:
        return functools.partial(grad, argnums=argnums, has_aux=has_aux, backend=backend,
                                 device=device, static_argnums=static_argnums,
                                 static_argnames=static_argnames)
    static = {"static_argnums": static_argnums, "static_argnames": static_argnames}
    with_value = value_and_grad(fn, argnums, has_aux, backend=backend, device=device, **static)

    def build(*args, **kwargs):
        value, grads = with_value.build(*args, **kwargs)
        return (grads, value[1]) if has_aux else grads

    return Transformed(fn, build, backend, kind="grad", device=device,
                       static=StaticSpec.of(static_argnums, static_argnames, argnums))


def _leaf_type(leaf):
    """``(shape, dtype)`` of a primal output or cotangent leaf; None for a Python number's."""
    if isinstance(leaf, (bool, int, float)) and not isinstance(leaf, np.generic):
        return (), None
    return tuple(np.shape(leaf)), np.dtype(leaf.dtype if isinstance(leaf, Tracer) else
                                           np.asarray(leaf).dtype)


def _check_cotangents(out, cotangents):
    """A TracingError at the pullback's call unless ``cotangents`` has the structure of the
    outputs, with a float leaf of each output's shape (JAX's rules; a float cotangent of
    another precision is cast)."""
    out_leaves, out_tree = pytree.flatten(out)
    leaves, tree = pytree.flatten(cotangents)
    if tree != out_tree:
        raise error_here(f"vjp: the pullback got cotangents of tree structure {tree}, which "
                         f"does not match the structure of the function's output {out_tree}",
                         TracingTypeError)
    for path, primal, cotangent in zip(pytree.leaf_paths(out), out_leaves, leaves):
        (shape, dtype), (out_shape, out_dtype) = _leaf_type(cotangent), _leaf_type(primal)
        where = f" for output {path}" if path else ""
        dtype_name, out_dtype_name = (d.name if d else "Python scalar" for d in (dtype, out_dtype))
        if shape != out_shape:
            raise error_here(f"vjp: cotangent{where} of shape {list(shape)} does not match the "
                             f"output of shape {list(out_shape)} (cotangent dtype {dtype_name}, "
                             f"output dtype {out_dtype_name})", TracingValueError)
        if (out_dtype is None or out_dtype.kind == "f") and dtype is not None and dtype.kind != "f":
            raise error_here(f"vjp: cotangent{where} of dtype {dtype_name} does not match the "
                             f"output of dtype {out_dtype_name} (shape {list(shape)}): pass a "
                             "float cotangent", TracingTypeError)


def _pullback_builder(fn, has_aux):
    def build(primals, cotangents):
        graph = find_graph(pytree.flatten((primals, cotangents))[0]) or current_graph()
        since = graph._next_id
        leaves, treedef = pytree.flatten(primals)
        fresh = [_variable(graph, leaf) for leaf in leaves]
        # Taken before fn runs, which may rebind a tracer by `a[:2] = v`.
        wrt = [leaf.node for leaf in fresh if is_differentiable(leaf.dtype)]
        out = fn(*pytree.unflatten(treedef, fresh))
        out_leaves, _ = pytree.flatten(_split_aux(fn, out)[0] if has_aux else out)
        out_leaves = [leaf if isinstance(leaf, Tracer) else constant(graph, leaf) for leaf in out_leaves]
        seeds = {}
        for out_leaf, cotangent in zip(out_leaves, pytree.flatten(cotangents)[0]):
            seed = cotangent if isinstance(cotangent, Tracer) else constant(graph, cotangent)
            seed = seed.astype(out_leaf.dtype)
            seeds[out_leaf.node] = seeds[out_leaf.node] + seed if out_leaf.node in seeds else seed
        grads = iter(backward(graph, seeds, wrt, since))
        return pytree.unflatten(treedef, [next(grads) if is_differentiable(leaf.dtype)
                                          else constant(graph, np.zeros(leaf.shape, leaf.dtype))
                                          for leaf in fresh])
    return build


def vjp(fn, *primals, has_aux=False, backend="numba", device="cpu"):
    """``(outputs, pullback)``: ``pullback(cotangents)`` returns one gradient per primal.

    >>> import numpy as np, symgrad as sg
    >>> out, pullback = sg.vjp(lambda x: x * x, np.array([1.0, 2.0]))
    >>> pullback(np.array([1.0, 10.0]))
    (array([ 2., 40.]),)
    """
    def make():
        return (Transformed(fn, fn, backend, kind="vjp", device=device),
                Transformed(fn, _pullback_builder(fn, has_aux), backend, kind="vjp pullback",
                            device=device))
    forward, pull = _TRANSFORMED.get_or_make((fn, "vjp", has_aux, backend, device), make)
    out = forward(*primals)
    if has_aux:
        out, aux = _split_aux(fn, out)

    def pullback(cotangents):
        _check_cotangents(out, cotangents)
        return pull(primals, cotangents)

    return (out, pullback, aux) if has_aux else (out, pullback)
