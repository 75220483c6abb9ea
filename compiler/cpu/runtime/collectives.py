"""MPI collectives called from generated code (numba-mpi, on the MPI library mpi4py loaded):
``collective_all_reduce_mean(x, out)`` writes the mean over the ranks of the job's ``x``
into ``out`` (C-ordered, not ``x``'s memory); ``collective_scalar_mean(x)`` returns it for
a number. numba cannot cache functions calling numba-mpi (it calls MPI through ctypes
pointers), so these and the functions calling them are compiled in each process."""
import numba
import numba_mpi
import numpy as np


@numba.njit
def collective_all_reduce_mean(x, out):
    # summed in float64: numba-mpi 1.3 maps no MPI type to float32 (and so does the reference)
    send = np.ascontiguousarray(x).reshape(x.size).astype(np.float64)
    received = np.empty_like(send)
    numba_mpi.allreduce(send, received, numba_mpi.Operator.SUM)
    flat = out.reshape(out.size)
    ranks = numba_mpi.size()
    for k in range(flat.size):
        flat[k] = received[k] / ranks


@numba.njit
def collective_scalar_mean(x):
    send = np.full(1, np.float64(x))
    received = np.empty_like(send)
    numba_mpi.allreduce(send, received, numba_mpi.Operator.SUM)
    return received[0] / numba_mpi.size()
