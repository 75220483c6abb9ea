"""PyTorch-style eager Tensor whose ``backward()`` runs a compiled gradient graph.

Ops compute their value at once (numpy) and, when a gradient is wanted, record a
:class:`~symgrad.eager.tape.BackwardNode` naming the symgrad function that made them. ``backward``
replays that tape with tracers into a Graph, derives the gradient graph with
:mod:`symgrad.core.reverse_mode`, compiles it and caches it by the tape's structure, so a training
loop compiles its backward once.

>>> import symgrad as torch
>>> x = torch.tensor([1.0, 2.0], requires_grad=True)
>>> (x * x).sum().backward()
>>> x.grad
tensor([2., 4.])
"""
import numpy as np

import symgrad.core.ops as ops
from symgrad.core.ops.registry import FRONTS
from symgrad.eager.device import CudaArray, device_of, place
from symgrad.eager.dtypes import default_float, of_numpy
from symgrad.eager.grad_mode import is_grad_enabled
from symgrad.eager.promotion import check_in_place
from symgrad.core.ops.collective import average_across_ranks, averaging_gradients
from symgrad.core.ops.common import result_dtype
import symgrad.eager.tape as tape
from symgrad.eager.tape import node_type
from symgrad.core.tracing import Tracer, error_here

def _value_of(x):
    return x._value if isinstance(x, Tensor) else x


def legacy_data(data):
    """The array of ``torch.Tensor(*data)``: a sequence of numbers, or a size."""
    if len(data) == 1 and isinstance(data[0], np.generic):
        return np.asarray(data[0])
    if len(data) == 1 and isinstance(data[0], (list, tuple)) and not isinstance(data[0], Size):
        return np.array(data[0], dtype=default_float())
    if len(data) == 1 and isinstance(data[0], Size):
        data = tuple(data[0])
    if all(isinstance(d, (int, np.integer)) and not isinstance(d, bool) for d in data):
        return np.zeros(data, dtype=default_float())
    raise TypeError(f"new(): data must be a sequence (got {type(data[0]).__name__})")


class Size(tuple):
    """A tensor's shape: a tuple, printed as PyTorch prints it (``torch.Size([2, 3])``)."""

    def __repr__(self):
        return f"torch.Size({list(self)})"

    def numel(self):
        return int(np.prod(self, dtype=np.int64))


GRAD_DTYPE_ERROR = "only Tensors of floating point and complex dtype can require gradients"


