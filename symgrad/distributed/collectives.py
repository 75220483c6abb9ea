"""``torch.distributed``'s collectives on MPI: ``all_reduce``, ``broadcast``, ``barrier``,
``all_gather_object``, in place on Tensors and numpy arrays. Inside a compiled training
step ``all_reduce`` of a traced tensor becomes an ``all_reduce_mean`` node
(symgrad.core.ops.collective) that the compiled loop runs through numba-mpi."""
import hashlib
from enum import Enum

import numpy as np

from symgrad.core.ops.collective import all_reduce_mean
from symgrad.core.tracing import Tracer
from symgrad.distributed.process_group import communicator, mpi


class ReduceOp(Enum):
    SUM = "SUM"
    PRODUCT = "PROD"
    MIN = "MIN"
    MAX = "MAX"
    AVG = "AVG"


def _value(tensor):
    return getattr(tensor, "_value", tensor)


def _store(tensor, value):
    """Write ``value`` into ``tensor`` (a Tensor or numpy array) in place."""
    current = _value(tensor)
    if isinstance(current, np.ndarray) and current.flags.writeable and value is not current:
        np.copyto(current, value)
    elif hasattr(tensor, "_value"):
        tensor._value = value
    else:
        raise ValueError("all_reduce/broadcast: the array is read-only; pass a writable one")


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce ``tensor`` over every rank, in place (``ReduceOp.AVG``: the mean).

    >>> import numpy as np, symgrad.distributed as dist
    >>> g = np.ones(3)
    >>> dist.all_reduce(g, op=dist.ReduceOp.AVG)      # doctest: +SKIP
    """
    op = ReduceOp(op) if not isinstance(op, ReduceOp) else op
    comm, value = communicator(), _value(tensor)
    if isinstance(value, Tracer):
        if op not in (ReduceOp.AVG, ReduceOp.SUM):
            raise NotImplementedError(f"all_reduce: compiled steps reduce with ReduceOp.AVG or "
                                      f"SUM, got {op}")
        mean = all_reduce_mean(value)
        _store(tensor, mean if op is ReduceOp.AVG else mean * comm.Get_size())
        return None
    buffer = np.ascontiguousarray(value)
    result = np.empty_like(buffer)
    MPI = mpi()
    mpi_op = {ReduceOp.SUM: MPI.SUM, ReduceOp.AVG: MPI.SUM, ReduceOp.PRODUCT: MPI.PROD,
              ReduceOp.MIN: MPI.MIN, ReduceOp.MAX: MPI.MAX}[op]
    comm.Allreduce(buffer, result, op=mpi_op)
    if op is ReduceOp.AVG:
        result = (result / comm.Get_size()).astype(buffer.dtype)
    _store(tensor, result)
    return None


def broadcast(tensor, src=0, group=None, async_op=False):
    """Give every rank rank ``src``'s values of ``tensor``, in place."""
    comm = communicator()
    buffer = np.ascontiguousarray(_value(tensor))
    if isinstance(buffer, Tracer):
        raise NotImplementedError("broadcast: not inside a compiled step (broadcast before it)")
    buffer = buffer.copy() if not buffer.flags.writeable else buffer
    comm.Bcast(buffer, root=src)
    _store(tensor, buffer)
    return None


def barrier(group=None, async_op=False, device_ids=None):
    """Wait until every rank has reached this call."""
    communicator().Barrier()


def all_gather_object(object_list, obj, group=None):
    """``object_list[r]`` = rank ``r``'s ``obj`` (picklable), on every rank."""
    object_list[:] = communicator().allgather(obj)


def check_equal_across_ranks(named_arrays, what, values=True):
    """Raise the same clear error on every rank when the ranks' ``named_arrays`` (name,
    array) differ: in names, shapes, dtypes, or (``values``) contents, compared by digest."""
    def digest(array):
        array = np.ascontiguousarray(np.asarray(_value(array)))
        return hashlib.sha1(array.tobytes()).hexdigest() if values else ""
    mine = [(name, tuple(np.shape(_value(a))), str(np.asarray(_value(a)).dtype), digest(a))
            for name, a in named_arrays]
    everyone = communicator().allgather(mine)
    advice = "start from the same values (same seed, or broadcast them from rank 0)" if values \
        else "build the same model"
    for rank, theirs in enumerate(everyone):
        if theirs != everyone[0]:
            raise RuntimeError(f"{what} differ between rank 0 and rank {rank}: "
                               f"{_first_difference(everyone[0], theirs)}; every rank must "
                               f"{advice}")


def _first_difference(first, other):
    if len(first) != len(other):
        return f"{len(first)} arrays on rank 0, {len(other)} on the other"
    for (name, shape, dtype, value), (_, shape2, dtype2, value2) in zip(first, other):
        if (shape, dtype) != (shape2, dtype2):
            return f"{name} is {dtype}{list(shape)} on rank 0, {dtype2}{list(shape2)} there"
        if value != value2:
            return f"{name} has other values"
    names = [entry[0] for entry in first], [entry[0] for entry in other]
    return f"the arrays are named {names[0]} on rank 0, {names[1]} there"
