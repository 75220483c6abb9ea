"""``torch.func``'s names and signatures (``symgrad.func.vmap``, ``grad``, ...) over symgrad's
transforms, for PyTorch users: functions of numpy arrays, traced and compiled like the rest.

>>> import numpy as np
>>> import symgrad.func as func
>>> func.vmap(func.grad(lambda w, x: np.sum(x @ w)), in_dims=(None, 0))(np.ones(2), np.ones((4, 2))).shape
(4, 2)
"""
import symgrad.api as api
import symgrad.forward_mode as forward_mode
import symgrad.jacobians as jacobians
from symgrad.vmap import vmap as jax_vmap


def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None, **options):
    """``torch.func.vmap``: ``in_dims``/``out_dims`` are ``jax.vmap``'s in_axes/out_axes
    (``randomness`` and ``chunk_size`` are accepted; the whole batch runs at once)."""
    return jax_vmap(func, in_axes=in_dims, out_axes=out_dims, **options)


def grad(func, argnums=0, has_aux=False, **options):
    """``torch.func.grad``."""
    return api.grad(func, argnums, has_aux, **options)


def grad_and_value(func, argnums=0, has_aux=False, **options):
    """``torch.func.grad_and_value``: ``(gradient, value)``."""
    with_value = api.value_and_grad(func, argnums, has_aux, **options)

    def swapped(*args, **kwargs):
        value, gradient = with_value(*args, **kwargs)
        return gradient, value
    return swapped


def jacrev(func, argnums=0, *, has_aux=False, **options):
    """``torch.func.jacrev``."""
    return jacobians.jacrev(func, argnums=argnums, has_aux=has_aux, **options)


def jacfwd(func, argnums=0, has_aux=False, **options):
    """``torch.func.jacfwd``."""
    return jacobians.jacfwd(func, argnums=argnums, has_aux=has_aux, **options)


def hessian(func, argnums=0, **options):
    """``torch.func.hessian``."""
    return jacobians.hessian(func, argnums=argnums, **options)


def jvp(func, primals, tangents, *, has_aux=False, **options):
    """``torch.func.jvp``: ``(func(*primals), J tangents)``."""
    return forward_mode.jvp(func, tuple(primals), tuple(tangents), has_aux, **options)


def vjp(func, *primals, has_aux=False, **options):
    """``torch.func.vjp``: ``(func(*primals), vjp_fn)``."""
    return api.vjp(func, *primals, has_aux=has_aux, **options)
