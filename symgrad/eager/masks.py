"""Boolean masks and selections on Tensors, as PyTorch has them: ``x[mask]`` (the mask's
True elements, in order; its gradient scatters back), ``masked_select``, ``nonzero`` and
``torch.where`` with PyTorch's promotion (a float32 tensor and a Python float stay float32).

>>> import symgrad as torch
>>> x = torch.tensor([1.0, -2.0, 3.0])
>>> x[x > 0], torch.where(x > 0, x, 0.0)
(tensor([1., 3.]), tensor([1., 0., 3.]))

A mask selects as many elements as it holds True values: eagerly that number is known, but
inside a compiled training step (``sg.train``) the mask is traced and shapes are static,
so there the error says what to write instead.
"""
import numpy as np

import symgrad.core.ops as ops
from symgrad.core.tracing import error_here
from symgrad.eager.conversion import cast
from symgrad.eager.promotion import numpy_result_type, unweak
from symgrad.eager.tensor import Tensor, _value_of, apply


def is_mask(value):
    """Whether an index part is a boolean mask of at least one dimension (traced or not)."""
    return getattr(value, "dtype", None) == np.bool_ and np.ndim(value) > 0


def mask_positions(mask, dim, shape, what="x[mask]"):
    """The integer index arrays (``nonzero``) selecting ``mask``'s True elements from the
    dims of ``shape`` starting at ``dim``, after PyTorch's shape check."""
    if hasattr(mask, "aval"):
        raise error_here(
            f"{what} with a boolean mask computed inside a compiled training step (sg.train) "
            f"has a data-dependent shape (as many elements as the mask has True values), and "
            f"the step is traced with static shapes. Keep the shape instead: "
            f"torch.where(mask, x, 0) (zeros where the mask is False), "
            f"(x * mask).sum() / mask.sum() for a masked mean; eagerly, x[mask] works", IndexError)
    if dim + mask.ndim > len(shape):
        raise IndexError(f"too many indices for tensor of dimension {len(shape)}")
    for i, (size, extent) in enumerate(zip(mask.shape, shape[dim:])):
        if size != extent:
            raise IndexError(f"The shape of the mask {list(mask.shape)} at index {i} does not "
                             f"match the shape of the indexed tensor {list(shape)} at index "
                             f"{dim + i}")
    return [positions.astype(np.int64) for positions in np.nonzero(mask)]


def consumed_dims(part):
    """How many dims of the indexed tensor an index part reads."""
    if part is None or part is Ellipsis:
        return 0
    return np.ndim(part) if is_mask(part) else 1


def masked_select(input, mask):  # noqa: A002 - PyTorch's name
    """``torch.masked_select``: the elements of ``input`` where ``mask`` holds, as a 1-D
    tensor (the two broadcast against each other first)."""
    mask = _value_of(mask)
    if getattr(mask, "dtype", None) != np.bool_:
        raise RuntimeError(f"masked_select: expected BoolTensor for mask, got "
                           f"{getattr(mask, 'dtype', type(mask).__name__)}")
    shape = np.broadcast_shapes(tuple(input.shape), np.shape(mask))
    if not hasattr(mask, "aval"):
        mask = np.broadcast_to(mask, shape)
    if tuple(input.shape) != shape:
        input = apply("ExpandBackward0", ops.broadcast_to, input, shape=shape)
    return input[mask]


def nonzero(input, *, as_tuple=False):  # noqa: A002 - PyTorch's name
    """``torch.nonzero``: the indices of the nonzero elements, one row each (int64), or a
    tuple of one index tensor per dim with ``as_tuple=True``."""
    value = _value_of(input)
    if hasattr(value, "aval"):
        mask_positions(value, 0, value.shape, "nonzero()")
    positions = [p.astype(np.int64) for p in np.nonzero(np.atleast_1d(value))]
    if as_tuple:
        return tuple(Tensor(p) for p in positions)
    return Tensor(np.stack(positions, axis=1))


def select(condition, x, y):
    return ops.where(condition, x, y)


def where(condition, input=None, other=None):  # noqa: A002 - PyTorch's names
    """``torch.where(condition, input, other)`` with PyTorch's promotion of ``input`` and
    ``other``; ``torch.where(condition)`` is ``nonzero(condition, as_tuple=True)``."""
    if input is None and other is None:
        return nonzero(condition, as_tuple=True)
    if input is None or other is None:
        raise TypeError("where() expects both input and other, or neither")
    condition = _value_of(condition)
    if getattr(condition, "dtype", None) != np.bool_:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor "
                           f"with dtype {getattr(condition, 'dtype', type(condition).__name__)}")
    target = numpy_result_type([_operand(input), _operand(other)])
    x, y = (cast(v, target) if isinstance(v, Tensor) else np.asarray(unweak(v), target)
            for v in (input, other))
    return apply("WhereBackward0", select, condition, x, y)


def _operand(value):
    return value._value if isinstance(value, Tensor) else unweak(value)


def mask_methods():
    """Tensor's methods of this module."""
    return {"masked_select": masked_select, "nonzero": nonzero,
            "where": lambda self, condition, other: where(condition, self, other)}


def mask_functions():
    """``torch.<name>`` of this module."""
    return {"masked_select": masked_select, "nonzero": nonzero, "where": where}
