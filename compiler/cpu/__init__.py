"""The CPU wing: graphs lowered to Python source compiled by ``numba.njit``.

The wing's lowering table is ``lowering.LOWERINGS``; the op families with lowerings of
their own module (convolution, pooling, indexing and sorting, linear algebra, FFT,
random numbers) add theirs here.
"""
from . import conv, fft, gather, linalg, lowering, pool, random

lowering.LOWERINGS.update(conv.LOWERINGS)
lowering.LOWERINGS.update(pool.LOWERINGS)
lowering.LOWERINGS.update(gather.LOWERINGS)
lowering.LOWERINGS.update(linalg.LOWERINGS)
lowering.LOWERINGS.update(fft.LOWERINGS)
lowering.LOWERINGS.update(random.LOWERINGS)
