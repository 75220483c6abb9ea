"""Reading PyTorch's own checkpoint files (``torch.save``'s zip format) without PyTorch.

Such a file is a zip archive: ``<name>/data.pkl`` pickles the object, each tensor as
``torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks)``
whose storage is a persistent id ``('storage', torch.FloatStorage, key, location, numel)``
naming the raw bytes in ``<name>/data/<key>`` (in the byte order ``<name>/byteorder`` gives).
The unpickler here builds symgrad tensors from those and refuses every other global unless
``weights_only=False`` (then modules other than torch's load as pickle does).

>>> import io, symgrad as torch
>>> torch.load(io.BytesIO(b"PK\\x03\\x04"))  # doctest: +ELLIPSIS
Traceback (most recent call last):
RuntimeError: ...PyTorch's zip format...
"""
import pickle
import zipfile
from collections import OrderedDict

import numpy as np

from symgrad.eager.dtypes import BY_NUMPY
from symgrad.eager.device import device
from symgrad.eager.tensor import Size, Tensor

# torch's legacy storage classes, named in the files, and the numpy dtype of their elements
STORAGES = {"DoubleStorage": np.float64, "FloatStorage": np.float32, "HalfStorage": np.float16,
            "LongStorage": np.int64, "IntStorage": np.int32, "ShortStorage": np.int16,
            "CharStorage": np.int8, "ByteStorage": np.uint8, "BoolStorage": np.bool_,
            "ComplexDoubleStorage": np.complex128, "ComplexFloatStorage": np.complex64}
DTYPE_NAMES = {str(dtype).removeprefix("torch."): dtype for dtype in BY_NUMPY.values()}


def rebuild_tensor(storage, offset, size, stride, requires_grad=False, _hooks=None, _meta=None):
    """``torch._utils._rebuild_tensor_v2``: a tensor viewing ``storage`` (a copy, as it owns
    its data once loaded)."""
    items = storage[offset:]
    array = np.lib.stride_tricks.as_strided(
        items, tuple(size), tuple(s * storage.itemsize for s in stride)) if len(size) else items[:1].reshape(())
    return Tensor(np.array(array), requires_grad=requires_grad)


def rebuild_parameter(data, requires_grad, _hooks=None):
    """``torch._utils._rebuild_parameter``: the tensor, requiring grad as saved."""
    data.requires_grad = requires_grad
    return data


TORCH_GLOBALS = {
    ("torch._utils", "_rebuild_tensor_v2"): rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): rebuild_parameter,
    ("torch", "Size"): Size, ("torch", "device"): device,
    **{("torch", name): name for name in STORAGES},
    **{("torch", name): dtype for name, dtype in DTYPE_NAMES.items()},
}
PLAIN_GLOBALS = {("collections", "OrderedDict"): OrderedDict}


class TorchFileUnpickler(pickle.Unpickler):
    """Unpickles ``data.pkl`` of a PyTorch file, reading storages from the archive."""

    def __init__(self, file, archive, prefix, weights_only):
        super().__init__(file)
        self.archive, self.prefix, self.weights_only = archive, prefix, weights_only
        order = f"{prefix}byteorder"
        self.byteorder = archive.read(order).decode() if order in archive.namelist() else "little"
        self.storages = {}

    def find_class(self, module, name):
        found = TORCH_GLOBALS.get((module, name), PLAIN_GLOBALS.get((module, name)))
        if found is not None:
            return found
        if not self.weights_only and not module.startswith("torch"):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(
            f"Weights only load failed: unsupported global {module}.{name} in a PyTorch file. "
            f"symgrad reads tensors, parameters, dtypes and containers of PyTorch's files"
            + ("" if self.weights_only else " (PyTorch's other classes need PyTorch itself)"))

    def persistent_load(self, pid):
        kind, storage_type, key, _location, _numel = pid
        if kind != "storage" or storage_type not in STORAGES:
            raise pickle.UnpicklingError(f"PyTorch file: unsupported storage {storage_type!r} "
                                         f"(symgrad reads {', '.join(STORAGES)})")
        if key not in self.storages:
            dtype = np.dtype(STORAGES[storage_type]).newbyteorder(
                "<" if self.byteorder == "little" else ">")
            raw = self.archive.read(f"{self.prefix}data/{key}")
            self.storages[key] = np.frombuffer(raw, dtype).astype(dtype.newbyteorder("="))
        return self.storages[key]


def load_torch_file(f, weights_only):
    """The object a PyTorch zip file ``f`` (a binary file at its start) holds."""
    try:
        archive = zipfile.ZipFile(f)
    except zipfile.BadZipFile as error:
        raise RuntimeError(f"this file starts as PyTorch's zip format does, but is not a "
                           f"readable zip archive ({error})") from None
    with archive:
        pickles = [n for n in archive.namelist() if n.endswith("data.pkl")]
        if not pickles:
            raise RuntimeError("a zip archive without data.pkl: not a file torch.save wrote")
        prefix = pickles[0][:-len("data.pkl")]
        with archive.open(pickles[0]) as data:
            return TorchFileUnpickler(data, archive, prefix, weights_only is not False).load()
