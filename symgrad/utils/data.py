"""``torch.utils.data``: datasets, ``DataLoader`` (batches, seeded shuffling, collation) and
``random_split``, with PyTorch's semantics. ``sg.train(step, data=loader, epochs=...)`` runs a
loader over tensors in its compiled loop.

>>> import symgrad as torch
>>> from symgrad.utils.data import DataLoader, TensorDataset
>>> loader = DataLoader(TensorDataset(torch.arange(5.0), torch.arange(5)), batch_size=2)
>>> [x.tolist() for x, y in loader]
[[0.0, 1.0], [2.0, 3.0], [4.0]]
"""
import collections.abc
import itertools

import numpy as np

from symgrad.eager.creation import tensor
from symgrad.eager.sampling import default_generator
from symgrad.eager.tensor import Tensor
from symgrad.utils.distributed_sampler import DistributedSampler  # noqa: F401  (torch's name here)


class Dataset:
    """A map-style dataset: ``__getitem__(index)`` and ``__len__``."""

    def __getitem__(self, index):
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")

    def __add__(self, other):
        return ConcatDataset([self, other])


class TensorDataset(Dataset):
    """Rows of tensors that share their first dimension: item ``i`` is ``(t[i] for t in
    tensors)``."""

    def __init__(self, *tensors):
        if any(t.shape[0] != tensors[0].shape[0] for t in tensors):
            raise AssertionError("Size mismatch between tensors")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0]


class Subset(Dataset):
    """The items of ``dataset`` at ``indices``."""

    def __init__(self, dataset, indices):
        self.dataset, self.indices = dataset, list(indices)

    def __getitem__(self, index):
        if isinstance(index, list):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __len__(self):
        return len(self.indices)


class ConcatDataset(Dataset):
    """Several datasets one after the other."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        self.cumulative_sizes = list(itertools.accumulate(len(d) for d in self.datasets))

    def __len__(self):
        return self.cumulative_sizes[-1] if self.cumulative_sizes else 0

    def __getitem__(self, index):
        if index < 0:
            index += len(self)
        which = int(np.searchsorted(self.cumulative_sizes, index, side="right"))
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][index - start]


def random_split(dataset, lengths, generator=None):
    """``dataset`` split at random into Subsets of ``lengths`` (counts, or fractions that
    sum to 1, the remainder spread round-robin as PyTorch does)."""
    total = len(dataset)
    if all(0 <= length <= 1 for length in lengths) and np.isclose(sum(lengths), 1) and \
            sum(lengths) != total:
        counts = [int(np.floor(total * fraction)) for fraction in lengths]
        for i in range(total - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    if sum(lengths) != total:
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    order = (generator or default_generator).rng.permutation(total).tolist()
    offsets = itertools.accumulate(lengths)
    return [Subset(dataset, order[end - length:end]) for end, length in zip(offsets, lengths)]


class Sampler:
    """The indices a DataLoader reads, in order: ``__iter__`` and ``__len__``."""

    def __init__(self, data_source=None):
        self.data_source = data_source


class SequentialSampler(Sampler):
    """``0, 1, ..., len(data_source) - 1``."""

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """A fresh permutation of the indices each pass (``num_samples`` of them; with
    ``replacement``, drawn independently), from ``generator`` or ``manual_seed``'s."""

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        super().__init__(data_source)
        self.replacement, self.generator = replacement, generator
        self._num_samples = num_samples
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got "
                             f"num_samples={self.num_samples}")

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        rng, n = (self.generator or default_generator).rng, len(self.data_source)
        if self.replacement:
            return iter(rng.integers(0, n, self.num_samples).tolist())
        rounds = -(-self.num_samples // n)
        order = np.concatenate([rng.permutation(n) for _ in range(rounds)])
        return iter(order[:self.num_samples].tolist())

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    """Lists of ``batch_size`` indices from ``sampler`` (the last one shorter unless
    ``drop_last``).

    >>> list(BatchSampler(SequentialSampler(range(5)), batch_size=2, drop_last=False))
    [[0, 1], [2, 3], [4]]
    """

    def __init__(self, sampler, batch_size, drop_last):
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got "
                             f"batch_size={batch_size}")
        super().__init__(sampler)
        self.sampler, self.batch_size, self.drop_last = sampler, batch_size, drop_last

    def __iter__(self):
        indices = iter(self.sampler)
        while batch := list(itertools.islice(indices, self.batch_size)):
            if len(batch) < self.batch_size and self.drop_last:
                return
            yield batch

    def __len__(self):
        whole, rest = divmod(len(self.sampler), self.batch_size)
        return whole + (rest > 0 and not self.drop_last)


