"""The recurrences of ``nn.RNN``, ``nn.LSTM`` and ``nn.GRU`` with PyTorch's gate order.

One layer in one direction is one recorded tape node whose function runs the time loop with
symgrad ops: eagerly it computes with numpy, and its gradient (``loss.backward()``) or its
trace inside ``sg.train`` unrolls the loop into one graph, compiled once per input shape.

The layer function returns its outputs packed into one array, shape (L, N, H) — and, for the
LSTM, the last cell state appended along time: (L + 1, N, H).

>>> import numpy as np
>>> x, h = np.ones((3, 1, 2)), np.zeros((1, 1))
>>> w_ih, w_hh = np.full((1, 2), 0.5), np.zeros((1, 1))
>>> recurrent_layer(x, h, None, w_ih, w_hh, None, None, mode="RNN_RELU", reverse=False).ravel()
array([1., 1., 1.])
"""
import symgrad.core.ops as ops

# gates per hidden unit, in PyTorch's order: LSTM (input, forget, cell, output), GRU (reset,
# update, new)
GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _gate(gates, index, hidden):
    return ops.getitem(gates, (slice(None), slice(index * hidden, (index + 1) * hidden)))


def _rnn_tanh_cell(from_input, from_hidden, h, c):
    return ops.tanh(from_input + from_hidden), None


def _rnn_relu_cell(from_input, from_hidden, h, c):
    return ops.relu(from_input + from_hidden), None


def _lstm_cell(from_input, from_hidden, h, c):
    gates, hidden = from_input + from_hidden, h.shape[-1]
    i, f, o = (ops.sigmoid(_gate(gates, k, hidden)) for k in (0, 1, 3))
    c = f * c + i * ops.tanh(_gate(gates, 2, hidden))
    return o * ops.tanh(c), c


def _gru_cell(from_input, from_hidden, h, c):
    hidden = h.shape[-1]
    r, z = (ops.sigmoid(_gate(from_input, k, hidden) + _gate(from_hidden, k, hidden))
            for k in (0, 1))
    n = ops.tanh(_gate(from_input, 2, hidden) + r * _gate(from_hidden, 2, hidden))
    return n + z * (h - n), None


CELLS = {"RNN_TANH": _rnn_tanh_cell, "RNN_RELU": _rnn_relu_cell, "LSTM": _lstm_cell,
         "GRU": _gru_cell}


def _affine(x, weight, bias):
    out = ops.matmul(x, ops.transpose(weight))
    return out if bias is None else out + bias


def recurrent_layer(x, h, c, w_ih, w_hh, b_ih, b_hh, *, mode, reverse):
    """One layer in one direction over ``x`` (L, N, I) from state ``h`` (N, H) (and the
    LSTM's ``c``); ``reverse`` runs from the last step to the first. Returns the packed
    outputs (see the module's docstring)."""
    from_input = _affine(x, w_ih, b_ih)         # every step's input projection in one matmul
    steps = range(x.shape[0])
    outputs = [None] * x.shape[0]
    for t in reversed(steps) if reverse else steps:
        h, c = CELLS[mode](ops.getitem(from_input, t), _affine(h, w_hh, b_hh), h, c)
        outputs[t] = h
    if c is not None:
        outputs.append(c)
    return ops.stack(outputs)
