"""``torch.save`` / ``torch.load``: tensors, state dicts, optimizer state and nested containers,
pickled (tensors as their data, dtype and ``requires_grad``); ``load`` reads PyTorch's own zip
files too. ``weights_only=True`` (the
default, as in PyTorch 2.6+) unpickles only tensors, arrays, numbers, strings and containers.

>>> import io, symgrad as torch
>>> buffer = io.BytesIO(); torch.save({"w": torch.ones(2)}, buffer); _ = buffer.seek(0)
>>> torch.load(buffer)
{'w': tensor([1., 1.])}
"""
import pickle

import numpy as np

from symgrad.eager.device import to_host
from symgrad.eager.tensor import Tensor
from symgrad.eager.torch_files import load_torch_file


def rebuild_tensor(array, requires_grad):
    """A leaf tensor of ``array`` (what a pickled Tensor unpickles as)."""
    return Tensor(array, requires_grad=requires_grad)


def _reduce_tensor(self, protocol):
    return rebuild_tensor, (np.array(to_host(self._value)), self.requires_grad)


Tensor.__reduce_ex__ = _reduce_tensor

# what weights_only=True lets a file name: symgrad's tensors and dtypes, numpy's arrays
ALLOWED = {
    ("collections", "OrderedDict"), ("builtins", "set"), ("builtins", "frozenset"),
    ("builtins", "complex"), ("builtins", "slice"), ("_codecs", "encode"),
    ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "scalar"), ("numpy.core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"), ("numpy.dtypes", None),
    (__name__, "rebuild_tensor"), ("symgrad.nn.parameter", "_rebuild_parameter"),
    ("symgrad.eager.dtypes", None), ("symgrad.eager.device", "device"),
    ("symgrad.eager.tensor", "Size"),
}


class WeightsUnpickler(pickle.Unpickler):
    """An unpickler that builds only what :data:`ALLOWED` names (no code runs on load)."""

    def find_class(self, module, name):
        if (module, name) in ALLOWED or (module, None) in ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(
            f"Weights only load failed: unsupported global {module}.{name}. With "
            f"weights_only=True, symgrad loads tensors, arrays, numbers and containers only; "
            f"pass weights_only=False if you trust the file's source")


def save(obj, f, pickle_module=pickle, pickle_protocol=2, **_kwargs):
    """Write ``obj`` to ``f`` (a path or a binary file); pickle protocol 4 at least, whose
    bytes need no code to load."""
    if hasattr(f, "write"):
        pickle_module.dump(obj, f, protocol=max(pickle_protocol, 4))
        return
    with open(f, "wb") as file:
        pickle_module.dump(obj, file, protocol=max(pickle_protocol, 4))


def load(f, map_location=None, pickle_module=None, weights_only=None, mmap=None, **_kwargs):
    """Read what :func:`save` wrote from ``f`` (a path or a binary file), or what PyTorch's
    ``torch.save`` wrote (symgrad.eager.torch_files); ``map_location`` other than the cpu
    moves tensors there."""
    if not hasattr(f, "read"):
        with open(f, "rb") as file:
            return load(file, map_location, pickle_module, weights_only)
    if _is_zip(f):
        loaded = load_torch_file(f, weights_only)
    else:
        loaded = (pickle.Unpickler(f) if weights_only is False else WeightsUnpickler(f)).load()
    if map_location is None or str(map_location) == "cpu":
        return loaded
    return _moved(loaded, map_location)


def _is_zip(f):
    """Whether ``f`` starts as PyTorch's own files do (a zip archive)."""
    if not f.seekable():
        return False
    start = f.tell()
    head = f.read(4)
    f.seek(start)
    return head == b"PK\x03\x04"


def _moved(value, where):
    if isinstance(value, Tensor):
        return value.to(where)
    if isinstance(value, dict):
        return type(value)((k, _moved(v, where)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return type(value)(_moved(v, where) for v in value)
    return value