class Tensor:
    """An array with autograd metadata (``requires_grad``, ``grad``, ``grad_fn``)."""
    __array_priority__ = 1000

    def __init__(self, *data, requires_grad=False, grad_fn=None):
        """``Tensor(array)`` wraps an array (or a tracer); PyTorch's legacy forms make a
        tensor of the default float dtype: ``Tensor([1, 2])`` of data, ``Tensor(2, 3)`` of
        a shape (zeros: symgrad leaves no memory uninitialized)."""
        value = data[0] if len(data) == 1 else None
        if not isinstance(value, (np.ndarray, CudaArray)) and not hasattr(value, "aval"):
            value = legacy_data(data)
        self._value = value
        self.requires_grad = requires_grad
        self._grad = None
        self.grad_fn = grad_fn
        self._version = 0

    # -- metadata ---------------------------------------------------------------------------
    shape = property(lambda self: Size(self._value.shape))
    dtype = property(lambda self: of_numpy(self._value.dtype))
    ndim = property(lambda self: len(self._value.shape))
    is_leaf = property(lambda self: self.grad_fn is None)
    device = property(lambda self: device_of(self._value))
    is_cuda = property(lambda self: isinstance(self._value, CudaArray))
    T = property(lambda self: self.permute(*reversed(range(self.ndim))))

    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, requires_grad):
        if requires_grad and np.dtype(self._value.dtype).kind not in "fc":
            raise RuntimeError(GRAD_DTYPE_ERROR)
        self._requires_grad = bool(requires_grad)

    def size(self, dim=None):
        return self.shape if dim is None else self.shape[dim]

    def dim(self):
        return self.ndim

    def numel(self):
        return int(np.prod(self._value.shape, dtype=np.int64))

    nelement = numel

    def __len__(self):
        if not self._value.shape:
            raise TypeError("len() of a 0-d tensor")
        return self._value.shape[0]

    def requires_grad_(self, requires_grad=True):
        if not self.is_leaf and not requires_grad:
            raise RuntimeError("you can only change requires_grad flags of leaf variables")
        self.requires_grad = requires_grad
        return self

    def retain_grad(self):
        self._retains_grad = True

    @property
    def grad(self):
        return self._grad

    @grad.setter
    def grad(self, grad):
        """Checked as PyTorch does, so that a wrong gradient fails here and not halfway
        through an optimizer's step."""
        if grad is not None:
            check_assigned_grad(self, grad)
        self._grad = grad

    @property
    def data(self):
        """The same storage without history: updates through it are not tracked."""
        view = Tensor(self._value)
        view._data_of = self
        return view

    @data.setter
    def data(self, new):
        self._value = _value_of(new)
        self._version += 1

    def detach(self):
        return Tensor(self._value)

    def clone(self):
        return apply("CloneBackward0", ops.identity, self)

    # -- autograd -------------------------------------------------------------------------------
    def backward(self, gradient=None, retain_graph=False, inputs=None):
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad`` (PyTorch semantics)."""
        run_backward(self, gradient, retain_graph, inputs)

    def register_post_accumulate_grad_hook(self, hook):
        """Call ``hook(self)`` after each ``backward()`` has added into ``self.grad``;
        returns a handle whose ``remove()`` unregisters it (DistributedDataParallel's
        gradient averaging runs here)."""
        hooks = self.__dict__.setdefault("_post_accumulate_grad_hooks", [])
        hooks.append(hook)
        return HookHandle(hooks, hook)

    # -- in-place updates (untracked: for optimizers and .data) -------------------------------
    def _assign(self, value):
        """Replace the contents, keeping this object (and, for arrays, its buffer)."""
        if is_grad_enabled() and self.requires_grad and self.is_leaf:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                               "operation (wrap the update in `with symgrad.no_grad():`)")
        if self._writes_in_place(value):
            np.copyto(self._value, value, casting="unsafe")   # one pass: broadcast, cast, copy
            self._version += 1
            return self
        # the rest is replaced: tracers (inside a compiled training step), read-only arrays,
        # GPU data (from host values: zero_grad(set_to_none=False) keeps grads on the GPU)
        _check_output_shape(self.shape, value)
        value = ops.astype(ops.broadcast_to(value, self.shape), self.dtype)
        self._value = value if hasattr(value, "aval") else \
            place(np.array(value), "cuda") if self.is_cuda else np.array(value)
        owner = getattr(self, "_data_of", None)
        if owner is not None:       # `t.data -= ...`: the update is t's
            owner._value = self._value
        self._version += 1
        return self

    def add_(self, other, alpha=1):
        return self._update(ops.add, _scaled(alpha, other))

    def sub_(self, other, alpha=1):
        return self._update(ops.subtract, _scaled(alpha, other))

    def mul_(self, other):
        return self._update(ops.multiply, _value_of(other))

    def div_(self, other):
        return self._update(ops.true_divide, _value_of(other))

    def clamp_(self, min=None, max=None):  # noqa: A002 - PyTorch's names
        bounds = [b for b in (min, max) if b is not None]
        bounds = [_value_of(b) for b in bounds]
        for bound in bounds:
            _check_output_shape(self.shape, bound)
        check_in_place(self._value.dtype, [self._value, *bounds])
        return self._assign(ops.clip(self._value, _value_of(min), _value_of(max)))

    def _update(self, function, value):
        """``self = function(self, value)`` in place: numpy's ufunc writes straight into the
        buffer when the result has its dtype and shape (one pass, no temporary). The result's
        dtype must be castable to self's by PyTorch's rule."""
        _check_output_shape(self.shape, value)
        check_in_place(self._value.dtype, [self._value, value], function is ops.true_divide)
        if not (is_grad_enabled() and self.requires_grad) and self._writes_in_place(value) \
                and result_dtype(self._value, value) == self.dtype:
            IN_PLACE_UFUNCS[function](self._value, value, out=self._value)
            self._version += 1
            return self
        return self._assign(function(self._value, value))

    def _writes_in_place(self, value):
        """Whether numpy can write ``value`` (an array or scalar, not a tracer) straight into
        this tensor's own buffer, broadcast to its shape."""
        return (isinstance(self._value, np.ndarray) and self._value.flags.writeable
                and not hasattr(value, "aval") and _broadcasts_to(value, self.shape))

    def zero_(self):
        return self._assign(np.zeros((), self.dtype))

    def fill_(self, value):
        return self._assign(_value_of(value))

    def copy_(self, source):
        return self._assign(_value_of(source))

    def __iadd__(self, other):
        return self._in_place(ops.add, other)

    def __isub__(self, other):
        return self._in_place(ops.subtract, other)

    def __imul__(self, other):
        return self._in_place(ops.multiply, other)

    def __itruediv__(self, other):
        return self._in_place(ops.true_divide, other)

    def _in_place(self, function, other):
        _check_output_shape(self.shape, _value_of(other))
        check_in_place(self._value.dtype, [self._value, _value_of(other)],
                       function is ops.true_divide)
        if not is_grad_enabled() or not self.requires_grad:
            if isinstance(other, Tensor) and other.requires_grad and is_grad_enabled():
                return function_apply(function, self, other)
            return self._assign(function(self._value, _value_of(other)))
        if self.is_leaf:
            self._assign(None)  # raises the leaf error
        return function_apply(function, self, other)

