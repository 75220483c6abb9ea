"""``torch.nn.parallel.DistributedDataParallel`` on MPI (symgrad.distributed): every rank
holds a replica of the model and trains on its share of each batch; ``backward()`` averages
the gradients over the ranks, one all-reduce per bucket of parameters (about
``bucket_cap_mb`` of flattened gradients, filled in reverse parameter order as backward
produces them), so every replica takes the same optimizer step. Inside ``sg.train`` the
same averaging is traced into the compiled loop (numba-mpi, no return to Python per step).

>>> import symgrad as torch, symgrad.distributed as dist
>>> dist.init_process_group()                                   # doctest: +SKIP
>>> model = torch.nn.parallel.DistributedDataParallel(torch.nn.Linear(3, 1))  # doctest: +SKIP
"""
import numpy as np

from symgrad.core.ops.collective import average_across_ranks
from symgrad.distributed.collectives import broadcast, check_equal_across_ranks
from symgrad.distributed.process_group import get_world_size, is_initialized
from symgrad.nn.module import Module


class DistributedDataParallel(Module):
    """Wraps ``module``: broadcasts its parameters and buffers from rank 0, checks that
    every rank has the same parameters (names, shapes, dtypes), and averages the gradients
    across ranks during ``backward()``. ``.module`` is the wrapped model; calls forward to it."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0,
                 broadcast_buffers=True, process_group=None, bucket_cap_mb=25,
                 find_unused_parameters=False, **_options):
        super().__init__()
        if not is_initialized():
            raise RuntimeError("DistributedDataParallel: call symgrad.distributed."
                               "init_process_group() first (and start the job with mpiexec)")
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: wraps an nn.Module, got "
                            f"{type(module).__name__}")
        self.module = module
        named = [(name, p) for name, p in module.named_parameters() if p.requires_grad]
        shared = named + (list(module.named_buffers()) if broadcast_buffers else [])
        check_equal_across_ranks(shared, "the model's parameters and buffers", values=False)
        for _, tensor in shared:
            broadcast(tensor, src=0)
        self._bucket_bytes = int(bucket_cap_mb * 2 ** 20)
        self._buckets = _buckets(named, self._bucket_bytes)
        self._ready, self._averaged = set(), set()     # ids of params; bucket positions
        self._handles = [p.register_post_accumulate_grad_hook(self._gradient_ready)
                         for _, p in named]

    def forward(self, *args, **kwargs):
        if self._ready or 0 < len(self._averaged) < len(self._buckets):
            waiting = [name for position, bucket in enumerate(self._buckets)
                       if position not in self._averaged
                       for name, p in bucket if id(p) not in self._ready]
            raise RuntimeError(f"DistributedDataParallel: the last backward() gave no gradient "
                               f"to {', '.join(waiting)}, so their buckets were never averaged "
                               f"(every parameter must take part in the loss)")
        self._averaged.clear()
        return self.module(*args, **kwargs)

    def _gradient_ready(self, param):
        """A parameter's gradient is in: average each bucket once all of its are."""
        self._ready.add(id(param))
        for position, bucket in enumerate(self._buckets):
            params = [p for _, p in bucket]
            if id(param) in map(id, params) and all(id(p) in self._ready for p in params):
                if get_world_size() > 1:
                    averaged = average_across_ranks([p.grad._value for p in params],
                                                    self._bucket_bytes)
                    for p, value in zip(params, averaged):
                        p.grad._value = value
                self._ready.difference_update(map(id, params))
                self._averaged.add(position)


def _buckets(named, bucket_bytes):
    """Parameters in reverse order (the order backward produces their gradients), cut into
    buckets of at most ``bucket_bytes`` (a larger parameter is a bucket of its own)."""
    buckets, size = [[]], 0
    for name, param in reversed(named):
        nbytes = param.numel() * np.dtype(param._value.dtype).itemsize
        if buckets[-1] and size + nbytes > bucket_bytes:
            buckets.append([])
            size = 0
        buckets[-1].append((name, param))
        size += nbytes
    return [bucket for bucket in buckets if bucket]
