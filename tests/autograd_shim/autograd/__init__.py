"""HIPS autograd's public API on symgrad (see README.md next to this package).

>>> import autograd.numpy as np
>>> from autograd import grad
>>> float(grad(np.sin)(0.0))
1.0
"""
import functools
import importlib
import os
import sys
import types

import numpy

import symgrad as sg
import symgrad.scipy
import symgrad.scipy.special
import symgrad.scipy.stats

BACKEND = os.environ.get("SYMGRAD_SHIM_BACKEND", "reference")


def _on_backend(transform, argnum_spelled="argnum"):
    @functools.wraps(transform)
    def with_backend(*args, **kwargs):
        kwargs.setdefault("backend", BACKEND)
        if "argnum" in kwargs:     # autograd's keyword, JAX's argnums where symgrad has it
            kwargs[argnum_spelled] = kwargs.pop("argnum")
        return transform(*args, **kwargs)
    return with_backend


grad = _on_backend(sg.grad, "argnums")
value_and_grad = _on_backend(sg.value_and_grad, "argnums")
elementwise_grad = _on_backend(sg.elementwise_grad)
jacobian = _on_backend(sg.jacobian)
hessian = _on_backend(sg.hessian)
make_vjp = _on_backend(sg.make_vjp)
make_jvp = _on_backend(sg.make_jvp)
deriv = _on_backend(sg.deriv)
grad_and_aux = _on_backend(sg.grad_and_aux)
grad_named = _on_backend(sg.grad_named)
hessian_tensor_product = _on_backend(sg.hessian_tensor_product)
hessian_vector_product = _on_backend(sg.hessian_vector_product)
tensor_jacobian_product = _on_backend(sg.tensor_jacobian_product)
vector_jacobian_product = _on_backend(sg.vector_jacobian_product)
make_hvp = _on_backend(sg.make_hvp)
make_ggnvp = _on_backend(sg.make_ggnvp)
checkpoint = sg.checkpoint
primitive = sg.extend.primitive


def holomorphic_grad(fun, argnum=0):
    """autograd's holomorphic_grad: ``grad`` (symgrad's convention for complex inputs is
    autograd's, so a holomorphic function's gradient is its conjugated derivative too)."""
    return grad(fun, argnum)


def multigrad_dict(fun):
    """autograd's multigrad_dict: the gradients wrt every argument, in a dict by name."""
    import inspect
    names = list(inspect.signature(fun).parameters)

    def gradient_dict(*args, **kwargs):
        grads = grad(fun, tuple(range(len(args))))(*args, **kwargs)
        return dict(zip(names, grads))
    return gradient_dict


from autograd.builtins import dict, isinstance, list, tuple, type  # noqa: E402,F401


def _alias(name, module):
    sys.modules[name] = module
    return module


numpy_module = _alias("autograd.numpy", numpy)
_alias("autograd.numpy.random", numpy.random)
_alias("autograd.numpy.linalg", numpy.linalg)
_alias("autograd.numpy.fft", numpy.fft)
scipy_module = _alias("autograd.scipy", types.ModuleType("autograd.scipy"))
scipy_module.special, scipy_module.stats = symgrad.scipy.special, symgrad.scipy.stats
scipy = scipy_module      # autograd.scipy.signal.convolve(...) after import autograd.scipy.signal
_alias("autograd.scipy.special", symgrad.scipy.special)
_alias("autograd.scipy.stats", symgrad.scipy.stats)
for _name in ("norm", "multivariate_normal", "t", "gamma", "beta", "chi2", "poisson",
              "dirichlet"):
    _alias(f"autograd.scipy.stats.{_name}", getattr(symgrad.scipy.stats, _name))
for _optional in ("linalg", "signal", "integrate"):
    # symgrad's own module where it has one, else scipy's (traced where symgrad knows it)
    try:
        _module = importlib.import_module(f"symgrad.scipy.{_optional}")
    except ImportError:
        _module = importlib.import_module(f"scipy.{_optional}")
    setattr(scipy_module, _optional, _alias(f"autograd.scipy.{_optional}", _module))
extend = _alias("autograd.extend", sg.extend)
