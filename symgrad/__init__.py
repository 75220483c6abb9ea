"""symgrad: trace numpy code into a graph, differentiate it in reverse mode, compile it.

>>> import numpy as np, symgrad as sg
>>> sg.grad(lambda x: np.sum(np.sin(x)))(np.zeros(2))
array([1., 1.])

Importing symgrad does not import numba or scipy: the compiler (``compiler/``) is imported
on the first compile.
"""
from symgrad.core.version import __version__

import symgrad.core.errors as errors  # sg.errors.UnexpectedTracerError, as jax.errors
from symgrad.core.errors import TracingError  # noqa: E402
from symgrad.core.graph import Graph
from symgrad.core import ops
from symgrad.core import numpy_dispatch  # noqa: F401  (registers numpy functions for tracers)
from symgrad.core.ops import (  # noqa: F401
    absolute, clip, concatenate, cos, exp, log, log1p, matmul, maximum, minimum, sign, sin,
    sqrt, square, stack, tanh, where)
from symgrad.core.tracing import Tracer, trace
from symgrad.core.interpreter import evaluate
from symgrad.api import grad, jit, value_and_grad, vjp
from symgrad.check import check_grad
from symgrad import viz
from symgrad.viz import ExportError
from symgrad.export import export_source
from symgrad.eager.device import device  # noqa: F401
from symgrad.eager.tensor import Tensor, float32, float64, int32, int64, bool_  # noqa: F401
from symgrad.eager import tensor_methods as tensor_ops  # noqa: F401  (gives Tensor its operators and methods)
from symgrad.eager.creation import (  # noqa: F401
    arange, from_numpy, full, manual_seed, ones, ones_like, rand, randn, tensor, zeros, zeros_like)
from symgrad.eager.grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled  # noqa: F401
from symgrad.public_functions import PUBLIC as _PUBLIC_FUNCTIONS
from symgrad import autograd  # noqa: F401

from symgrad import cache  # noqa: F401  (sg.cache.info(), sg.cache.clear())

globals().update(_PUBLIC_FUNCTIONS)

__all__ = ["TracingError", "Graph", "Tracer", "trace", "evaluate", "grad", "jit",
           "value_and_grad", "vjp", "check_grad", "where", "ops", "viz", "export_source",
           "ExportError", "train", "cache"]
from symgrad import nn, optim  # noqa: E402,F401  (PyTorch-style layers, losses, optimizers)
from symgrad.training.loop import train  # noqa: E402,F401  (compiled training loops)
