"""``torch.nn.utils.rnn``: ``pad_sequence`` and ``PackedSequence`` with ``pack_padded_sequence``,
``pad_packed_sequence`` and ``pack_sequence`` (PyTorch's layouts and errors). symgrad's RNN
layers take padded tensors, not PackedSequence, yet.

Padding and packing are made of differentiable Tensor operations (pad, stack, index, cat).

>>> import symgrad as torch
>>> from symgrad.nn.utils.rnn import pad_sequence
>>> pad_sequence([torch.ones(2), torch.ones(1) * 2], batch_first=True).tolist()
[[1.0, 1.0], [2.0, 0.0]]
"""
from collections import namedtuple

import numpy as np

from symgrad.eager.joining import cat, stack
from symgrad.eager.tensor import Tensor
from symgrad.nn.functional_padding import pad


class PackedSequence(namedtuple("PackedSequence_", ["data", "batch_sizes", "sorted_indices",
                                                     "unsorted_indices"])):
    """Sequences of different lengths packed time step by time step: ``data`` holds step 0
    of every sequence, then step 1 of those that are long enough, ...; ``batch_sizes`` how
    many sequences each step has (sequences sorted longest first, ``sorted_indices``)."""

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack sequences (L_i, *) of different lengths into (L_max, B, *) (or (B, L_max, *)
    with ``batch_first``), padding each with ``padding_value`` on ``padding_side``."""
    if padding_side not in ("left", "right"):
        raise ValueError(f"Expected padding_side to be one of left or right, but got "
                         f"{padding_side}.")
    sequences = list(sequences.unbind(0)) if isinstance(sequences, Tensor) else list(sequences)
    for sequence in sequences:
        if not isinstance(sequence, Tensor):
            raise TypeError(f"pad_sequence(): expected a sequence of Tensors, got "
                            f"{type(sequence).__name__}")
    longest = max(s.shape[0] for s in sequences)
    padded = []
    for sequence in sequences:
        missing = longest - sequence.shape[0]
        widths = [0, 0] * (sequence.dim() - 1) + ([0, missing] if padding_side == "right"
                                                  else [missing, 0])
        padded.append(pad(sequence, tuple(widths), value=padding_value) if missing else sequence)
    return stack(padded, 0 if batch_first else 1)


def _lengths(lengths):
    values = lengths.numpy() if isinstance(lengths, Tensor) else np.asarray(lengths)
    return [int(v) for v in values.reshape(-1)]


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack padded (T, B, *) (or (B, T, *)) ``input`` whose sequences have ``lengths``."""
    lengths = _lengths(lengths)
    if min(lengths) <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an "
                           "element in 'lengths' that is <= 0")
    if enforce_sorted:
        if any(a < b for a, b in zip(lengths, lengths[1:])):
            raise RuntimeError("`lengths` array must be sorted in decreasing order when "
                               "`enforce_sorted` is True. You can pass `enforce_sorted=False` "
                               "to pack_padded_sequence and/or pack_sequence to sidestep this "
                               "requirement if you do not need ONNX exportability.")
        order = list(range(len(lengths)))
    else:
        order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    steps = input.transpose(0, 1) if batch_first else input
    if max(lengths) > steps.shape[0]:
        raise RuntimeError(f"Expected sequence lengths no longer than the input's {steps.shape[0]}"
                           f" steps, but got {max(lengths)}")
    batch_sizes, pieces = [], []
    for t in range(max(lengths)):
        alive = [i for i in order if lengths[i] > t]
        batch_sizes.append(len(alive))
        pieces.append(steps[t][Tensor(np.asarray(alive, np.int64))])
    sorted_indices = None if enforce_sorted else Tensor(np.asarray(order, np.int64))
    unsorted_indices = None if enforce_sorted else Tensor(np.argsort(order).astype(np.int64))
    return PackedSequence(cat(pieces, 0), Tensor(np.asarray(batch_sizes, np.int64)),
                          sorted_indices, unsorted_indices)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """The padded (T, B, *) (or (B, T, *)) tensor and the lengths of a PackedSequence."""
    data, batch_sizes = sequence.data, _lengths(sequence.batch_sizes)
    steps = len(batch_sizes)
    if total_length is not None and total_length < steps:
        raise ValueError(f"Expected total_length to be at least the length of the longest "
                         f"sequence in input, but got total_length={total_length} and max "
                         f"sequence length being {steps}")
    batch = batch_sizes[0]
    rows, start = [], 0
    for size in batch_sizes:
        step = data[start:start + size]
        if size < batch:
            step = pad(step, (0, 0) * (data.dim() - 1) + (0, batch - size), value=padding_value)
        rows.append(step)
        start += size
    for _ in range((total_length or steps) - steps):
        rows.append(rows[0] * 0 + padding_value)
    padded = stack(rows, 0)
    lengths = np.asarray([sum(1 for size in batch_sizes if size > i) for i in range(batch)])
    if sequence.unsorted_indices is not None:
        padded = padded[:, sequence.unsorted_indices]
        lengths = lengths[sequence.unsorted_indices.numpy()]
    if batch_first:
        padded = padded.transpose(0, 1)
    return padded, Tensor(lengths.astype(np.int64))


def pack_sequence(sequences, enforce_sorted=True):
    """Pack a list of sequences (L_i, *) (longest first unless ``enforce_sorted=False``)."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)