def _check_concrete(tensor, what):
    """A clear error, at the user's line, for reading the value of a traced tensor."""
    if isinstance(tensor._value, Tracer):
        raise error_here(
            f"{what} reads the value of a tensor, but inside a compiled training step "
            f"(sg.train) tensors are traced: the step is traced once and runs compiled, "
            f"so no concrete value is known there. Return the loss from the step (train returns every "
            f"step's loss) and read values after the loop")


def check_assigned_grad(tensor, grad):
    """``tensor.grad = grad`` needs a Tensor of the tensor's shape, dtype and device
    (PyTorch's checks and messages; symgrad has no ``grad_dtype``)."""
    if not isinstance(grad, Tensor):
        raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of type "
                        f"{_type_name(grad)}")
    value, mine = grad._value, tensor._value      # the arrays' own attributes: cheap
    if value.shape != mine.shape:
        raise RuntimeError(f"attempting to assign a gradient of size '{list(grad.shape)}' to a "
                           f"tensor of size '{list(tensor.shape)}'. Please ensure that the "
                           f"gradient and the tensor are the same size")
    if value.dtype != mine.dtype:
        raise RuntimeError(f"attempting to assign a gradient with dtype '{grad.dtype.name}' to a "
                           f"tensor with dtype '{tensor.dtype.name}'. The gradient must match "
                           f"the tensor's dtype")
    if isinstance(value, CudaArray) != isinstance(mine, CudaArray):
        raise RuntimeError(f"attempting to assign a gradient with device type "
                           f"'{grad.device.type}' to a tensor with device type "
                           f"'{tensor.device.type}'. Please ensure that the gradient and the "
                           f"tensor are on the same device")


def _type_name(value):
    kind = type(value)
    if kind.__module__ == "builtins":
        return kind.__qualname__
    return f"{kind.__module__}.{kind.__qualname__}"


