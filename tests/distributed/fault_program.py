"""Faults of a data-parallel job (``python fault_program.py CASE``), each of which must end
every rank with a clear error rather than hang: tests/distributed/test_mpi.py runs them
under ``mpiexec -n 2``."""
import sys

import numpy as np

import symgrad as sg
import symgrad.distributed as dist


def rank_raises():
    """Rank 1 fails while rank 0 waits in a collective."""
    if dist.get_rank() == 1:
        raise ValueError("rank 1 got bad input")
    dist.barrier()


def params_differ():
    """Functional params that differ across ranks are caught before the first step."""
    def step(w, x):
        loss, g = sg.value_and_grad(lambda w: np.sum((x * w) ** 2))(w)
        return w - 0.1 * g, loss
    sg.train(step, np.full(2, float(dist.get_rank())), data=(np.ones((4, 2)),), steps=2,
             progress=False, distributed=True)


def model_differs():
    """DistributedDataParallel refuses replicas of different shapes."""
    sg.nn.parallel.DistributedDataParallel(sg.nn.Linear(2 + dist.get_rank(), 1))


def sampler_too_small():
    """A dataset too small for the ranks under drop_last."""
    sg.utils.data.DistributedSampler(range(1), drop_last=True)


if __name__ == "__main__":
    dist.init_process_group()
    globals()[sys.argv[1]]()
    print(f"rank {dist.get_rank()}: no error")
