"""The loop over a batch's samples in the window-op lowerings (convolution, pooling): one
sequential loop, or, for batches of ``PARALLEL_BATCH`` samples or more, one chunk of
consecutive samples per thread under ``numba.prange``. Each chunk has its own scratch
buffers (unfolded blocks, partial weight gradients), so results do not depend on thread
timing. (What a function on numba's threads needs besides: symgrad.compiler.cpu.threads.)"""
import numba

from ..codegen.source import literal
from .threads import prange_header
from ..codegen.window_geometry import close_loops

PARALLEL_BATCH = 8


class SampleLoop:
    """``for n in ...`` over ``samples``, sequential or in per-thread chunks (``t``)."""

    def __init__(self, lowering, samples):
        self.lowering, self.samples = lowering, samples
        threads = numba.config.NUMBA_NUM_THREADS
        self.chunks = min(samples, threads) if samples >= PARALLEL_BATCH else 1

    @property
    def parallel(self):
        return self.chunks > 1

    @property
    def first(self):
        """Source of the current chunk's first sample."""
        return f"t * {self.samples} // {self.chunks}" if self.parallel else "0"

    def scratch(self, name, shape, dtype, zero=False):
        """A buffer each chunk uses for one sample at a time: made in the prologue (zeroed
        when asked), one per chunk; returns the current chunk's buffer expression."""
        whole = ((self.chunks,) if self.parallel else ()) + tuple(shape)
        self.lowering.buffer(name, whole, dtype)
        if zero:
            self.lowering.prologue.line(f"{name}[...] = 0")
        return f"{name}[t]" if self.parallel else name

    def open(self):
        out = self.lowering.out
        if not self.parallel:
            out.open(f"for n in range({self.samples}):")
            return
        out.open(prange_header(self.lowering, "t", self.chunks))
        out.open(f"for n in range({self.first}, (t + 1) * {self.samples} // {self.chunks}):")

    def close(self):
        close_loops(self.lowering.out, 2 if self.parallel else 1)

    def zero_sample(self, target, size, dtype):
        """In the loop: ``target[n] = 0`` (``size`` elements), while the sample is about to
        be written (in cache) and on the sample's thread."""
        out = self.lowering.out
        out.line(f"zs = {target}[n].reshape(({size},))")
        out.open(f"for k in range({size}):")
        out.line(f"zs[k] = {literal(0, dtype)}")
        out.close()

    def sum_chunks(self, partial, target, shape):
        """After the loop: ``target`` (2-D) = the sum of every chunk's ``partial`` buffer,
        in chunk order."""
        out = self.lowering.out
        out.open(f"for i in range({shape[0]}):")
        out.open(f"for j in range({shape[1]}):")
        out.line(f"total = {partial}[0, i, j]")
        out.open(f"for t in range(1, {self.chunks}):")
        out.line(f"total += {partial}[t, i, j]")
        out.close()
        out.line(f"{target}[i, j] = total")
        close_loops(out, 2)
