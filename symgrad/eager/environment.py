"""The environment names PyTorch programs query first: ``torch.cuda.is_available()``,
``torch.backends.mps.is_available()``, ``torch.set_default_device``.

>>> import symgrad as torch
>>> device = "cuda" if torch.cuda.is_available() else "cpu"
>>> torch.backends.mps.is_available()
False
"""
import importlib.util
import types

from symgrad.eager.device import device

_default_device = [device("cpu")]


def _cuda_is_available():
    """Whether a real GPU runs symgrad's CUDA code (numba's simulator does not count)."""
    if importlib.util.find_spec("numba_cuda") is None:
        return False
    from numba.core import config
    if config.ENABLE_CUDASIM:
        return False
    from numba import cuda
    return bool(cuda.is_available())


def _cuda_device_count():
    return 1 if _cuda_is_available() else 0


def _cuda_seed(_seed):
    """``torch.cuda.manual_seed``: symgrad's generator is one for all devices."""
    from symgrad.eager.sampling import manual_seed
    manual_seed(_seed)


cuda = types.SimpleNamespace(
    is_available=_cuda_is_available, device_count=_cuda_device_count,
    manual_seed=_cuda_seed, manual_seed_all=_cuda_seed, synchronize=lambda device=None: None,
    empty_cache=lambda: None, current_device=lambda: 0)

backends = types.SimpleNamespace(
    mps=types.SimpleNamespace(is_available=lambda: False, is_built=lambda: False),
    cudnn=types.SimpleNamespace(deterministic=False, benchmark=False, enabled=True),
)


def set_default_device(where):
    """Record the default device (``torch.set_default_device``); symgrad's creation functions
    make cpu tensors, which compiled loops move where the model lives."""
    _default_device[0] = device(where if where is not None else "cpu")


def get_default_device():
    return _default_device[0]
