"""The check every layer makes first: its input is a symgrad Tensor, or a TypeError that
names the layer.

>>> expect_tensor([1.0], "LSTM")
Traceback (most recent call last):
TypeError: LSTM: expected a symgrad Tensor as input, got list
"""
from symgrad.eager.tensor import Tensor


def expect_tensor(value, who, name="input"):
    """Raise a TypeError naming ``who`` (the layer) and ``name`` (the argument) unless
    ``value`` is a symgrad Tensor."""
    if not isinstance(value, Tensor):
        raise TypeError(f"{who}: expected a symgrad Tensor as {name}, got {type(value).__name__}")
