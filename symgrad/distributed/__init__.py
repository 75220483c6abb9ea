"""``torch.distributed`` on MPI: data-parallel training over the processes ``mpiexec``
starts (mpi4py; ``pip install 'symgrad[mpi]'``). See README "Many processes (MPI)".

>>> import symgrad.distributed as dist
>>> dist.is_initialized()
False
"""
from symgrad.core.ops.collective import all_reduce_mean  # noqa: F401  (jax.lax.pmean's kind)
from symgrad.distributed.collectives import (  # noqa: F401
    ReduceOp, all_gather_object, all_reduce, barrier, broadcast, check_equal_across_ranks)
from symgrad.distributed.process_group import (  # noqa: F401
    destroy_process_group, get_rank, get_world_size, init_process_group, is_available,
    is_initialized)
from symgrad.utils.distributed_sampler import DistributedSampler  # noqa: F401

__all__ = ["DistributedSampler", "ReduceOp", "all_gather_object", "all_reduce", "all_reduce_mean",
           "barrier",
           "broadcast", "destroy_process_group", "get_rank", "get_world_size",
           "init_process_group", "is_available", "is_initialized"]
