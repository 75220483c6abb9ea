"""Recurrent layers with PyTorch's parameters, initialization, shapes and errors: ``RNN``,
``LSTM``, ``GRU`` and their one-step cells.

>>> import symgrad as torch
>>> from symgrad import nn
>>> _ = torch.manual_seed(0)
>>> lstm = nn.LSTM(10, 20, num_layers=2, batch_first=True)
>>> lstm
LSTM(10, 20, num_layers=2, batch_first=True)
>>> output, (h_n, c_n) = lstm(torch.randn(3, 5, 10))
>>> output.shape, h_n.shape, c_n.shape
(torch.Size([3, 5, 20]), torch.Size([2, 3, 20]), torch.Size([2, 3, 20]))
>>> [name for name, _ in lstm.named_parameters()][:4]
['weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0', 'bias_hh_l0']
"""
import math
import numbers
import warnings

import numpy as np

from symgrad.nn.input_checks import expect_tensor
import symgrad.nn.init as init
from symgrad.eager.creation import zeros
from symgrad.eager.dtypes import default_float, to_numpy
from symgrad.eager.joining import cat, stack
from symgrad.eager.tensor import apply
from symgrad.nn.functional_rnn import GATES, recurrent_layer
from symgrad.nn.functional_dropout import dropout
from symgrad.nn.module import Module
from symgrad.nn.parameter import Parameter


def _check_hidden_size(hidden_size):
    if isinstance(hidden_size, bool) or not isinstance(hidden_size, numbers.Integral):
        raise TypeError(f"hidden_size should be of type int, got: {type(hidden_size).__name__}")
    if hidden_size <= 0:
        raise ValueError("hidden_size must be greater than zero")
    return int(hidden_size)


def _reset_uniform(module):
    """PyTorch's default: every weight and bias from U(-1/sqrt(hidden), 1/sqrt(hidden))."""
    bound = 1.0 / math.sqrt(module.hidden_size) if module.hidden_size > 0 else 0
    for weight in module.parameters():
        init.uniform_(weight, -bound, bound)


def _run_layer(mode, x, h, c, weights, reverse=False):
    """The packed outputs of one layer in one direction (see :mod:`functional_rnn`)."""
    return apply("RnnLayerBackward0", recurrent_layer, x, h, c, *weights, mode=mode,
                 reverse=reverse)


