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
    send = np.ascontiguousarray(x).reshape(x.size)
    received = out.reshape(out.size)
    numba_mpi.allreduce(send, received, numba_mpi.Operator.SUM)
    received /= numba_mpi.size()


@numba.njit
def collective_scalar_mean(x):
    send = np.full(1, x)
    received = np.empty_like(send)
    numba_mpi.allreduce(send, received, numba_mpi.Operator.SUM)
    return received[0] / numba_mpi.size()
