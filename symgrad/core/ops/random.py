"""``random_uniform``: counter-based random numbers, a pure function of a key.

The key is an int64 pair (seed, counter); element ``i`` of the output is a hash of (seed,
counter, i), so the same key gives the same numbers in the numpy reference and in compiled
code, eagerly and inside a compiled training loop that carries the key as state (dropout's
masks: symgrad/eager/random_stream.py). The hash is two rounds of a 32-bit integer mixer
("lowbias32") on int64 values kept below 2**32, whose products wrap alike in numpy and numba;
24 of its bits make a float in [0, 1), exact in float32 and float64.

>>> import numpy as np
>>> u = random_uniform(np.array([0, 0]), (2, 3), "float32")
>>> u.shape, u.dtype.name, bool((u >= 0).all() and (u < 1).all())
((2, 3), 'float32', True)
"""
import numpy as np

import symgrad.core.ops.batch_rules as batch_rules
from symgrad.core.ops.common import no_gradient
from symgrad.core.ops.registry import declare
from symgrad.core.tracing import Tracer, bind

LOW_BITS = 0xFFFFFFFF
MULTIPLIERS = (0x7FEB352D, 0x846CA68B)
UNIT = 2.0 ** -24


def mix32(x):
    """The lowbias32 mixer of values in [0, 2**32) (int64 arrays)."""
    x = ((x ^ (x >> 16)) * MULTIPLIERS[0]) & LOW_BITS
    x = ((x ^ (x >> 15)) * MULTIPLIERS[1]) & LOW_BITS
    return x ^ (x >> 16)


def _uniform_rule(key, shape, dtype):
    if key.shape != (2,) or key.dtype != np.int64:
        raise TypeError(f"random_uniform: the key must be int64[2] (seed, counter), got "
                        f"{key.dtype.name}{list(key.shape)}")
    return tuple(shape), np.dtype(dtype)


def _uniform_reference(key, shape, dtype):
    seed, counter = (np.array([k], np.int64) & LOW_BITS for k in key)
    stream = mix32(seed)
    call = mix32(counter ^ stream)
    index = np.arange(int(np.prod(shape, dtype=np.int64)), dtype=np.int64) & LOW_BITS
    bits = mix32(mix32(index ^ call) ^ stream) >> 8
    return (bits * UNIT).astype(dtype).reshape(shape)


# a batch of keys: one draw per example's key (no batched form of the generator exists)
declare("random_uniform", _uniform_rule, _uniform_reference, [no_gradient], family="random",
        params=("shape", "dtype"), batch=batch_rules.per_example)


def random_uniform(key, shape, dtype):
    """Floats in [0, 1) of ``shape`` and ``dtype``, a function of ``key`` (int64 (seed,
    counter)) alone."""
    if isinstance(key, Tracer):
        return bind("random_uniform", key, shape=tuple(shape), dtype=np.dtype(dtype).name)
    return _uniform_reference(np.asarray(key, np.int64), tuple(shape), np.dtype(dtype).name)
