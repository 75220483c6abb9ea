"""symgrad's backend: an optimized Graph becomes one Numba-compiled function.

The driver: ``compile_graph(graph, device)`` and ``compile_training_loop(...)`` run the
passes once (symgrad.compiler.passes: fold, simplify, CSE, DCE, the fusion and in-place
plans), then hand the optimized graph to the device's wing (``WINGS``: symgrad.compiler.cpu
or .cuda), which only lowers it, emits source (``.source``) and loads it from the disk cache.
"""
import contextlib
from dataclasses import dataclass
from typing import Callable

from .lazy_import import forgotten_on_failure

with forgotten_on_failure():        # imports numba: a Ctrl-C here must not break the retry
    from .cpu import host as cpu_host
    from .cpu.host import CompiledGraph, CompiledLoop  # noqa: F401  (the CPU results' types)
    from .cuda import host as cuda_host
    from .cuda import training_loop as cuda_training_loop
    from .codegen.internal_error import codegen_error
    from .passes import optimize_for_codegen
    from symgrad.core.compile_log import log_compile


@dataclass(frozen=True)
class Wing:
    """One device's code generator and host code, as the driver calls them."""
    prepare: Callable                # () -> None, before the passes: the device is usable here
    compile_graph: Callable          # (graph, optimized) -> callable returning output tuples
    compile_training_loop: Callable  # (graph, optimized, state_count, batching) -> a loop
    run_time_extents: bool = False   # the generated code reads its arrays' extents at run time


WINGS = {
    "cpu": Wing(cpu_host.prepare, cpu_host.compile_graph, cpu_host.compile_training_loop,
                run_time_extents=True),
    "cuda": Wing(cuda_host.require_cuda, cuda_host.compile_graph,
                 cuda_training_loop.compile_training_loop),
}


def _wing(device):
    if device not in WINGS:
        raise ValueError(f"unknown device {device!r}: symgrad compiles for "
                         f"{', '.join(map(repr, WINGS))}")
    return WINGS[device]


def compile_graph(graph, device="cpu"):
    """Compile ``graph`` for ``device`` (a key of ``WINGS``); the result's ``.source`` is
    the generated module."""
    wing = _wing(device)
    with _syntax_errors_reported(graph):
        wing.prepare()
        return wing.compile_graph(graph, optimize_for_codegen(
            graph, run_time_extents=wing.run_time_extents))


@contextlib.contextmanager
def _syntax_errors_reported(graph):
    """Generated source that Python rejects (any backend) as a CodegenError; the CPU
    backend's own report (naming the node) is raised inside."""
    try:
        yield
    except SyntaxError as error:
        raise codegen_error(graph, None, error, line=error.text) from error


def _log_loop_compile(graph, state_count):
    log_compile("training loop", graph.name, f"a new step graph ({len(graph)} nodes, "
                f"{state_count} state inputs, {len(graph.inputs) - state_count} batch inputs)")


def compile_training_loop(graph, state_count, batching, device="cpu"):
    """Compile a step graph (inputs: state then batch; outputs: loss then new state) into a
    loop that runs many steps on ``device``, with ``.bound(state, data, order, batch_size,
    history, progress)``; see symgrad.compiler.cpu.training_loop (CPU) and
    symgrad.compiler.cuda.training_loop (CUDA)."""
    wing = _wing(device)
    _log_loop_compile(graph, state_count)
    with _syntax_errors_reported(graph):
        wing.prepare()
        optimized = optimize_for_codegen(graph, state_count, wing.run_time_extents)
        return wing.compile_training_loop(graph, optimized, state_count, batching)
