"""Random tensors with PyTorch's names, drawn from one seeded generator (``manual_seed``), or a
``Generator`` passed as ``generator=``. The streams are numpy's (PCG64), not PyTorch's: the
same seed gives the same numbers from one symgrad run to the next, not PyTorch's numbers.

>>> import symgrad as torch
>>> _ = torch.manual_seed(0); a = torch.rand(2)
>>> _ = torch.manual_seed(0); torch.rand(2).tolist() == a.tolist()
True
"""
import numpy as np

from symgrad.eager.creation import _shape, made
from symgrad.eager.dtypes import default_float, to_numpy
from symgrad.eager.random_stream import CounterStream
from symgrad.eager.tensor import Tensor, _value_of


class Generator:
    """A random stream (``torch.Generator().manual_seed(1)``)."""

    def __init__(self, device="cpu"):
        self.device = device
        self.counter_stream = CounterStream()     # dropout's masks
        self.manual_seed(0)

    def manual_seed(self, seed):
        self._seed = int(seed)
        self.rng = np.random.default_rng(self._seed)
        self.counter_stream.reseed(self._seed)
        return self

    def initial_seed(self):
        return self._seed

    def seed(self):
        return self.manual_seed(np.random.SeedSequence().entropy % 2 ** 63).initial_seed()

    def get_state(self):
        return self.rng.bit_generator.state

    def set_state(self, state):
        self.rng.bit_generator.state = state
        return self


default_generator = Generator()


def manual_seed(seed):
    """Seed symgrad's random generator (rand, randn, shuffling, nn's initialization)."""
    return default_generator.manual_seed(seed)


def initial_seed():
    return default_generator.initial_seed()


def seed():
    return default_generator.seed()


def _rng(chosen):
    """The numpy generator behind ``chosen`` (a ``generator=`` argument) or the default one."""
    return (chosen or default_generator).rng


def _float_dtype(dtype, function):
    target = to_numpy(dtype) or default_float()
    if target.kind not in "fc":
        raise RuntimeError(f"\"{function}\" not implemented for '{target.name}'")
    return target


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False, **_kwargs):
    """Uniform samples in [0, 1)."""
    target = _float_dtype(dtype, "check_uniform_bounds")
    values = _rng(generator).random(_shape(size, "rand"))
    return made(values.astype(target), None, device, requires_grad)


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False, **_kwargs):
    """Standard normal samples."""
    target = _float_dtype(dtype, "normal_kernel_cpu")
    values = _rng(generator).standard_normal(_shape(size, "randn"))
    return made(values.astype(target), None, device, requires_grad)


def randint(low, high=None, size=None, generator=None, dtype=None, device=None,
            requires_grad=False):
    """Integers in ``[low, high)`` (``randint(high, size)`` from 0), int64 by default."""
    if size is None:        # randint(high, size)
        low, high, size = 0, low, high
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got "
                           f"from={low} >= to={high}")
    values = _rng(generator).integers(low, high, _shape((size,), "randint"))
    return made(values.astype(to_numpy(dtype) or np.int64), None, device, requires_grad)


def randperm(n, generator=None, dtype=None, device=None, requires_grad=False):
    """A random permutation of ``0 .. n-1``."""
    values = _rng(generator).permutation(int(n))
    return made(values.astype(to_numpy(dtype) or np.int64), None, device, requires_grad)


def _like(draw):
    def create(input, dtype=None, device=None, requires_grad=False, **_kwargs):  # noqa: A002
        return draw(*input.shape, dtype=dtype or input.dtype, device=device,
                    requires_grad=requires_grad)
    return create


rand_like = _like(rand)
randn_like = _like(randn)


def randint_like(input, low, high=None, dtype=None, **_kwargs):  # noqa: A002
    low, high = (0, low) if high is None else (low, high)
    return randint(low, high, tuple(input.shape), dtype=dtype or input.dtype)


def normal(mean=0.0, std=1.0, size=None, generator=None, dtype=None, device=None,
           requires_grad=False):
    """Normal samples: of ``size`` for number ``mean``/``std``, else of their broadcast
    shape (one sample per element of the tensors)."""
    mean_value, std_value = np.asarray(_value_of(mean)), np.asarray(_value_of(std))
    shape = _shape((size,), "normal") if size is not None else \
        np.broadcast_shapes(mean_value.shape, std_value.shape)
    if np.any(std_value < 0):
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std_value.min()}")
    target = to_numpy(dtype) or next((np.dtype(t.dtype) for t in (mean, std)
                                      if isinstance(t, Tensor)), default_float())
    values = mean_value + std_value * _rng(generator).standard_normal(shape)
    return made(np.asarray(values).astype(target), None, device, requires_grad)


def bernoulli(input, p=None, generator=None):  # noqa: A002
    """1 with probability ``input`` (or ``p``) per element, else 0, in input's dtype."""
    probability = np.asarray(_value_of(input)) if p is None else np.full(input.shape, p)
    if np.any((probability < 0) | (probability > 1)):
        raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.")
    values = _rng(generator).random(probability.shape) < probability
    return made(values.astype(np.dtype(input.dtype)))


def multinomial(input, num_samples, replacement=False, generator=None):  # noqa: A002
    """Indices drawn by the weights of each row of ``input`` (1-D or 2-D), int64."""
    weights = np.asarray(_value_of(input), dtype=np.float64)
    rows = weights.reshape(-1, weights.shape[-1])
    if np.any(rows < 0) or np.any(~np.isfinite(rows)):
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    if np.any(rows.sum(axis=1) == 0):
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    if not replacement and num_samples > np.count_nonzero(rows, axis=1).min():
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without "
                           "replacement")
    rng = _rng(generator)
    drawn = [rng.choice(row.size, num_samples, replace=replacement, p=row / row.sum())
             for row in rows]
    return made(np.array(drawn, dtype=np.int64).reshape(weights.shape[:-1] + (num_samples,)))


def uniform_(self, a=0.0, b=1.0, generator=None):
    """``Tensor.uniform_``: fill in place with samples of [a, b)."""
    return self.copy_(_rng(generator).uniform(a, b, self.shape))


def normal_(self, mean=0.0, std=1.0, generator=None):
    return self.copy_(mean + std * _rng(generator).standard_normal(self.shape))


def random_(self, low=0, high=None, generator=None):
    if high is None:        # random_(to), or random_() over the integers a float holds
        low, high = (0, low) if low else (0, 2 ** 24)
    return self.copy_(_rng(generator).integers(low, high, self.shape))


def bernoulli_(self, p=0.5, generator=None):
    return self.copy_(_rng(generator).random(self.shape) < _value_of(p))


for _method in (uniform_, normal_, random_, bernoulli_):
    setattr(Tensor, _method.__name__, _method)
Tensor.bernoulli = lambda self, p=None, generator=None: bernoulli(self, p, generator)
