"""``torch.utils.data.distributed.DistributedSampler``: each rank's share of a dataset's
indices, with PyTorch's rules: the indices (shuffled from ``seed + epoch`` when
``shuffle``) are padded by repeating the first ones up to a multiple of ``num_replicas``
(or, with ``drop_last``, cut down to one), and rank ``r`` takes every ``num_replicas``-th
from ``r``. Shuffles come from numpy's generator, so they are not torch.randperm's.

>>> from symgrad.utils.data import DistributedSampler
>>> [list(DistributedSampler(range(5), num_replicas=2, rank=r, shuffle=False)) for r in (0, 1)]
[[0, 2, 4], [1, 3, 0]]
"""
import math

import numpy as np


def _default(value, function):
    if value is not None:
        return value
    from symgrad.distributed.process_group import is_initialized
    if not is_initialized():
        raise RuntimeError("DistributedSampler: give num_replicas= and rank=, or call "
                           "symgrad.distributed.init_process_group() first")
    return function()


class DistributedSampler:
    """The indices of ``dataset`` rank ``rank`` of ``num_replicas`` reads each epoch
    (``set_epoch(epoch)`` before each one reshuffles)."""

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0,
                 drop_last=False):
        from symgrad.distributed.process_group import get_rank, get_world_size
        num_replicas = _default(num_replicas, get_world_size)
        rank = _default(rank, get_rank)
        if not 0 <= rank < num_replicas:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval "
                             f"[0, {num_replicas - 1}]")
        self.dataset, self.num_replicas, self.rank = dataset, num_replicas, rank
        self.shuffle, self.seed, self.drop_last, self.epoch = shuffle, seed, drop_last, 0
        rows = len(dataset)
        if drop_last and rows % num_replicas:
            self.num_samples = math.ceil((rows - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(rows / num_replicas)
        if self.num_samples == 0:
            rule = " with drop_last=True" if drop_last else ""
            raise ValueError(f"DistributedSampler: a dataset of {rows} samples split over "
                             f"{num_replicas} ranks{rule} gives rank {rank} no samples; use "
                             f"fewer ranks{' or drop_last=False' if drop_last else ''}")
        self.total_size = self.num_samples * num_replicas

    def __iter__(self):
        rows = len(self.dataset)
        if self.shuffle:
            indices = np.random.default_rng(self.seed + self.epoch).permutation(rows).tolist()
        else:
            indices = list(range(rows))
        if self.drop_last:
            indices = indices[:self.total_size]
        else:
            padding = self.total_size - rows
            indices += (indices * math.ceil(padding / rows))[:padding]
        return iter(indices[self.rank:self.total_size:self.num_replicas])

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        """The epoch whose shuffle the next iteration draws (every rank the same)."""
        self.epoch = epoch
