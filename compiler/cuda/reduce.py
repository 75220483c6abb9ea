"""Block reductions in generated CUDA kernels: blocks take tasks, a task's threads stride over
its reduced elements, and the block combines their partial results in a shared-memory tree.

A task is one output element, or, when there are few outputs and many reduced elements,
one slice of an output's reduced elements (:func:`slices`): the first kernel writes one
partial result per slice, a second kernel reduces the slices. Used by reduction nests
(symgrad.compiler.cuda.nests) and the convolution weight gradient (symgrad.compiler.cuda.conv).
"""
from .kernel import Kernel
from ..cpu.lowering_state import numba_dtype
from ..codegen.source import literal

SLICE = 2048         # reduced elements per block when an output's reduction is split
MAX_SLICES = 512
MANY_OUTPUTS = 256   # enough output elements to keep the GPU busy without splitting


def slices(outputs, reduced):
    """How many blocks share one output element's reduction."""
    if outputs >= MANY_OUTPUTS:
        return 1
    return max(1, min(-(-reduced // SLICE), MAX_SLICES))


class BlockReduction:
    """The lines of one block reduction in ``kernel``: :meth:`open` (then the caller maps
    ``element``, the output's flat index, to its indices), :meth:`open_elements` (then
    ``flat`` is the reduced element's flat index and :meth:`accumulate` adds a value),
    :meth:`close` (thread 0 writes the result). With ``parts > 1`` each task is slice
    ``part`` of output ``element``."""

    def __init__(self, kernel, dtype, initial, combine, outputs, reduced, parts=1):
        self.kernel, self.dtype, self.initial, self.combine = kernel, dtype, initial, combine
        self.outputs, self.reduced, self.parts = outputs, reduced, parts

    def open(self):
        body = self.kernel.body
        body.line(f"partial = cuda.shared.array(THREADS, numba.{self.dtype})")
        body.line("thread = cuda.threadIdx.x")
        body.open(f"for task in range(cuda.blockIdx.x, {self.outputs * self.parts}, "
                  "cuda.gridDim.x):")
        if self.parts == 1:
            body.line("element = task")
        else:
            body.line(f"element = task // {self.parts}")
            body.line(f"part = task % {self.parts}")
        body.line(f"acc = {self.initial}")

    def open_elements(self):
        if self.parts == 1:
            self.kernel.body.open(f"for flat in range(thread, {self.reduced}, cuda.blockDim.x):")
            return
        chunk = -(-self.reduced // self.parts)
        self.kernel.body.open(f"for flat in range(part * {chunk} + thread, "
                              f"min(part * {chunk} + {chunk}, {self.reduced}), cuda.blockDim.x):")

    def accumulate(self, value):
        self.kernel.body.line(f"acc = {self.combine.format(acc='acc', x=value)}")

    def close(self, target):
        """Close the loops; thread 0 writes the block's result to ``target``."""
        body = self.kernel.body
        body.close()
        body.line("partial[thread] = acc")
        body.line("cuda.syncthreads()")
        body.line("half = cuda.blockDim.x // 2")
        body.open("while half > 0:")
        body.open("if thread < half:")
        body.line(f"partial[thread] = "
                  f"{self.combine.format(acc='partial[thread]', x='partial[thread + half]')}")
        body.close()
        body.line("cuda.syncthreads()")
        body.line("half //= 2")
        body.close()
        body.open("if thread == 0:")
        body.line(f"{target} = partial[0]")
        body.close()
        body.close()

    def launch(self):
        return f"min({self.outputs * self.parts}, MAX_BLOCKS), THREADS"


def reduce(lowering, name, dtype, initial, combine, outputs, reduced, index, accumulate, target):
    """Kernels reducing ``reduced`` elements into each of ``outputs`` elements of ``dtype``
    (numpy name), split across blocks where that pays (a second kernel then combines the
    slices). The callbacks write lines into a kernel: ``index(kernel)`` maps ``element`` to
    the output's indices, ``accumulate(kernel, reduction)`` adds reduced element ``flat``
    with ``reduction.accumulate(value)``, ``target(kernel)`` returns the output element."""
    parts = slices(outputs, reduced)
    kernel = Kernel(lowering, name)
    reduction = BlockReduction(kernel, numba_dtype(dtype), literal(initial, dtype), combine,
                               outputs, reduced, parts)
    reduction.open()
    index(kernel)
    reduction.open_elements()
    accumulate(kernel, reduction)
    if parts == 1:
        reduction.close(target(kernel))
        kernel.finish(reduction.launch())
        return
    partials = lowering.new_buffer(f"{name}_parts", (outputs, parts), dtype)
    reduction.close(f"{kernel.use(partials)}[element, part]")
    kernel.finish(reduction.launch())
    final_kernel = Kernel(lowering, f"{name}_slices")
    final = BlockReduction(final_kernel, reduction.dtype, reduction.initial, combine, outputs,
                           parts)
    final.open()
    index(final_kernel)
    final.open_elements()
    final.accumulate(f"{final_kernel.use(partials)}[element, flat]")
    final.close(target(final_kernel))
    final_kernel.finish(final.launch())
