"""PyTorch's dtype objects (``torch.float32``, ``torch.long``, ...), the default float dtype,
``finfo``/``iinfo``.

A :class:`dtype` wraps the numpy dtype a tensor's data has: numpy accepts it wherever it takes
a dtype (its ``.dtype`` attribute), and it compares equal to that numpy dtype, so code written
for either library reads it.

>>> import numpy as np, symgrad as torch
>>> torch.ones(2).dtype, torch.ones(2).dtype == torch.float32 == np.float32
(torch.float32, True)
"""
import builtins

import numpy as np


class dtype:  # noqa: N801 - PyTorch's name
    """The element type of a tensor, printed as PyTorch prints it (``torch.float32``)."""

    def __init__(self, name, numpy_name):
        self._name = name
        self._numpy = None if numpy_name is None else np.dtype(numpy_name)

    @property
    def dtype(self):
        """numpy's protocol: ``np.dtype(torch.float32)`` is ``np.dtype('float32')``."""
        if self._numpy is None:
            raise TypeError(f"torch.{self._name} is not supported by symgrad: numpy has no "
                            f"{self._name} type; use torch.float32 or torch.float16")
        return self._numpy

    # what torch.dtype answers
    is_floating_point = property(lambda self: self.dtype.kind == "f")
    is_complex = property(lambda self: self.dtype.kind == "c")
    is_signed = property(lambda self: self.dtype.kind in "fic")
    itemsize = property(lambda self: self.dtype.itemsize)
    # what numpy's dtype answers, for code written against numpy
    name = property(lambda self: self.dtype.name)
    kind = property(lambda self: self.dtype.kind)
    type = property(lambda self: self.dtype.type)

    def __repr__(self):
        return f"torch.{self._name}"

    def __eq__(self, other):
        if isinstance(other, dtype):
            return self is other
        if isinstance(other, np.dtype) or (builtins.isinstance(other, builtins.type)
                                           and issubclass(other, np.generic)):
            return self._numpy is not None and self._numpy == np.dtype(other)
        return NotImplemented

    def __hash__(self):
        return hash(self._numpy) if self._numpy is not None else hash(self._name)

    def __reduce__(self):
        return self._name       # pickled as the module attribute of that name


float32 = float = dtype("float32", "float32")  # noqa: A001 - PyTorch's names
float64 = double = dtype("float64", "float64")
float16 = half = dtype("float16", "float16")
bfloat16 = dtype("bfloat16", None)
complex64 = cfloat = dtype("complex64", "complex64")
complex128 = cdouble = dtype("complex128", "complex128")
int64 = long = dtype("int64", "int64")
int32 = int = dtype("int32", "int32")  # noqa: A001
int16 = short = dtype("int16", "int16")
int8 = dtype("int8", "int8")
uint8 = dtype("uint8", "uint8")
uint16 = dtype("uint16", "uint16")
uint32 = dtype("uint32", "uint32")
uint64 = dtype("uint64", "uint64")
bool = dtype("bool", "bool")  # noqa: A001

DTYPES = (float32, float64, float16, bfloat16, complex64, complex128, int64, int32, int16, int8,
          uint8, uint16, uint32, uint64, bool)
BY_NUMPY = {d._numpy: d for d in DTYPES if d._numpy is not None}
# legacy tensor type names (x.type(), torch.FloatTensor): numpy dtype <-> "torch.FloatTensor"
TYPE_NAMES = {float32: "FloatTensor", float64: "DoubleTensor", float16: "HalfTensor",
              int64: "LongTensor", int32: "IntTensor", int16: "ShortTensor", int8: "CharTensor",
              uint8: "ByteTensor", bool: "BoolTensor"}

_default = [float32]


def of_numpy(numpy_dtype):
    """The torch dtype of numpy data (``np.float32`` -> ``torch.float32``)."""
    try:
        return BY_NUMPY[np.dtype(numpy_dtype)]
    except KeyError:
        raise TypeError(f"can't convert np.ndarray of type numpy.{np.dtype(numpy_dtype).name}. "
                        f"The only supported types are: float64, float32, float16, complex64, "
                        f"complex128, int64, int32, int16, int8, uint8, and bool.") from None


def to_numpy(requested):
    """A ``dtype=`` argument (a torch dtype, numpy dtype or type, Python ``float``/``int``/
    ``bool``) as a numpy dtype; None stays None."""
    if requested is None:
        return None
    if isinstance(requested, dtype):
        return requested.dtype
    python_types = {builtins.float: float64, builtins.int: int64, builtins.bool: bool}
    if requested in python_types:
        return python_types[requested].dtype
    if isinstance(requested, str) and requested.startswith("torch."):
        return resolve_type_name(requested).dtype
    return np.dtype(requested)


def resolve_type_name(name):
    """``"torch.FloatTensor"`` (``x.type(...)``'s string form) as its dtype."""
    short = name.rpartition(".")[2]
    for kind, type_name in TYPE_NAMES.items():
        if type_name == short:
            return kind
    raise ValueError(f"invalid type: '{name}'")


def get_default_dtype():
    """The dtype of float tensors made from Python floats (``torch.float32`` unless set).

    >>> import symgrad as torch
    >>> torch.get_default_dtype()
    torch.float32
    """
    return _default[0]


def set_default_dtype(new):
    """Make ``new`` (torch.float32 or torch.float64, or float16) the default float dtype."""
    numpy_dtype = to_numpy(new)
    if numpy_dtype is None or numpy_dtype.kind != "f":
        raise TypeError("only floating-point types are supported as the default type")
    _default[0] = of_numpy(numpy_dtype)


def default_float():
    """The default float dtype as a numpy dtype."""
    return _default[0].dtype


def is_floating_point(tensor):
    """Whether ``tensor``'s dtype is a float type (``torch.is_floating_point``)."""
    return np.dtype(tensor.dtype).kind == "f"


class finfo:  # noqa: N801 - PyTorch's name
    """Machine limits of a float dtype (``torch.finfo(torch.float32).eps``)."""

    def __init__(self, kind=None):
        info = np.finfo(to_numpy(kind) if kind is not None else default_float())
        self.bits, self.eps = info.bits, builtins.float(info.eps)
        self.max = builtins.float(info.max)
        self.min, self.tiny = builtins.float(info.min), builtins.float(info.smallest_normal)
        self.smallest_normal, self.resolution = self.tiny, builtins.float(info.resolution)
        self.dtype = info.dtype.name

    def __repr__(self):
        return (f"finfo(resolution={self.resolution}, min={self.min}, max={self.max}, "
                f"eps={self.eps}, smallest_normal={self.tiny}, tiny={self.tiny}, "
                f"dtype={self.dtype})")


class iinfo:  # noqa: N801 - PyTorch's name
    """Limits of an integer dtype (``torch.iinfo(torch.int64).max``)."""

    def __init__(self, kind):
        info = np.iinfo(to_numpy(kind))
        self.bits, self.min, self.max = info.bits, builtins.int(info.min), builtins.int(info.max)
        self.dtype = info.dtype.name

    def __repr__(self):
        return f"iinfo(min={self.min}, max={self.max}, dtype={self.dtype})"
