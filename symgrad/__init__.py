"""symgrad: trace numpy code into a graph, differentiate it in reverse mode, compile it.

>>> import numpy as np, symgrad as sg
>>> sg.grad(lambda x: np.sum(np.sin(x)))(np.zeros(2))
array([1., 1.])

Importing symgrad does not import numba or scipy: the backend (``symgrad.compiler``) is
imported on the first compile.
"""
from symgrad.core.version import __version__

# floor 1: the IR and its calculus
import symgrad.core.errors as errors  # sg.errors.UnexpectedTracerError, as jax.errors
import symgrad.core.ops as ops
import symgrad.core.tracer_faces  # noqa: F401  (numpy functions, operators, methods of tracers)
from symgrad.core.errors import TracingError
from symgrad.core.graph import Graph
from symgrad.core.interpreter import evaluate
from symgrad.core.tracing import Tracer, trace

# floor 2: the numpy door and the PyTorch door
from symgrad.api import grad, jit, value_and_grad, vjp
from symgrad.check import check_grad
from symgrad.export import export_source
import symgrad.eager.tensor_methods  # noqa: F401  (Tensor's operators and methods)
from symgrad.eager.creation import (
    arange, from_numpy, full, manual_seed, ones, ones_like, rand, randn, tensor, zeros, zeros_like)
from symgrad.eager.device import device
from symgrad.eager.grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from symgrad.eager.tensor import Tensor, bool_, float32, float64, int32, int64
import symgrad.autograd as autograd
import symgrad.cache as cache  # sg.cache.info(), sg.cache.clear()
import symgrad.public_functions as public_functions
from symgrad.public_functions import *  # noqa: F401,F403  (sg.exp, sg.sum, ...: public_functions.__all__)
import symgrad.viz as viz
from symgrad.viz import ExportError

# floors 3 and 4: layers, losses, optimizers; compiled training loops
import symgrad.nn as nn
import symgrad.optim as optim
from symgrad.training.loop import compiled_loops, train

__all__ = [
    "__version__", "errors", "ops", "TracingError", "Graph", "evaluate", "Tracer", "trace",
    "grad", "jit", "value_and_grad", "vjp", "check_grad", "export_source",
    "arange", "from_numpy", "full", "manual_seed", "ones", "ones_like", "rand", "randn", "tensor",
    "zeros", "zeros_like", "device", "enable_grad", "is_grad_enabled", "no_grad",
    "set_grad_enabled", "Tensor", "bool_", "float32", "float64", "int32", "int64", "autograd",
    "cache", "viz", "ExportError", "nn", "optim", "train",
    "compiled_loops",
] + public_functions.__all__
