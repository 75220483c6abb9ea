"""The CPU wing's host side: an optimized graph (symgrad.compiler.passes) lowered to a numba
module (symgrad.compiler.cpu.module, .training_loop), loaded from the disk cache, and the
callables around it: :class:`CompiledGraph` and :class:`CompiledLoop`."""
import contextlib
import functools

import numpy as np

from .blas_threads import (fit_blas_threads, fit_numba_threads, loop_blas_threads,
                           on_numba_threads, settle_blas_threads)
from ..disk_cache.store import load
from ..codegen.internal_error import generated_code_error
from . import module
from .threads import runs_on_numba_threads
from . import training_loop
from .workspace import Workspaces


def prepare():
    """Before the passes: BLAS threads as compiled code expects them (symgrad.compiler.cpu.
    blas_threads)."""
    settle_blas_threads()


def _first_call(owner, cached, diagnose):
    """``owner.function`` until its first call: then the argument types are known, the
    machine code is loaded from the disk cache or compiled (symgrad.compiler.disk_cache.store), and the numba
    dispatcher itself takes the place of this function. numba rejecting the generated code
    is symgrad's bug: ``diagnose(error, module file)`` makes the error that says so.
    ``first_call.prepare(arguments)`` does the same without running the code (from any
    thread: ``cached.prepare`` holds the entry's lock)."""
    def prepare(arguments):
        try:
            owner.function = cached.prepare(arguments)
        except Exception as error:
            from numba.core.errors import NumbaError
            if not isinstance(error, NumbaError):
                raise
            raise diagnose(error, cached.module.__file__) from error

    def first_call(*arguments):
        prepare(arguments)
        return owner.function(*arguments)
    first_call.cached = cached
    first_call.prepare = prepare
    return first_call


def _machine_code_pending(owner):
    """The ``prepare`` of ``owner``'s first call while its machine code is not loaded yet."""
    return getattr(owner.function, "prepare", None) if hasattr(owner.function, "cached") else None


def _load(generated, optimized, plan, function_name, graph, **kind):
    """``symgrad.compiler.disk_cache.store.load`` of a GeneratedModule, and the ``diagnose`` of its first
    call; Python rejecting the source is reported as symgrad's bug too."""
    diagnose = functools.partial(generated_code_error, generated, optimized, plan)
    try:
        return load(generated.source, function_name, graph, uncached=generated.uncached,
                    **kind), diagnose
    except SyntaxError as error:
        raise diagnose(error, error.filename or "") from error


class CompiledGraph:
    """A callable over the graph's inputs returning a tuple of its outputs."""

    def __init__(self, graph, optimized, source, function, constants, diagnose,
                 workspace_sizes=()):
        self.graph = graph
        self.optimized = optimized
        self.source = source
        self.function = _first_call(self, function, diagnose)
        self.constants = constants
        self.workspace_sizes = list(workspace_sizes)     # passed after the constants
        self.workspaces = Workspaces(self.workspace_sizes)
        self.input_types = [(graph[n]["shape"], np.dtype(graph[n]["dtype"])) for n in graph.inputs]
        # an input the optimized graph never reads gets an empty stand-in of its type, not a
        # C-ordered copy of its value (nn.Linear's weight.t() in a backward)
        self.stand_ins = {i: _stand_in(*types) for i, (node, types)
                          in enumerate(zip(optimized.inputs, self.input_types))
                          if not optimized.users(node) and node not in optimized.outputs}
        self.output_types = [(graph[n]["shape"], np.dtype(graph[n]["dtype"])) for n in graph.outputs]
        self.fit_threads = fit_numba_threads if runs_on_numba_threads(source) else fit_blas_threads

    @property
    def ready(self):
        """Whether the machine code is loaded (calls run it without compiling)."""
        return _machine_code_pending(self) is None

    def prepare(self, *inputs):
        """Load or compile the machine code for inputs like ``inputs`` without running it
        (symgrad.tiers calls it from a background thread)."""
        pending = _machine_code_pending(self)
        if pending is not None:
            workspaces = self.workspaces.take()
            pending(self._arguments(inputs) + list(self.constants) + list(workspaces))
            self.workspaces.give(workspaces)

    def _arguments(self, inputs):
        if len(inputs) != len(self.input_types):
            raise TypeError(f"{self.graph.name} takes {len(self.input_types)} inputs, got {len(inputs)}")
        return [self.stand_ins[i] if i in self.stand_ins
                else np.asarray(x, dtype)[()] if shape == () else np.ascontiguousarray(x, dtype)
                for i, (x, (shape, dtype)) in enumerate(zip(inputs, self.input_types))]

    def __call__(self, *inputs):
        arguments = self._arguments(inputs)
        self.fit_threads()
        workspaces = self.workspaces.take()
        try:
            results = self.function(*arguments, *self.constants, *workspaces)
        finally:
            self.workspaces.give(workspaces)
        return tuple(np.asarray(r, dtype) if shape == () else r
                     for r, (shape, dtype) in zip(results, self.output_types))


