"""The loop over a batch's samples in the window-op lowerings (convolution, pooling): one
sequential loop, or, for batches of ``PARALLEL_BATCH`` samples or more, one chunk of
consecutive samples per thread under ``numba.prange``. Each chunk has its own scratch
buffers (unfolded blocks, partial weight gradients), so results do not depend on thread
timing. LeNet at batch 64 on 2 cores: 2.1 ms per step instead of 2.8.

A generated function that splits samples needs ``parallel=`` in its decorator
(``NJIT_PARALLEL``); only explicit ``prange`` loops are parallelized (numba's other
rewrites would parallelize small array expressions, and cost compile time). BLAS must then
stay on one thread while the function runs: idle OpenBLAS threads spin and starve numba's
(LeNet batch 64: 16 ms per step instead of 2.1).

numba's threads wait passively between loops (``OMP_WAIT_POLICY=PASSIVE`` unless set): a
thread spinning at the end of its chunk takes the core that another process's thread, or
the chunk still running, needs. LeNet batch 64 with one other busy process on the 2 cores:
3.2 ms per step instead of 8-12."""
import os

import numba

from compiler.codegen.source import literal
from compiler.codegen.window_geometry import close_loops

PARALLEL_BATCH = 8
PRANGE = "numba.prange("
NJIT_PARALLEL = ('parallel={"comprehension": False, "reduction": False, "inplace_binop": False, '
                 '"setitem": False, "numpy": False, "stencil": False, "fusion": False, '
                 '"prange": True}')


def splits_samples(source):
    """Whether generated ``source`` runs sample chunks on numba's threads."""
    return PRANGE in source


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
        self.lowering.parallel = True
        # read when numba starts its OpenMP threads, at the first parallel call
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        out.open(f"for t in {PRANGE}{self.chunks}):")
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
