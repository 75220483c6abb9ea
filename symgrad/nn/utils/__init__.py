"""``torch.nn.utils``: gradient clipping (``clip_grad_norm_``, ``clip_grad_value_``),
``parameters_to_vector`` / ``vector_to_parameters`` and ``rnn`` (``pad_sequence``, packing).

>>> import symgrad as torch
>>> from symgrad import nn
>>> w = torch.tensor([3.0, 4.0], requires_grad=True)
>>> (w * w).sum().backward()
>>> nn.utils.clip_grad_norm_([w], max_norm=1.0)
tensor(10.)
"""
from symgrad.nn.utils.clip_grad import clip_grad_norm_, clip_grad_value_, get_total_norm
from symgrad.nn.utils.convert_parameters import parameters_to_vector, vector_to_parameters
import symgrad.nn.utils.rnn as rnn

__all__ = ["clip_grad_norm_", "clip_grad_value_", "get_total_norm", "parameters_to_vector",
           "vector_to_parameters", "rnn"]