class RNNBase(Module):
    """The stacked, optionally bidirectional recurrence shared by ``RNN``, ``LSTM``, ``GRU``."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, proj_size=0,
                 device=None, dtype=None):
        super().__init__()
        if not isinstance(dropout, numbers.Number) or not 0 <= dropout <= 1 or \
                isinstance(dropout, bool):
            raise ValueError("dropout should be a number in range [0, 1] representing the "
                             "probability of an element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn(f"dropout option adds dropout after all but last recurrent layer, so "
                          f"non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={num_layers}", stacklevel=3)
        if not isinstance(num_layers, numbers.Integral) or num_layers < 1:
            raise ValueError("num_layers must be greater than or equal to 1")
        if proj_size:
            raise NotImplementedError("LSTM(proj_size=...) is not supported by symgrad yet")
        self.mode, self.input_size = mode, int(input_size)
        self.hidden_size = _check_hidden_size(hidden_size)
        self.num_layers, self.bias, self.batch_first = int(num_layers), bool(bias), batch_first
        self.dropout, self.bidirectional, self.proj_size = float(dropout), bidirectional, 0
        dtype = to_numpy(dtype) or default_float()
        gates = GATES[mode] * self.hidden_size
        for layer in range(self.num_layers):
            for suffix in self._suffixes():
                width = self.input_size if layer == 0 else self.hidden_size * self._directions
                shapes = {"weight_ih": (gates, width), "weight_hh": (gates, self.hidden_size)}
                if self.bias:
                    shapes.update(bias_ih=(gates,), bias_hh=(gates,))
                for name, shape in shapes.items():
                    setattr(self, f"{name}_l{layer}{suffix}", Parameter(np.empty(shape, dtype)))
        self.reset_parameters()

    _directions = property(lambda self: 2 if self.bidirectional else 1)

    def _suffixes(self):
        return ("", "_reverse") if self.bidirectional else ("",)

    def reset_parameters(self):
        _reset_uniform(self)

    def flatten_parameters(self):
        """A no-op (kept for programs written for cuDNN's weight layout)."""

    def _weights(self, layer, suffix):
        names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
        return [getattr(self, f"{n}_l{layer}{suffix}") if self.bias or n.startswith("weight")
                else None for n in names]

    @property
    def all_weights(self):
        return [[w for w in self._weights(layer, suffix) if w is not None]
                for layer in range(self.num_layers) for suffix in self._suffixes()]

    # -- input checks -----------------------------------------------------------------------
    def _check_input(self, input):
        expect_tensor(input, self._get_name())
        if input.dim() not in (2, 3):
            raise ValueError(f"{self._get_name()}: Expected input to be 2D or 3D, got "
                             f"{input.dim()}D instead")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {input.shape[-1]}")
        weight = self.weight_ih_l0
        if input.dtype != weight.dtype:
            raise RuntimeError(f"input must have the type {weight.dtype}, got type {input.dtype}")

    def _state(self, hx, batch, batched, dtype, which=""):
        """``hx`` as (layers * directions, N, H), zeros when not given."""
        shape = (self.num_layers * self._directions, batch, self.hidden_size)
        if hx is None:
            return zeros(*shape, dtype=dtype)
        if batched and hx.dim() != 3 or not batched and hx.dim() != 2:
            kind = "batched 3-D" if batched else "unbatched 2-D"
            raise RuntimeError(f"For {kind} input, hx should also be {3 if batched else 2}-D "
                               f"but got {hx.dim()}-D tensor")
        state = hx if batched else hx.unsqueeze(1)
        if tuple(state.shape) != shape:
            expected = shape if batched else (shape[0], shape[2])
            raise RuntimeError(f"Expected hidden{which} size {expected}, got {list(hx.shape)}")
        return state

    def _initial_states(self, hx, batch, batched, dtype):
        return self._state(hx, batch, batched, dtype), None

    # -- the recurrence ---------------------------------------------------------------------
    def forward(self, input, hx=None):
        self._check_input(input)
        batched = input.dim() == 3
        x = input if batched else input.unsqueeze(1)
        x = x.transpose(0, 1) if batched and self.batch_first else x
        steps = x.shape[0]
        h0, c0 = self._initial_states(hx, x.shape[1], batched, input.dtype)
        last_h, last_c = [], []
        for layer in range(self.num_layers):
            outputs = []
            for direction, suffix in enumerate(self._suffixes()):
                index = layer * self._directions + direction
                packed = _run_layer(self.mode, x, h0[index], None if c0 is None else c0[index],
                                    self._weights(layer, suffix), reverse=direction == 1)
                outputs.append(packed if c0 is None else packed[:steps])
                last_h.append(packed[0 if direction else steps - 1])
                if c0 is not None:
                    last_c.append(packed[steps])
            x = outputs[0] if len(outputs) == 1 else cat(outputs, 2)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = dropout(x, self.dropout, True)
        return self._result(x, batched, stack(last_h), stack(last_c) if last_c else None)

    def _result(self, output, batched, h_n, c_n):
        if not batched:
            output, h_n = output.squeeze(1), h_n.squeeze(1)
            c_n = None if c_n is None else c_n.squeeze(1)
        elif self.batch_first:
            output = output.transpose(0, 1)
        return output, h_n if c_n is None else (h_n, c_n)

    def extra_repr(self):
        text = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        if self.bias is not True:
            text += f", bias={self.bias}"
        if self.batch_first is not False:
            text += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            text += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            text += f", bidirectional={self.bidirectional}"
        return text


class RNN(RNNBase):
    """Elman RNN: ``h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)`` (or ``relu``)."""

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or "
                             f"'relu'.")
        self.nonlinearity = nonlinearity
        super().__init__(f"RNN_{nonlinearity.upper()}", input_size, hidden_size, num_layers,
                         bias, batch_first, dropout, bidirectional, device=device, dtype=dtype)

    def extra_repr(self):
        text = super().extra_repr()
        return text if self.nonlinearity == "tanh" else text + f", nonlinearity={self.nonlinearity!r}"


class GRU(RNNBase):
    """Gated recurrent unit, gates (reset, update, new) as PyTorch stacks them."""

    def __init__(self, *args, **kwargs):
        super().__init__("GRU", *args, **kwargs)


class LSTM(RNNBase):
    """Long short-term memory, gates (input, forget, cell, output); returns
    ``output, (h_n, c_n)``."""

    def __init__(self, *args, **kwargs):
        super().__init__("LSTM", *args, **kwargs)

    def _initial_states(self, hx, batch, batched, dtype):
        if hx is None:
            return self._state(None, batch, batched, dtype), self._state(None, batch, batched, dtype)
        if not isinstance(hx, (tuple, list)) or len(hx) != 2:
            raise RuntimeError("LSTM: hx must be a tuple (h_0, c_0) of two Tensors")
        return (self._state(hx[0], batch, batched, dtype, "[0]"),
                self._state(hx[1], batch, batched, dtype, "[1]"))

