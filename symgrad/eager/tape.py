"""The eager autograd tape: backward nodes, and ``backward`` as a compiled gradient graph.

A backward pass walks the recorded nodes from the output, computes a structural key (which
functions, static params, shapes, dtypes, wiring, and the types of constant operands, not
their values), and looks up a compiled gradient function under it. On a miss it replays the
tape with tracers into a Graph, differentiates it with :func:`symgrad.core.reverse_mode.backward`,
feeds the eagerly computed intermediate values and the constant operands in as inputs (so
the forward is not recomputed, and a changing Python scalar compiles once) and compiles it.
"""
import functools

import numpy as np

import symgrad.core.reverse_mode as autodiff
import symgrad.core.ops as ops
from symgrad.core.bounded_cache import BoundedCache
from symgrad.core.compile_log import log_compile, log_eviction
from symgrad.core.graph import Graph, freeze
from symgrad.eager.grad_mode import no_grad
from symgrad.core.tracing import Tracer, constant
from symgrad.tiers import TieredGraph, tiered

# The backward functions of the last TAPE_CACHE_SIZE tape structures used, least recently
# used first: a program whose tapes keep changing (a shape per step) holds a bounded number.
TAPE_CACHE_SIZE = 256


def log_evicted_backward(_key, evicted):
    """The tape cache's ``on_evict``: which backward left it (``SYMGRAD_LOG_COMPILES=1``)."""
    compiled = "compiled" if evicted.compiled is not None else "not compiled"
    log_eviction(f"eager backward {evicted.graph.name} ({len(evicted.graph)} nodes, {compiled})",
                 "tape cache", f"{_COMPILED.size} tape structures (TAPE_CACHE_SIZE)")


_COMPILED = BoundedCache(TAPE_CACHE_SIZE, on_evict=log_evicted_backward)


class AccumulateGrad:
    """The ``grad_fn``-like node of a leaf that requires grad (for ``next_functions``)."""

    def __init__(self, variable):
        self.variable = variable
        self.next_functions = ()

    def name(self):
        return "AccumulateGrad"

    def __repr__(self):
        return f"<AccumulateGrad object at {id(self):#x}>"


class BackwardNode:
    """One recorded op: the symgrad function that computed ``output`` from ``args``."""

    def __init__(self, name, function, static, args, output, tensors):
        self._name = name
        self.function = function
        self.static = static
        self.args = args
        self.output = output
        self._tensors = list(tensors)   # the args that are tensors, handed in by the caller
        self.versions = [a._version for a in self._tensors]
        self.freed = False

    def tensors(self):
        """The args that are tensors (the rest are constants), in order."""
        return self._tensors

    def name(self):
        return self._name

    @property
    def next_functions(self):
        return tuple((t.grad_fn if t.grad_fn is not None else
                      AccumulateGrad(t) if t.requires_grad else None, 0) for t in self.tensors())

    def __repr__(self):
        return f"<{self._name} object at {id(self):#x}>"

    def key(self):
        return (self._name, self.function, freeze(self.static))

    def replay(self, values, output_value):
        """The output as a tracer, given the args (tracers or constants) and the tracer that
        holds the eagerly computed output (custom functions use it)."""
        return self.function(*values, **self.static)


@functools.cache
def node_type(name):
    """The BackwardNode subclass called ``name``, so that ``type(loss.grad_fn).__name__`` is
    PyTorch's node name (``MseLossBackward0``), as programs that walk the graph print it."""
    return type(name, (BackwardNode,), {"__doc__": f"A recorded {name} node."})


