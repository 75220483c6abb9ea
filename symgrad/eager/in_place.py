"""PyTorch's in-place Tensor methods (``x.abs_()``, ``x.lerp_(end, w)``, ``x.masked_fill_(m, v)``,
``x.index_add_(...)``, ...), each the out-of-place method written back into ``x``.

Outside autograd the result is copied into ``x``'s own buffer. When a gradient flows, ``x``
becomes the output of the recorded node, which reads ``x``'s old value (as ``x[i] = v`` does,
symgrad.eager.assignment), so gradients flow through the update; a leaf that requires grad
refuses, as in PyTorch.

>>> import symgrad as torch
>>> x = torch.tensor([-1.0, 2.0])
>>> x.abs_().tolist(), x.tolist()
([1.0, 2.0], [1.0, 2.0])
"""
import numpy as np

from symgrad.eager.grad_mode import is_grad_enabled
from symgrad.eager.promotion import check_in_place
from symgrad.eager.tensor import Tensor, _value_of

LEAF_ERROR = ("a leaf Variable that requires grad is being used in an in-place operation.")


def _records(self, args):
    return is_grad_enabled() and (self.requires_grad or any(
        isinstance(a, Tensor) and a.requires_grad for a in args))


def updated_in_place(self, method, *args, **kwargs):
    """``self`` holding ``method(self, *args, **kwargs)`` (same shape and dtype)."""
    if _records(self, args):
        if self.is_leaf and self.requires_grad:
            raise RuntimeError(LEAF_ERROR)
        before = Tensor(self._value, requires_grad=self.requires_grad, grad_fn=self.grad_fn)
        before._version = self._version
        if before.grad_fn is not None:
            before.grad_fn.output = before
        result = method(before, *args, **kwargs)
        _check_same(self, result)
        result = result.to(self.dtype)
        self._value, self.grad_fn, self.requires_grad = result._value, result.grad_fn, True
        self.grad_fn.output = self
        self._version += 1
        return self
    result = method(self.detach(), *args, **kwargs)
    _check_same(self, result)
    check_in_place(self._value.dtype, [result._value])
    return self._assign(_value_of(result))


def _check_same(self, result):
    if tuple(result.shape) != tuple(self.shape):
        raise RuntimeError(f"output with shape {list(self.shape)} doesn't match the broadcast "
                           f"shape {list(result.shape)}")


def _in_place(name):
    def method(self, *args, **kwargs):
        return updated_in_place(self, getattr(Tensor, name), *args, **kwargs)
    method.__name__ = name + "_"
    return method


# the out-of-place methods whose ``<name>_`` writes into the tensor
IN_PLACE_OF = ("abs", "absolute", "neg", "negative", "exp", "expm1", "log", "log1p", "log2",
               "log10", "sqrt", "rsqrt", "sin", "cos", "tan", "tanh", "sigmoid", "relu", "floor",
               "ceil", "round", "trunc", "frac", "sign", "reciprocal", "square", "pow", "lerp",
               "addcmul", "addcdiv", "masked_fill", "tril", "triu", "clamp_min", "clamp_max",
               "index_add", "index_fill", "index_copy", "scatter", "scatter_add",
               "masked_scatter", "nan_to_num", "fmod", "remainder", "exp2", "erf", "logit",
               "addmm", "baddbmm", "addbmm", "addmv", "addr", "cumsum", "cumprod",
               "float_power", "hypot", "atan2", "true_divide", "subtract", "multiply", "divide")


def in_place_methods():
    """``<name>_`` of every method in ``IN_PLACE_OF`` that Tensor has."""
    return {name + "_": _in_place(name) for name in IN_PLACE_OF if hasattr(Tensor, name)
            and not hasattr(Tensor, name + "_")}


def fill_diagonal_(self, fill_value, wrap=False):
    """``x.fill_diagonal_(v)``: ``v`` on the main diagonal (all dims equal, or 2-D; ``wrap``
    restarts the diagonal of a tall matrix every ``cols + 1`` rows)."""
    if self.ndim < 2:
        raise RuntimeError("dimensions must larger than 1")
    if self.ndim > 2 and len(set(self.shape)) != 1:
        raise RuntimeError("all dimensions of input must be of equal length")
    mask = np.zeros(self.shape, bool)
    if self.ndim == 2:
        rows, cols = self.shape
        flat = np.arange(0, rows * cols if wrap else min(rows, cols) * cols, cols + 1)
        mask.reshape(-1)[flat[flat < rows * cols]] = True
    else:
        mask[(np.arange(self.shape[0]),) * self.ndim] = True
    return updated_in_place(self, Tensor.masked_fill, Tensor(mask), fill_value)


OUT_GRAD_ERROR = ("{}(): functions with out=... arguments don't support automatic "
                  "differentiation, but one of the arguments requires grad.")


def written_to(out, result, function):
    """``torch.<function>(..., out=out)``: ``result`` (a Tensor, or a tuple of them for
    ``out=(values, indices)``) written into ``out``, which is resized when its shape differs,
    as PyTorch does; ``out`` is returned.

    >>> import symgrad as torch
    >>> y = torch.zeros(2)
    >>> _ = torch.mul(torch.tensor([1.0, 2.0]), 3, out=y); y.tolist()
    [3.0, 6.0]
    """
    if isinstance(result, tuple):
        written = [written_to(o, r, function) for o, r in zip(out, result)]
        return type(result)(*written) if hasattr(result, "_fields") else tuple(written)
    if not isinstance(out, Tensor):
        raise TypeError(f"{function}(): argument 'out' must be Tensor, not {type(out).__name__}")
    if is_grad_enabled() and (out.requires_grad or result.requires_grad):
        raise RuntimeError(OUT_GRAD_ERROR.format(function))
    check_in_place(out._value.dtype, [result._value])
    if tuple(out.shape) != tuple(result.shape):
        out._value = np.array(result._value, dtype=out._value.dtype)
        out._version += 1
        return out
    return out._assign(result._value)
