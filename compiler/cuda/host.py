"""The CUDA backend's host side: is CUDA usable here, compiling a graph into kernels
(symgrad.compiler.cuda.lowering) and calling them with numpy arrays."""
import importlib.util

import numpy as np

from .kernel import device_shape
from .lowering import generate
from ..disk_cache import store as cache
from ..lazy_import import forgotten_on_failure
from symgrad.core.install_hint import install_command


class CudaUnavailableError(RuntimeError):
    """``device="cuda"`` where numba-cuda, or a GPU (or the simulator), is missing."""


def require_cuda():
    """Raise :class:`CudaUnavailableError` unless CUDA kernels can run here: numba-cuda is
    installed and a GPU is visible, or numba's CUDA simulator is enabled."""
    if importlib.util.find_spec("numba_cuda") is None:
        raise CudaUnavailableError(
            "device='cuda' needs numba-cuda, which is not installed: "
            f"{install_command('cuda')} (or pip install 'numba-cuda[cu13]')")
    from numba.core import config
    if config.ENABLE_CUDASIM:
        return
    if not numba_cuda().is_available():
        raise CudaUnavailableError(
            "device='cuda' needs an NVIDIA GPU with a working driver, and numba.cuda finds "
            "none here. Use device='cpu', or set NUMBA_ENABLE_CUDASIM=1 before starting "
            "Python to run the CUDA backend in numba's simulator (slow: kernels run in Python)")


class DeviceProgram:
    """One compiled graph's device buffers (allocated once, by the generated ``setup``) and
    the launch of its kernels. ``inputs`` and ``outputs`` are the graph's input and output
    buffers (0-d values as one-element arrays); outputs never share an input's buffer."""

    def __init__(self, module, constants):
        self.inputs, self.launch, self.outputs = module.setup(
            *[np.ascontiguousarray(c).reshape(device_shape(c.shape)) for c in constants])

    def run(self, arrays):
        """Copy ``arrays`` (host or device) into the inputs, launch; returns the outputs."""
        for buffer, array in zip(self.inputs, arrays):
            buffer.copy_to_device(array)
        self.launch()
        return self.outputs


class CompiledCudaGraph:
    """A callable over the graph's inputs (host arrays) returning a tuple of its outputs
    (host arrays); ``.source`` is the generated module, ``.module`` the loaded one. Device
    buffers are allocated on the first call and reused by every later call."""

    def __init__(self, graph, optimized, source, module, constants, in_place=None):
        self.graph = graph
        self.optimized = optimized
        self.source = source
        self.module = module
        self.constants = constants
        self.input_types = [(graph[n]["shape"], np.dtype(graph[n]["dtype"])) for n in graph.inputs]
        self.output_types = [(graph[n]["shape"], np.dtype(graph[n]["dtype"])) for n in graph.outputs]
        self.program = None
        self.in_place = in_place or {}   # output node -> the input whose buffer it is

    @property
    def kernels(self):
        """Kernel name -> (the kernel, its numba signature)."""
        return {name: (getattr(self.module, name), signature)
                for name, signature in self.module.SIGNATURES.items()}

    def ptx(self, cc=(9, 0)):
        """Kernel name -> PTX for compute capability ``cc``, compiled by numba-cuda's NVVM
        (no GPU needed; not under the simulator, which has no compiler)."""
        return compile_ptx(self.kernels, cc)

    def prepare(self):
        """The :class:`DeviceProgram` (allocated on first use)."""
        if self.program is None:
            self.program = DeviceProgram(self.module, self.constants)
        return self.program

    def __call__(self, *inputs):
        if len(inputs) != len(self.input_types):
            raise TypeError(f"{self.graph.name} takes {len(self.input_types)} inputs, got {len(inputs)}")
        arguments = [np.ascontiguousarray(x, dtype).reshape(device_shape(shape))
                     for x, (shape, dtype) in zip(inputs, self.input_types)]
        results = self.prepare().run(arguments)
        return tuple(r.copy_to_host().astype(dtype, copy=False).reshape(shape)
                     for r, (shape, dtype) in zip(results, self.output_types))


def numba_cuda():
    """``numba.cuda``, imported on first use; an import that fails halfway (Ctrl-C) is
    retried in full by the next call (symgrad.compiler.lazy_import)."""
    with forgotten_on_failure():
        from numba import cuda
    return cuda


def compile_ptx(kernels, cc):
    """``{name: (kernel, signature)}`` -> ``{name: PTX}`` for compute capability ``cc``."""
    return {name: numba_cuda().compile_ptx(kernel.py_func, signature, cc=cc)[0]
            for name, (kernel, signature) in kernels.items()}


def compile_graph(graph, optimized, kind="graph"):
    """``graph``, optimized by the driver (a symgrad.compiler.passes.Optimized: the same
    passes and fusion plan as the CPU wing's), as CUDA kernels. No GPU is needed until the
    result is called (``.ptx()`` compiles its kernels without one). New state of a step
    graph is computed into the old state's buffer where that is safe (``.in_place``)."""
    source, constant_nodes = generate(optimized.graph, optimized.plan, optimized.in_place)
    module = cache.load(source, "setup", graph, backend="numba-cuda", kind=kind).module
    constants = [optimized.graph[n]["params"]["value"] for n in constant_nodes]
    return CompiledCudaGraph(graph, optimized.graph, source, module, constants,
                             optimized.in_place)
