"""One step of a recurrence: ``RNNCell``, ``LSTMCell``, ``GRUCell`` (PyTorch's parameters
``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh`` and their initialization).

>>> import symgrad as torch
>>> from symgrad import nn
>>> _ = torch.manual_seed(0)
>>> cell = nn.LSTMCell(4, 3)
>>> h, c = cell(torch.randn(2, 4))
>>> h.shape, c.shape
(torch.Size([2, 3]), torch.Size([2, 3]))
"""
import numpy as np

from symgrad.eager.creation import zeros
from symgrad.eager.dtypes import default_float, to_numpy
from symgrad.eager.tensor import apply
from symgrad.nn.functional_rnn import GATES, recurrent_layer
from symgrad.nn.input_checks import expect_tensor
from symgrad.nn.module import Module
from symgrad.nn.parameter import Parameter
from symgrad.nn.rnn import _check_hidden_size, _reset_uniform


class RNNCellBase(Module):
    def __init__(self, mode, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__()
        self.mode, self.input_size = mode, int(input_size)
        self.hidden_size, self.bias = _check_hidden_size(hidden_size), bool(bias)
        dtype = to_numpy(dtype) or default_float()
        gates = GATES[mode] * self.hidden_size
        self.weight_ih = Parameter(np.empty((gates, self.input_size), dtype))
        self.weight_hh = Parameter(np.empty((gates, self.hidden_size), dtype))
        for name in ("bias_ih", "bias_hh"):
            if bias:
                setattr(self, name, Parameter(np.empty(gates, dtype)))
            else:
                self.register_parameter(name, None)
        self.reset_parameters()

    def reset_parameters(self):
        _reset_uniform(self)

    def _check(self, input, states):
        expect_tensor(input, self._get_name())
        if input.dim() not in (1, 2):
            raise ValueError(f"{self._get_name()}: Expected input to be 1D or 2D, got "
                             f"{input.dim()}D instead")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.shape[-1]} "
                               f"expected {self.input_size}")
        for state in states:
            if state is not None and state.dim() != input.dim():
                raise ValueError(f"{self._get_name()}: Expected hidden to be "
                                 f"{input.dim()}D for {input.dim()}D input, got "
                                 f"{state.dim()}D instead")

    def _step(self, input, h, c):
        """The packed next state: (1, N, H), or (2, N, H) (h and c) for the LSTM."""
        self._check(input, (h, c))
        batched = input.dim() == 2
        x = input.unsqueeze(0) if batched else input.view(1, 1, -1)
        states = [zeros(x.shape[1], self.hidden_size, dtype=input.dtype) if s is None else
                  s if batched else s.unsqueeze(0) for s in (h, c)]
        if self.mode != "LSTM":
            states[1] = None
        packed = apply("RnnCellBackward0", recurrent_layer, x, *states, self.weight_ih,
                       self.weight_hh, self.bias_ih, self.bias_hh, mode=self.mode, reverse=False)
        return packed if batched else packed.squeeze(1)

    def extra_repr(self):
        text = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            text += ", bias=False"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            text += f", nonlinearity={self.nonlinearity}"
        return text


class RNNCell(RNNCellBase):
    """``h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)`` (or ``relu``)."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None,
                 dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise RuntimeError(f"Unknown nonlinearity: {nonlinearity}")
        self.nonlinearity = nonlinearity
        super().__init__(f"RNN_{nonlinearity.upper()}", input_size, hidden_size, bias,
                         dtype=dtype)

    def forward(self, input, hx=None):
        return self._step(input, hx, None)[0]


class GRUCell(RNNCellBase):
    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__("GRU", input_size, hidden_size, bias, dtype=dtype)

    def forward(self, input, hx=None):
        return self._step(input, hx, None)[0]


class LSTMCell(RNNCellBase):
    """Returns ``(h', c')``; ``hx`` is ``(h, c)`` or None (zeros)."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, bias, dtype=dtype)

    def forward(self, input, hx=None):
        h, c = (None, None) if hx is None else hx
        packed = self._step(input, h, c)
        return packed[0], packed[1]
