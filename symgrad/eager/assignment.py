"""``x[index] = value`` on Tensors: numpy's semantics on data, recorded on the tape when a
gradient flows through it.

>>> import symgrad as torch
>>> x = torch.zeros(3); x[1] = 2.0; x
tensor([0., 2., 0.])
"""
import numpy as np

import symgrad.core.ops as ops
from symgrad.eager.grad_mode import is_grad_enabled
from symgrad.eager.tensor import Tensor, _value_of, apply


def setitem(self, index, value):
    """``Tensor.__setitem__``."""
    index = _value_of(index)
    is_mask = getattr(index, "dtype", None) == np.bool_
    if is_grad_enabled() and (self.requires_grad or getattr(value, "requires_grad", False)):
        _record_assignment(self, index, value, is_mask)
        return
    value = _value_of(value)
    if is_mask and any(hasattr(v, "aval") for v in (self._value, value, index)):
        check_assignment(self.shape, index, value, is_mask)
        self._value = masked_assign(self._value, value, index)
    else:
        self._value[index] = value          # numpy's semantics, masks included
    self._version += 1


def _record_assignment(self, index, value, is_mask):
    """``self[index] = value`` on the tape: self becomes the output of a node reading its
    old value (``before``). Checked first: a refused assignment changes nothing."""
    check_assignment(self.shape, index, value, is_mask)
    before = Tensor(self._value, requires_grad=self.requires_grad, grad_fn=self.grad_fn)
    before._version = self._version
    if before.grad_fn is not None:
        before.grad_fn.output = before
    if is_mask:
        updated = apply("IndexPutBackward0", masked_assign, before, value, index)
    else:
        updated = apply("CopySlices", set_index, before, value, key=index)
    self._value, self.grad_fn, self.requires_grad = updated._value, updated.grad_fn, True
    self.grad_fn.output = self
    self._version += 1


def check_assignment(shape, index, value, is_mask):
    """What symgrad can trace or record of ``x[index] = value``: basic indexing, or one value
    through a boolean mask of x's shape (numpy gives several values to the selected
    elements in order, which a ``where`` cannot: refused, not silently different)."""
    value = _value_of(value)
    if is_mask and tuple(np.shape(index)) != tuple(shape):
        raise IndexError(f"x[mask] = value: the boolean mask has shape {list(np.shape(index))}, "
                         f"the tensor {list(shape)}; symgrad records assignments through a mask "
                         f"of the tensor's own shape")
    if is_mask and np.size(value) != 1:
        raise IndexError(f"x[mask] = value with {np.size(value)} values: symgrad records a "
                         f"boolean-mask assignment of one value (x[mask] = 0.0); for a value "
                         f"per element use symgrad.where(mask, values, x)")
    entries = index if isinstance(index, tuple) else (index,)
    if not is_mask and any(isinstance(e, (np.ndarray, list)) or hasattr(e, "aval")
                           for e in entries):
        raise IndexError("x[index] = value with an index array: symgrad records basic indexing "
                         "(integers, slices, None, ...) and boolean masks of the tensor's shape; "
                         "use symgrad.where(mask, values, x) for other selections")


# -- functions the tape replays for assignments (their identity is part of its key) ---------
def set_index(x, value, key):
    return ops.setitem(x, key, value)


def masked_assign(x, value, mask):
    """``x[mask] = value`` for a boolean mask of x's shape and one value, as a ``where``
    (which traces and replays, the mask an operand of the tape)."""
    return ops.astype(ops.where(mask, value, x), np.dtype(x.dtype).name)


Tensor.__setitem__ = setitem
