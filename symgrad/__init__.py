"""symgrad: trace numpy code into a graph, differentiate it in reverse mode, compile it.

>>> import numpy as np, symgrad as sg
>>> sg.grad(lambda x: np.sum(np.sin(x)))(np.zeros(2))
array([1., 1.])
"""
from symgrad.errors import TracingError
from symgrad.graph import Graph
from symgrad import ops
from symgrad import numpy_dispatch  # noqa: F401  (registers numpy functions for tracers)
from symgrad.ops import (  # noqa: F401
    absolute, clip, concatenate, cos, exp, log, log1p, matmul, maximum, minimum, sign, sin,
    sqrt, square, stack, tanh, where)
from symgrad.tracing import Tracer, trace
from symgrad.interpreter import evaluate
from symgrad.api import grad, jit, value_and_grad, vjp
from symgrad.check import check_grad

__version__ = "0.1.0"
__all__ = ["TracingError", "Graph", "Tracer", "trace", "evaluate", "grad", "jit",
           "value_and_grad", "vjp", "check_grad", "where", "ops"]