def default_collate(batch):
    """Stack a list of samples into a batch: tensors and arrays stacked, numbers into a
    tensor, tuples/lists and dicts collated field by field (PyTorch's rules)."""
    first = batch[0]
    if isinstance(first, Tensor):
        return Tensor(np.stack([np.asarray(b._value) for b in batch]))
    if isinstance(first, (np.ndarray, np.generic)):
        return Tensor(np.stack(batch))
    if isinstance(first, float):
        return Tensor(np.array(batch, dtype=np.float64))
    if isinstance(first, int):      # bools too
        return tensor(batch)
    if isinstance(first, (str, bytes)):
        return list(batch)
    if isinstance(first, collections.abc.Mapping):
        return {key: default_collate([b[key] for b in batch]) for key in first}
    if not isinstance(first, collections.abc.Sequence):
        raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, "
                        f"dicts or lists; found {type(first)}")
    if any(len(b) != len(first) for b in batch):
        raise RuntimeError("each element in list of batch should be of equal size")
    fields = [default_collate(list(samples)) for samples in zip(*batch)]
    return tuple(fields) if isinstance(first, tuple) else fields


class DataLoader:
    """Batches of a dataset: ``batch_size`` samples each (the last one smaller unless
    ``drop_last``), reshuffled every epoch when ``shuffle`` (from ``manual_seed``'s generator,
    or ``generator=``), collated by ``collate_fn``. Samples load in this process
    (``num_workers`` is accepted and ignored)."""

    def __init__(self, dataset, batch_size=1, shuffle=False, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False,
                 generator=None, **_options):
        if batch_size is not None and (isinstance(batch_size, bool) or batch_size < 1):
            raise ValueError(f"batch_size should be a positive integer value, but got "
                             f"batch_size={batch_size}")
        self.dataset, self.batch_size, self.shuffle = dataset, batch_size, bool(shuffle)
        self.drop_last, self.generator, self.num_workers = drop_last, generator, num_workers
        self.sampler, self.batch_sampler = sampler, batch_sampler
        self.collate_fn = collate_fn or default_collate

    def _order(self):
        if self.sampler is not None:
            return list(self.sampler)
        if self.shuffle:
            return (self.generator or default_generator).rng.permutation(len(self.dataset)).tolist()
        return list(range(len(self.dataset)))

    def _batches(self):
        if self.batch_sampler is not None:
            return list(self.batch_sampler)
        order = self._order()
        if self.batch_size is None:
            return [[i] for i in order]
        size = self.batch_size
        stop = len(order) - len(order) % size if self.drop_last else len(order)
        return [order[i:i + size] for i in range(0, stop, size)]

    def __iter__(self):
        for indices in self._batches():
            if self.batch_size is None:
                yield self.dataset[indices[0]]
            else:
                yield self.collate_fn([self.dataset[i] for i in indices])

    def __len__(self):
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        rows = len(self.dataset) if self.sampler is None else len(self.sampler)
        if self.batch_size is None:
            return rows
        return rows // self.batch_size if self.drop_last else -(-rows // self.batch_size)


def loader_data(loader):
    """What ``sg.train`` reads of a DataLoader over a TensorDataset: its tensors, batch size,
    shuffling and the seed of its shuffles (drawn from its generator, so ``manual_seed``
    decides them as it decides the loader's own). The compiled loop runs whole batches only:
    a last partial batch is an error unless the loader drops it (``drop_last=True``)."""
    dataset = loader.dataset
    if not isinstance(dataset, TensorDataset) or loader.collate_fn is not default_collate or \
            loader.sampler is not None or loader.batch_sampler is not None:
        raise TypeError("train: data=DataLoader(...) runs compiled for a DataLoader over a "
                        "TensorDataset with the default collate and no sampler; for other "
                        "loaders, loop over the batches in Python")
    if loader.batch_size is None:
        raise TypeError("train: a DataLoader with batch_size=None has no batches to compile")
    if len(dataset) % loader.batch_size and not loader.drop_last:
        raise ValueError(f"train: the DataLoader's last batch is partial ({len(dataset)} samples "
                         f"in batches of {loader.batch_size}); the compiled loop runs whole "
                         f"batches: pass drop_last=True to the DataLoader")
    seed = int((loader.generator or default_generator).rng.integers(2 ** 62))
    return dataset.tensors, loader.batch_size, loader.shuffle, seed
