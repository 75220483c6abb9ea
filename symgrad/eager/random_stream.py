"""The random stream that dropout draws its masks from: a (seed, counter) key Tensor.

Each draw hands out the current key and advances the counter, and the numbers of a key are
a pure function of it (``random_uniform``, symgrad/core/ops/random.py). So the masks depend
only on the seed and on how many draws came before: a compiled training loop that carries
the key as state (symgrad/training/state.py) draws the same masks as the eager loop.
``manual_seed`` resets the stream of the default generator.

>>> import symgrad as torch
>>> from symgrad.nn import functional as F
>>> _ = torch.manual_seed(0); a = F.dropout(torch.ones(6))
>>> _ = torch.manual_seed(0); F.dropout(torch.ones(6)).tolist() == a.tolist()
True
"""
import numpy as np

import symgrad.core.ops as ops
from symgrad.eager.tensor import Tensor

ADVANCE = np.array([0, 1], np.int64)


class CounterStream:
    """A key Tensor (seed, counter) and whether anything has drawn from it yet."""

    def __init__(self, seed=0):
        self.key = Tensor(np.zeros(2, np.int64))
        self.drawn = False
        self.reseed(seed)

    def reseed(self, seed):
        """Start over from ``seed`` (counter 0), keeping the key Tensor (a loop's state)."""
        self.key._value = np.array([int(seed) % 2 ** 63, 0], np.int64)

    def next_key(self):
        """The key of one draw (an array, or a tracer inside a compiled step); advances."""
        key = self.key._value
        self.key._value = ops.add(key, ADVANCE)
        self.drawn = True
        return key