class Tape:
    """The recorded computation behind ``root``: its nodes, a table of every tensor, and the
    constants fed to the gradient graph as inputs."""

    def __init__(self, root):
        self.nodes = _topological(root)
        self.tensors = []            # every tensor read or produced, in first-seen order
        self.index = {}
        self.fed = []                # constant operands the gradient graph takes as inputs
        self.refs = []               # per node, where each of its args comes from
        for node in self.nodes:
            for tensor in node.tensors():
                self._add(tensor)
            self._add(node.output)
            self.refs.append(tuple(self._ref(node, position, arg)
                                   for position, arg in enumerate(node.args)))

    def _add(self, tensor):
        if id(tensor) not in self.index:
            self.index[id(tensor)] = len(self.tensors)
            self.tensors.append(tensor)

    def _ref(self, node, position, arg):
        """("t", tensor index), ("f", fed index, type) or ("c", type, value): how the key
        and the replay see one arg."""
        if id(arg) in self.index and hasattr(arg, "_version"):
            return ("t", self.index[id(arg)])
        signature = fed_signature(node.function, position, arg)
        if signature is None:
            return ("c", type(arg).__name__, freeze(arg))
        self.fed.append(arg)
        return ("f", len(self.fed) - 1, signature)

    def key(self, wrt, seed_shape):
        parts = [tuple((t._value.shape, t._value.dtype, t.grad_fn is None) for t in self.tensors)]
        for node, refs in zip(self.nodes, self.refs):
            parts.append((node.key(), refs, self.index[id(node.output)]))
        parts.append(tuple(self.index[id(t)] for t in wrt))
        parts.append(seed_shape)
        return tuple(parts)

    def check(self):
        for node in self.nodes:
            if node.freed:
                raise RuntimeError(
                    "Trying to backward through the graph a second time (or directly access saved "
                    "tensors after they have already been freed). Specify retain_graph=True if you "
                    "need to backward through the graph a second time.")
            for tensor, version in zip(node.tensors(), node.versions):
                if tensor._version != version:
                    raise RuntimeError(
                        f"one of the variables needed for gradient computation has been modified "
                        f"by an inplace operation: tensor of shape {list(tensor.shape)} is at "
                        f"version {tensor._version}; expected version {version} instead "
                        f"(it was used by {node.name()})")


# Constant operands keyed by value: an exponent picks the code (``x ** 2`` is ``x * x``).
KEYED_BY_VALUE = {(ops.power, 1)}


def fed_signature(function, position, arg):
    """What the key holds for a constant operand fed to the gradient graph as an input: the
    type of a Python scalar (weakly typed, as numpy treats it), the shape and dtype of an
    array or numpy scalar; None for a constant keyed by its value. A loss scaled by
    ``1 / (step + 1)`` so keeps one tape structure, and an ndarray operand works."""
    if (function, position) in KEYED_BY_VALUE and not isinstance(arg, np.ndarray):
        return None
    if isinstance(arg, (bool, int, float)) and not isinstance(arg, np.generic):
        fits = np.asarray(arg).dtype.kind in "biuf"        # not an int beyond int64
        return ("scalar", type(arg).__name__) if fits else None
    if isinstance(arg, (np.ndarray, np.generic)) and arg.dtype.kind in "biuf":
        return (arg.shape, arg.dtype.str)
    return None


def _topological(root):
    order, visited = [], set()
    stack = [(root.grad_fn, False)]
    while stack:
        node, expanded = stack.pop()
        if not isinstance(node, BackwardNode):
            continue
        if expanded:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        stack.extend((t.grad_fn, False) for t in node.tensors() if id(t.grad_fn) not in visited)
    return order


def build_gradient_graph(tape, root, wrt):
    """Replay the tape with tracers, differentiate, and read intermediates from inputs."""
    graph = Graph("backward")
    inputs = [Tracer(graph, graph.add_input(t.shape, t.dtype, name=f"t{i}"))
              for i, t in enumerate(tape.tensors)]
    fed = [_fed_input(graph, value, f"c{i}") for i, value in enumerate(tape.fed)]
    replayed = {}
    with no_grad():
        for node, refs in zip(tape.nodes, tape.refs):
            values = [replayed.get(id(a), inputs[ref[1]]) if ref[0] == "t" else
                      fed[ref[1]] if ref[0] == "f" else a for a, ref in zip(node.args, refs)]
            out = node.replay(values, inputs[tape.index[id(node.output)]])
            replayed[id(node.output)] = out if isinstance(out, Tracer) else constant(graph, out)
        seed = Tracer(graph, graph.add_input(root.shape, root.dtype, name="seed"))
        targets = [replayed.get(id(t), inputs[tape.index[id(t)]]).node for t in wrt]
        grads = autodiff.backward(graph, {replayed[id(root)].node: seed}, targets)
    graph.outputs = [g.node for g in grads]
    for node in tape.nodes:
        computed = replayed[id(node.output)].node
        if graph.op(computed) not in RECOMPUTED:
            graph.replace_uses(computed, inputs[tape.index[id(node.output)]].node)
    return graph


def _fed_input(graph, value, name):
    """The graph input a fed constant becomes (a Python scalar stays weakly typed)."""
    weak = not isinstance(value, (np.ndarray, np.generic))
    array = np.asarray(value)
    return Tracer(graph, graph.add_input(array.shape, array.dtype, name=name, weak=weak))