IN_PLACE_UFUNCS = {ops.add: np.add, ops.subtract: np.subtract, ops.multiply: np.multiply,
                   ops.true_divide: np.true_divide}


def _broadcasts_to(value, shape):
    try:
        return np.broadcast_shapes(np.shape(value), shape) == shape
    except ValueError:
        return False        # ops.broadcast_to raises the error


def _check_output_shape(shape, value):
    """PyTorch's error for an in-place result of a larger shape than the tensor's."""
    try:
        joint = np.broadcast_shapes(np.shape(value), tuple(shape))
    except ValueError:
        return      # ops.broadcast_to raises numpy's error
    if joint != tuple(shape):
        raise RuntimeError(f"output with shape {list(shape)} doesn't match the broadcast shape "
                           f"{list(joint)}")


def _scaled(alpha, other):
    """``alpha * other``'s value (no pass over it when alpha is 1)."""
    value = _value_of(other)
    return value if alpha == 1 else ops.multiply(alpha, value)


def apply(backward_name, function, *args, **static):
    """Run ``function`` (a symgrad op function) on the values of ``args``; record its
    backward node when a gradient is wanted."""
    values = [_value_of(a) for a in args]
    result = function(*values, **static)
    out = Tensor(result if hasattr(result, "aval") else np.asarray(result))
    parents = [a for a in args if isinstance(a, Tensor)]
    if is_grad_enabled() and any(p.requires_grad for p in parents) and \
            np.dtype(out._value.dtype).kind in "fc":    # casts to int and argmax: no gradient
        out.requires_grad = True
        out.grad_fn = node_type(backward_name)(backward_name, function, static, args, out, parents)
    return out


def function_apply(function, *args):
    return apply(BACKWARD_NAMES.get(function, "Backward0"), function, *args)


# function -> the grad_fn its Tensor result records (PyTorch's name), from the fronts' faces
BACKWARD_NAMES = {front.function: front.faces.grad_fn for front in FRONTS if front.faces.grad_fn}


def reset_grads(tensors, set_to_none=True):
    """``zero_grad`` of modules and optimizers: each ``.grad`` to None, or zeroed in place."""
    from symgrad.eager.grad_mode import no_grad
    for tensor in tensors:
        if tensor.grad is None:
            continue
        if set_to_none:
            tensor.grad = None
            continue
        if tensor.grad.grad_fn is not None:
            tensor.grad = tensor.grad.detach()
        with no_grad():
            tensor.grad.zero_()


def run_backward(root, gradient=None, retain_graph=False, inputs=None):
    """``root.backward()``: add the gradients into each leaf's ``.grad``."""
    wrt, grads = tape.gradients(root, gradient, inputs, retain_graph)
    if averaging_gradients():       # sg.train(..., distributed=True) traces this step
        grads = average_across_ranks(grads)
    for tensor, grad in zip(wrt, grads):
        if tensor.grad is None:
            tensor.grad = Tensor(grad if isinstance(grad, Tracer) else np.asarray(grad, tensor.dtype))
        elif _accumulates_in_place(tensor.grad._value, grad):
            np.add(tensor.grad._value, grad, out=tensor.grad._value)     # as torch: in place
        else:
            tensor.grad._value = tensor.grad._value + grad
    for tensor in wrt:
        for hook in list(tensor.__dict__.get("_post_accumulate_grad_hooks", ())):
            hook(tensor)


class HookHandle:
    """``remove()`` takes the hook back out of its list."""

    def __init__(self, hooks, hook):
        self.hooks, self.hook = hooks, hook

    def remove(self):
        if self.hook in self.hooks:
            self.hooks.remove(self.hook)


def _accumulates_in_place(total, grad):
    return (isinstance(total, np.ndarray) and isinstance(grad, np.ndarray) and total.flags.writeable
            and total.shape == grad.shape and total.dtype == grad.dtype)
