"""``sg.train(..., distributed=True)``: data-parallel training over the ranks of an MPI job
(symgrad.distributed). Every rank runs the same loop on its shard of every batch: of a
minibatch of ``batch_size`` rows (the global batch) rank ``r`` of ``N`` takes rows
``r*B/N ... (r+1)*B/N``; with ``steps=`` alone, that share of the whole data. The step's
gradients are averaged across the ranks inside the compiled loop (an ``all_reduce_mean``
node per bucket: symgrad.core.ops.collective), so all ranks take the same update and the
trained weights equal one process's on the whole batch. The loss history returned is the
mean over the ranks.
"""
import contextlib

import numpy as np

from symgrad.core.ops.collective import gradients_averaged
from symgrad.training.minibatches import BatchPlan


class DataParallel:
    """How one ``train`` call runs across ranks (``world == 1``: as a single process)."""

    def __init__(self, rank=0, world=1, ddp=False):
        self.rank, self.world, self.ddp = rank, world, ddp

    @property
    def active(self):
        return self.world > 1

    def averaging(self):
        """The context the step runs and is traced in: gradients averaged across ranks,
        unless a DistributedDataParallel model averages its own (or there is one rank)."""
        if self.active and not self.ddp:
            return gradients_averaged(True)
        return contextlib.nullcontext()

    def shard(self, plan, arrays):
        """This rank's plan and data arrays."""
        if not self.active:
            return plan, arrays
        if plan.mode == "sample":
            raise ValueError("train: distributed=True splits each batch across the ranks; "
                             "one sample per step cannot be split: give batch_size=")
        if plan.mode == "full":
            return plan, [self._share(array, k) for k, array in enumerate(arrays)]
        if plan.batch_size % self.world:
            raise ValueError(f"train: batch_size={plan.batch_size} does not split evenly over "
                             f"{self.world} ranks; batch_size is the global batch, so use a "
                             f"multiple of {self.world}")
        share = plan.batch_size // self.world
        order = plan.order.reshape(plan.total_steps, self.world, share)[:, self.rank]
        return BatchPlan("batch", plan.total_steps, share, np.ascontiguousarray(order.ravel()),
                         plan.steps_per_epoch), arrays

    def _share(self, array, position):
        rows = array.shape[0] if array.ndim else 0
        if rows == 0 or rows % self.world:
            raise ValueError(f"train: distributed=True with steps= alone splits the data's rows "
                             f"over {self.world} ranks; data[{position}] has shape "
                             f"{list(array.shape)}: give a first dimension that is a multiple "
                             f"of {self.world}")
        size = rows // self.world
        return np.ascontiguousarray(array[self.rank * size:(self.rank + 1) * size])

    def check_start(self, named_arrays, what):
        """Every rank starts from the same state (a clear error on all ranks otherwise)."""
        if self.active:
            from symgrad.distributed.collectives import check_equal_across_ranks
            check_equal_across_ranks(named_arrays, what)

    def global_history(self, history):
        """The ranks' mean loss at each step."""
        if not self.active:
            return history
        from symgrad.core.ops.collective import all_reduce_mean
        return all_reduce_mean(np.ascontiguousarray(history, np.float64))


def data_parallel(distributed, step):
    """The DataParallel of ``train(step, ..., distributed=distributed)``: ``None`` means
    "when the step reaches a DistributedDataParallel model and the job has several ranks"."""
    from symgrad.distributed.process_group import get_rank, get_world_size, is_initialized
    from symgrad.nn.parallel import DistributedDataParallel
    from symgrad.training.state import _referenced_objects as referenced_objects
    if distributed not in (None, True, False):
        raise TypeError(f"train: distributed must be True, False or None, got {distributed!r}")
    ddp = any(isinstance(obj, DistributedDataParallel) for obj in referenced_objects(step))
    if distributed is None:
        distributed = ddp and is_initialized()
    if not distributed:
        return DataParallel()
    if not is_initialized():
        raise RuntimeError("train: distributed=True needs symgrad.distributed."
                           "init_process_group() first (and the job started with mpiexec)")
    return DataParallel(get_rank(), get_world_size(), ddp)
