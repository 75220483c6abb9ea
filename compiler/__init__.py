"""symgrad's backend: an optimized Graph becomes one Numba-compiled function.

``compile_graph(graph)`` copies the graph, runs the passes (fold, simplify, CSE, DCE),
plans fused loop nests, generates source (``.source``) and loads it from the disk cache.
"""
import numpy as np

from compiler.blas_threads import settle_blas_threads
from compiler.cache import load_module
from compiler.codegen import numba_cpu
from compiler.passes import optimize, plan_fusion

CODEGENS = {"cpu": numba_cpu}


class CompiledGraph:
    """A callable over the graph's inputs returning a tuple of its outputs."""

    def __init__(self, graph, optimized, source, function, constants):
        self.graph = graph
        self.optimized = optimized
        self.source = source
        self.function = function
        self.constants = constants
        self.input_types = [(graph[n]["shape"], np.dtype(graph[n]["dtype"])) for n in graph.inputs]
        self.output_types = [(graph[n]["shape"], np.dtype(graph[n]["dtype"])) for n in graph.outputs]

    def __call__(self, *inputs):
        if len(inputs) != len(self.input_types):
            raise TypeError(f"{self.graph.name} takes {len(self.input_types)} inputs, got {len(inputs)}")
        arguments = [np.asarray(x, dtype)[()] if shape == () else np.ascontiguousarray(x, dtype)
                     for x, (shape, dtype) in zip(inputs, self.input_types)]
        results = self.function(*arguments, *self.constants)
        return tuple(np.asarray(r, dtype) if shape == () else r
                     for r, (shape, dtype) in zip(results, self.output_types))


def compile_graph(graph, device="cpu"):
    """Compile ``graph`` for ``device``; the result's ``.source`` is the generated module."""
    settle_blas_threads()
    optimized = optimize(graph.copy())
    plan = plan_fusion(optimized)
    source, constant_nodes = CODEGENS[device].generate(optimized, plan)
    module = load_module(source)
    constants = [optimized[n]["params"]["value"] for n in constant_nodes]
    return CompiledGraph(graph, optimized, source, module.run, constants)