# Values the gradient graph recomputes rather than reads from its inputs: a transpose is a
# view there, while its eager value (``weight.t()`` in nn.Linear) is an F-ordered array
# that the compiled function would copy into a C-ordered one every call.
RECOMPUTED = {"input", "transpose"}


COMPILE_ON_USE = 2


class TieredBackward:
    """The backward pass of one tape structure. Its first use runs the gradient graph with
    the reference interpreter (numpy, op by op: no compile); use number ``COMPILE_ON_USE``
    compiles it, and the compiled function serves every later use. A backward that runs
    once (an interactive ``y.backward()``, or the eager first step of ``sg.train`` before
    the loop is compiled) so never waits for numba; a loop compiles on its second step, in
    the background unless ``SYMGRAD_COMPILE_IN_BACKGROUND=0`` (symgrad.tiers: uses stay
    interpreted until it is ready)."""

    def __init__(self, graph):
        self.graph = graph
        self.uses = 0
        self.compiled = None
        self.tier = None

    def __call__(self, *inputs):
        if self.compiled is None:
            self.uses += 1
            if self.uses < COMPILE_ON_USE:
                from symgrad.core.interpreter import evaluate
                return tuple(evaluate(self.graph, inputs))
            if self.tier is None:
                self.tier = self._compile()
            if isinstance(self.tier, TieredGraph) and not self.tier.ready:
                return self.tier(*inputs)
            self.compiled = getattr(self.tier, "built", self.tier)
        return self.compiled(*inputs)

    def _compile(self):
        log_compile("eager backward", f"{self.graph.name} ({len(self.graph)} nodes)",
                    f"a tape structure used {self.uses} times")

        def build():
            from symgrad.compiler import compile_graph
            return compile_graph(self.graph)
        return tiered(self.graph, build, child=("symgrad.compiler", "compile_graph", (self.graph,)))


def compiled_backward(tape, root, wrt):
    """The backward function of ``tape``'s structure, made once per structure (while it is
    one of the ``TAPE_CACHE_SIZE`` most recently used)."""
    return _COMPILED.get_or_make(tape.key(wrt, root.shape),
                                 lambda: TieredBackward(build_gradient_graph(tape, root, wrt)))


def _seed(root, gradient):
    if gradient is None:
        if root.numel() != 1:
            raise RuntimeError("grad can be implicitly created only for scalar outputs")
        return np.ones(root.shape, root.dtype)
    seed = np.asarray(getattr(gradient, "_value", gradient), root.dtype)
    if seed.shape != root.shape:
        raise RuntimeError(f"Mismatch in shape: grad_output[0] has a shape of {list(seed.shape)} "
                           f"and output[0] has a shape of {list(root.shape)}.")
    return seed


def gradients(root, gradient, inputs=None, retain_graph=False):
    """``(wrt, grads)``: d(root · gradient)/d(wrt) as new numpy arrays (nothing else refers to
    them); ``wrt`` is ``inputs`` or every leaf that requires grad."""
    if not root.requires_grad:
        raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
    seed = _seed(root, gradient)
    if root.grad_fn is None:
        wrt = [root] if inputs is None else list(inputs)
        return wrt, [np.array(seed) if t is root else np.zeros(t.shape, t.dtype) for t in wrt]
    tape = Tape(root)
    wrt = list(inputs) if inputs is not None else \
        [t for t in tape.tensors if t.grad_fn is None and t.requires_grad]
    if isinstance(root._value, Tracer):
        return wrt, traced_gradients(root, seed, wrt)
    for tensor in wrt:
        tape._add(tensor)
    tape.check()
    compiled = compiled_backward(tape, root, wrt)
    grads = compiled(*[t._value for t in tape.tensors], *tape.fed, seed)
    if not retain_graph:
        for node in tape.nodes:
            node.freed = True
    return wrt, list(grads)


def traced_gradients(root, seed, wrt):
    """Inside a compiled training step the values are tracers of one graph: add the
    gradient nodes to it directly (no tape replay, no compilation)."""
    from symgrad.core.errors import TracingError
    graph = root._value.graph
    for tensor in wrt:
        if not isinstance(tensor._value, Tracer) or tensor._value.graph is not graph:
            raise TracingError(
                f"a tensor of shape {list(tensor.shape)} requires grad but is not state of the "
                "compiled step: symgrad.training.loop carries the parameters of the modules and "
                "optimizers the step function refers to; reach this tensor through one of them")
    seed = constant(graph, seed)
    grads = autodiff.backward(graph, {root._value.node: seed}, [t._value.node for t in wrt])
    return grads
