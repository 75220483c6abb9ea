"""``torch.nn.utils.parameters_to_vector`` and ``vector_to_parameters``: a model's parameters
as one flat vector, and back.

>>> import symgrad as torch
>>> from symgrad import nn
>>> layer = nn.Linear(2, 1)
>>> vector = nn.utils.parameters_to_vector(layer.parameters())
>>> tuple(vector.shape)
(3,)
>>> nn.utils.vector_to_parameters(torch.zeros(3), layer.parameters())
>>> layer.weight.tolist(), layer.bias.tolist()
([[0.0, 0.0]], [0.0])
"""
from symgrad.eager.grad_mode import no_grad
from symgrad.eager.joining import cat
from symgrad.eager.tensor import Tensor


def _check_tensor(value):
    if not isinstance(value, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(value).__name__}")


def parameters_to_vector(parameters):
    """The parameters flattened and concatenated (differentiable, like PyTorch's)."""
    pieces = []
    for parameter in parameters:
        _check_tensor(parameter)
        pieces.append(parameter.reshape(-1))
    return cat(pieces, 0)


def vector_to_parameters(vec, parameters):
    """Copy consecutive slices of ``vec`` into the parameters, in order (without gradient)."""
    _check_tensor(vec)
    start = 0
    with no_grad():
        for parameter in parameters:
            count = parameter.numel()
            piece = vec[start:start + count]
            if piece.numel() != count:
                raise RuntimeError(f"shape '{list(parameter.shape)}' is invalid for input of "
                                   f"size {piece.numel()}")
            parameter.copy_(piece.reshape(parameter.shape))
            start += count
