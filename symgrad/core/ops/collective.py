"""Collective ops across the processes of an MPI job: ``all_reduce_mean``, the mean over
every rank of an array of the same shape on each (data-parallel training averages its
gradients with it; symgrad.distributed and symgrad.nn.parallel use it).

The job is MPI's world communicator as mpi4py has it; in a process that has not loaded
mpi4py (no ``symgrad.distributed.init_process_group()``) or runs alone the mean is the
array itself. Compiled code calls the same MPI library through numba-mpi
(symgrad.compiler.cpu.collectives), so a rank running interpreted steps and one running
compiled ones meet in the same all-reduce.

>>> import numpy as np
>>> all_reduce_mean(np.array([1.0, 2.0]))      # one process: the mean is the array
array([1., 2.])
"""
import contextlib
import contextvars
import sys

import numpy as np

from symgrad.core.ops.batch_rules import elementwise as elementwise_batching
from symgrad.core.ops.registry import declare
from symgrad.core.ops.shape import concatenate, ravel, reshape
from symgrad.core.tracing import Tracer, bind

# bytes of gradients averaged in one all-reduce (PyTorch DDP's bucket_cap_mb default: 25)
BUCKET_BYTES = 25 * 2 ** 20


def world():
    """mpi4py's world communicator when this process has loaded mpi4py, else None."""
    mpi = sys.modules.get("mpi4py.MPI")
    return mpi.COMM_WORLD if mpi is not None and mpi.Is_initialized() else None


def world_size():
    comm = world()
    return 1 if comm is None else comm.Get_size()


def _mean_over_ranks(x):
    comm = world()
    if comm is None or comm.Get_size() == 1:
        return np.array(x, copy=True)
    # summed in float64, as the compiled code does (symgrad.compiler.cpu.runtime.collectives)
    total = np.empty(np.shape(x), np.float64)
    comm.Allreduce(np.ascontiguousarray(x, np.float64), total)
    return (total / comm.Get_size()).astype(x.dtype)


def _float_rule(x):
    if x.dtype.kind != "f":
        raise TypeError(f"all_reduce_mean: needs a float array, got {x.dtype.name}")
    return x.shape, x.dtype


# y_r = mean_s x_s on every rank r, so the cotangent of x_s is the mean of the ranks' cotangents
declare("all_reduce_mean", _float_rule, _mean_over_ranks,
        [lambda g, out, x: all_reduce_mean(g)], family="collective",
        batch=elementwise_batching)


def all_reduce_mean(x):
    """The mean of ``x`` over the ranks of the MPI job (traced: an ``all_reduce_mean`` node)."""
    if isinstance(x, Tracer):
        return bind("all_reduce_mean", x)
    return _mean_over_ranks(np.asarray(x))


def _buckets(arrays, bucket_bytes):
    """Positions of ``arrays`` grouped into buckets of one dtype and at most ``bucket_bytes``
    (an array larger than that is a bucket of its own)."""
    buckets, sizes = {}, {}
    groups = []
    for position, array in enumerate(arrays):
        dtype = np.dtype(array.dtype)
        nbytes = int(np.prod(np.shape(array))) * dtype.itemsize
        if dtype not in buckets or sizes[dtype] + nbytes > bucket_bytes:
            buckets[dtype] = []
            groups.append(buckets[dtype])
            sizes[dtype] = 0
        buckets[dtype].append(position)
        sizes[dtype] += nbytes
    return groups


def average_across_ranks(arrays, bucket_bytes=BUCKET_BYTES):
    """Each of ``arrays`` (numpy arrays or tracers) averaged over the ranks, with one
    all-reduce per bucket of flattened arrays rather than one per array."""
    averaged = list(arrays)
    for bucket in _buckets(arrays, bucket_bytes):
        shapes = [np.shape(arrays[p]) for p in bucket]
        flat = all_reduce_mean(concatenate([ravel(arrays[p]) for p in bucket]))
        start = 0
        for position, shape in zip(bucket, shapes):
            size = int(np.prod(shape))
            averaged[position] = reshape(flat[start:start + size], shape)
            start += size
    return averaged


_AVERAGING = contextvars.ContextVar("symgrad_gradient_averaging", default=False)


@contextlib.contextmanager
def gradients_averaged(enabled=True):
    """While the block runs, the gradients ``grad``/``value_and_grad`` and ``backward()``
    compute are averaged across the ranks (``sg.train(..., distributed=True)`` traces its
    step inside this)."""
    token = _AVERAGING.set(enabled)
    try:
        yield
    finally:
        _AVERAGING.reset(token)


def averaging_gradients():
    return _AVERAGING.get()
