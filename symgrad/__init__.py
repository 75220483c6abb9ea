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
from symgrad.core.tracing import Tracer
from symgrad.core.trace_function import trace

# floor 2: the numpy door and the PyTorch door
from symgrad.api import grad, jit, value_and_grad, vjp
from symgrad.check import check_grad
from symgrad.checkpoint import checkpoint, remat
from symgrad.control_flow import cond, fori_loop, scan, switch, while_loop
from symgrad.custom_rules import custom_jvp, custom_vjp
from symgrad.forward_mode import jvp, linearize, make_jvp
from symgrad.jacobians import hessian, jacfwd, jacobian, jacrev
from symgrad.vmap import vmap
from symgrad.products import (
    deriv, elementwise_grad, grad_and_aux, grad_named, hessian_tensor_product,
    hessian_vector_product, hvp, make_ggnvp, make_hvp, make_vjp, tensor_jacobian_product,
    vector_jacobian_product)
import symgrad.extend as extend  # autograd.extend: primitive, defvjp, defjvp
import symgrad.lax as lax  # sg.lax.stop_gradient, as jax.lax
import symgrad.tree_util as tree_util  # jax.tree_util's pytree API
from symgrad.export import export_source
import symgrad.eager.tensor_methods  # noqa: F401  (Tensor's operators and methods)
import symgrad.eager.assignment  # noqa: F401  (Tensor.__setitem__)
from symgrad.eager.creation import (
    BoolTensor, ByteTensor, DoubleTensor, FloatTensor, IntTensor, LongTensor, arange, as_tensor,
    empty, empty_like, eye, from_numpy, full, full_like, is_tensor, linspace, logspace, numel, ones,
    ones_like, tensor, zeros, zeros_like)
from symgrad.eager.device import device
from symgrad.eager.dtypes import (
    bfloat16, bool, cdouble, cfloat, complex64, complex128, double, dtype, finfo, float, float16,
    float32, float64, get_default_dtype, half, iinfo, int, int8, int16, int32, int64,
    is_floating_point, long, set_default_dtype, short, uint8, uint16, uint32, uint64)
from symgrad.eager.environment import backends, cuda, get_default_device, set_default_device
from symgrad.eager.grad_mode import (
    enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled)
from symgrad.eager.promotion import result_type
from symgrad.eager.sampling import (
    Generator, bernoulli, default_generator, initial_seed, manual_seed, multinomial, normal,
    rand, rand_like, randint, randint_like, randn, randn_like, randperm, seed)
from symgrad.eager.serialization import load, save
from symgrad.eager.tensor import Size, Tensor
import symgrad.autograd as autograd
import symgrad.linalg as linalg  # torch.linalg
import symgrad.testing as testing  # torch.testing.assert_close
import symgrad.torch_jit  # noqa: F401  (torch.jit.script and trace, on sg.jit)
import symgrad.cache as cache  # sg.cache.info(), sg.cache.clear()
import symgrad.public_functions as public_functions
from symgrad.public_functions import *  # noqa: F401,F403  (sg.exp, sg.sum, ...: public_functions.__all__)
from symgrad.linalg import (  # torch.svd, torch.qr, ... (the spellings before torch.linalg)
    lstsq_removed as lstsq, pinverse, qr_legacy as qr, slogdet, svd_legacy as svd)
import symgrad.viz as viz
from symgrad.viz import ExportError
import symgrad.scipy as scipy  # scipy.special and scipy.stats on traced values

# floors 3 and 4: layers, losses, optimizers; compiled training loops
import symgrad.nn as nn
import symgrad.optim as optim
import symgrad.distributions as distributions  # torch.distributions
import symgrad.utils as utils
import symgrad.distributed as distributed
from symgrad.training.loop import compiled_loops, train

__all__ = [
    "__version__", "errors", "ops", "TracingError", "Graph", "evaluate", "Tracer", "trace",
    "grad", "jit", "value_and_grad", "vjp", "check_grad", "export_source",
    "checkpoint", "remat", "cond", "fori_loop", "scan", "switch", "while_loop", "custom_jvp",
    "custom_vjp", "jvp", "linearize", "make_jvp", "hessian", "jacfwd", "jacobian",
    "jacrev", "vmap", "deriv", "elementwise_grad", "grad_and_aux", "grad_named", "hessian_tensor_product",
    "hessian_vector_product", "hvp", "make_ggnvp", "make_hvp", "make_vjp",
    "tensor_jacobian_product", "vector_jacobian_product", "extend", "lax", "tree_util",
    "BoolTensor", "ByteTensor", "DoubleTensor", "FloatTensor", "IntTensor", "LongTensor",
    "arange", "as_tensor",
    "empty", "empty_like", "eye", "from_numpy", "full", "full_like", "is_tensor", "linspace",
    "logspace", "numel",
    "ones", "ones_like", "tensor", "zeros", "zeros_like", "device",
    "bfloat16", "cdouble", "cfloat", "complex64", "complex128", "double", "dtype", "finfo",
    "float16", "float32", "float64", "get_default_dtype", "half", "iinfo", "int8",
    "int16", "int32", "int64", "is_floating_point", "long", "set_default_dtype", "short", "uint8",
    "uint16", "uint32", "uint64", "backends", "cuda", "get_default_device", "set_default_device",
    "enable_grad", "inference_mode", "is_grad_enabled", "no_grad", "set_grad_enabled",
    "result_type", "Generator", "bernoulli", "default_generator", "initial_seed", "manual_seed",
    "multinomial", "normal", "rand", "rand_like", "randint", "randint_like", "randn",
    "randn_like", "randperm", "seed", "load", "save", "Size", "Tensor", "autograd",
    "cache", "linalg", "lstsq", "pinverse", "qr", "slogdet", "svd", "testing", "viz",
    "ExportError", "scipy", "nn", "optim", "distributions", "utils", "distributed", "train",
    "compiled_loops",
] + public_functions.__all__
# symgrad.float, .int and .bool (PyTorch's dtypes) stay out of __all__: a star import would hide
# Python's builtins of those names
