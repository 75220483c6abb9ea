"""Where a tensor's data lives: ``"cpu"`` (a numpy array) or ``"cuda"`` (a GPU array).

A tensor on ``"cuda"`` holds a :class:`CudaArray`: its data in a numba-cuda device array.
symgrad runs GPU code only compiled (``sg.train`` with a model on cuda, ``sg.jit(...,
device="cuda")`` on numpy arrays), so eager operations on a cuda tensor raise an error that
says so; move it back with ``.cpu()`` for eager work.

>>> import symgrad as sg
>>> sg.device("cuda:0").type, str(sg.device("cpu"))
('cuda', 'cpu')
"""
import numpy as np


class device:
    """A device as PyTorch names it: ``device("cuda")``, ``device("cuda:0")``, ``device("cpu")``.
    Compares equal to its name."""

    def __init__(self, name, index=None):
        if isinstance(name, device):
            name, index = name.type, name.index
        kind, _, number = str(name).partition(":")
        if kind not in PLACES:
            raise ValueError(f"unknown device {name!r}: symgrad tensors live on 'cpu' or 'cuda'")
        self.type = kind
        self.index = int(number) if number else index

    def __repr__(self):
        return f"device(type={self.type!r}{'' if self.index is None else f', index={self.index}'})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other):
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and (self.type, self.index or 0) == (other.type, other.index or 0)

    def __hash__(self):
        return hash((self.type, self.index or 0))


EAGER_ERROR = ("eager operations on cuda tensors are not supported: symgrad runs GPU code only "
               "compiled, in sg.train(step, ...) with the model or data on cuda, or in "
               "sg.jit/sg.grad(f, device='cuda') called with numpy arrays. Use .cpu() to "
               "compute on the host")


class CudaArray:
    """A tensor's data on the GPU: a device array (0-d data as one element) with the
    tensor's own ``shape`` and ``dtype``. numpy cannot read it: use :func:`to_host`."""

    def __init__(self, array, shape):
        self.array = array
        self.shape = tuple(shape)
        self.dtype = np.dtype(array.dtype)

    ndim = property(lambda self: len(self.shape))
    size = property(lambda self: int(np.prod(self.shape, dtype=np.int64)))

    def __array__(self, dtype=None, copy=None):
        raise TypeError(EAGER_ERROR)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        raise TypeError(EAGER_ERROR)

    def __array_function__(self, function, types, args, kwargs):
        raise TypeError(EAGER_ERROR)


def to_cuda(value):
    """``value`` (numpy or CudaArray) as a CudaArray (a copy on the GPU). A traced value
    stays as it is: a traced step runs where its compiled loop runs."""
    if isinstance(value, CudaArray) or hasattr(value, "aval"):
        return value
    from symgrad.compiler.cuda.host import require_cuda
    require_cuda()
    from numba import cuda
    host = np.asarray(value, order="C")
    return CudaArray(cuda.to_device(host.reshape(host.shape or (1,))), host.shape)


def to_host(value):
    """``value`` as a numpy array (copied from the GPU if it is there)."""
    if isinstance(value, CudaArray):
        return value.array.copy_to_host().reshape(value.shape)
    return value


PLACES = {"cpu": to_host, "cuda": to_cuda}   # device type -> value -> value on that device


def place(value, where):
    """``value`` moved to ``where`` (a device or its name)."""
    return PLACES[device(where).type](value)


def device_of(value):
    return device("cuda:0") if isinstance(value, CudaArray) else device("cpu")