def _stand_in(shape, dtype):
    return dtype.type(0) if shape == () else np.empty((0,) * len(shape), dtype)


def constant_arguments(optimized, constant_nodes):
    """The constants the generated code takes as arguments: arrays C-ordered, whatever view
    the traced function captured (``arr.transpose(...)[:, :, 0]``), since the code reads
    them as C arrays (reshapes, flat loops, BLAS); 0-d ones as numpy scalars."""
    values = [optimized[n]["params"]["value"] for n in constant_nodes]
    return [value[()] if value.shape == () else np.ascontiguousarray(value) for value in values]


def compile_graph(graph, optimized):
    """``graph`` (optimized by the driver: a symgrad.compiler.passes.Optimized) as a
    :class:`CompiledGraph`."""
    generated = module.generate(optimized.graph, optimized.plan)
    cached, diagnose = _load(generated, optimized.graph, optimized.plan, "run", graph,
                             backend="numba-cpu", kind="graph")
    constants = constant_arguments(optimized.graph, generated.constant_nodes)
    return CompiledGraph(graph, optimized.graph, generated.source, cached, constants, diagnose,
                         generated.workspace_sizes)


class CompiledLoop:
    """A training loop over steps ``start .. start+count``: array state is updated in place,
    scalar state is passed as one-element arrays; ``progress[0]`` counts finished steps."""

    def __init__(self, graph, optimized, source, function, constants, in_place, diagnose):
        self.graph = graph
        self.optimized = optimized
        self.source = source
        self.function = _first_call(self, function, diagnose)
        self.constants = constants
        self.in_place = in_place
        # loops on numba's threads keep BLAS on one thread (symgrad.compiler.cpu.blas_threads); other
        # loops give BLAS every core
        self.blas_threads = on_numba_threads if runs_on_numba_threads(source) else loop_blas_threads

    @property
    def ready(self):
        """Whether the machine code is loaded (running steps compiles nothing)."""
        return _machine_code_pending(self) is None

    def prepare(self, state, data, order, batch_size, history, progress):
        """Load or compile the machine code for arguments like these without running a step
        (symgrad.training.tiered_loop calls it from a background thread)."""
        pending = _machine_code_pending(self)
        if pending is not None:
            pending((*state, *data, order, batch_size, 0, 0, history, progress, *self.constants))

    @contextlib.contextmanager
    def bound(self, state, data, order, batch_size, history, progress):
        """Yields ``run_steps(start, count)``, which runs those steps on these arrays (the
        same protocol as symgrad.compiler.cuda.training_loop.CudaTrainingLoop)."""
        def run_steps(start, count):
            self.function(*state, *data, order, batch_size, start, count, history, progress,
                          *self.constants)
        # once per run, not per chunk: setting BLAS threads scans the loaded libraries
        with self.blas_threads():
            yield run_steps


def compile_training_loop(graph, optimized, state_count, batching):
    """A step graph (optimized by the driver, new state in place) as a :class:`CompiledLoop`."""
    generated = training_loop.generate_loop(optimized.graph, optimized.plan, optimized.in_place,
                                            state_count, batching)
    cached, diagnose = _load(generated, optimized.graph, optimized.plan, "train_loop", graph,
                             backend="numba-cpu", kind="training_loop")
    constants = constant_arguments(optimized.graph, generated.constant_nodes)
    return CompiledLoop(graph, optimized.graph, generated.source, cached, constants,
                        optimized.in_place, diagnose)
