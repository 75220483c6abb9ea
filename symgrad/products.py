"""Products with derivative matrices that never form the matrix (``hvp``, autograd's
``hessian_vector_product``, ``make_hvp``, ``tensor_jacobian_product``, ``make_ggnvp``) and
HIPS autograd's other wrappers (``elementwise_grad``, ``grad_named``, ``grad_and_aux``,
``deriv``, ``make_vjp``). Each takes symgrad's ``backend=`` and ``device=`` options too.

A Hessian-vector product is reverse mode over reverse mode: the gradient of
``<grad f(x), v>``, about twice the cost of one gradient.

>>> import numpy as np, symgrad as sg
>>> sg.hvp(lambda x: np.sum(x ** 3), (np.array([1.0, 2.0]),), (np.array([1.0, 0.0]),))
array([6., 0.])
"""
import inspect
from dataclasses import dataclass

import numpy as np

import symgrad.core.pytree as pytree
from symgrad.api import grad, vjp
from symgrad.forward_mode import jvp, make_jvp, zeros_like_tree
from symgrad.jacobians import jacrev
from symgrad.staging import reused


def _tree_dot(a, b):
    return sum(np.sum(x * y) for x, y in zip(pytree.flatten(a)[0], pytree.flatten(b)[0]))


@dataclass(frozen=True)
class _DotTangents:
    """``(*primals, *tangents) -> sum_i <d fn / d primal_i, tangent_i>`` (hashable, so the
    transformations of one ``fn`` are made and compiled once)."""
    fn: object
    count: int

    def __call__(self, *args):
        primals, tangents = args[:self.count], args[self.count:]
        grads = grad(self.fn, argnums=tuple(range(self.count)))(*primals)
        return _tree_dot(grads, tangents)


def hvp(fn, primals, tangents, *, backend="numba", device="cpu"):
    """The Hessian of ``fn`` (with respect to its first argument) times ``tangents``, as
    ``jax.jvp(jax.grad(fn), primals, tangents)[1]`` computes it, without forming the Hessian.

    >>> import numpy as np, symgrad as sg
    >>> sg.hvp(lambda x: np.sum(np.sin(x)), (np.zeros(2),), (np.ones(2),))
    array([-0., -0.])
    """
    dotted = _DotTangents(fn, len(primals))
    return grad(dotted, argnums=0, backend=backend, device=device)(*primals, *tangents)


@dataclass(frozen=True)
class _ContractLast:
    """``(*args, tensor) -> tensordot(fn(*args), tensor)`` over all of ``tensor``'s axes
    (``tensor_first``: ``tensordot(tensor, fn(*args))``); a pytree ``tensor`` (parameters
    in a tuple) is dotted leaf by leaf with a value of its structure."""
    fn: object
    tensor_first: bool = False

    def __call__(self, *args, **kwargs):
        args, tensor = args[:-1], args[-1]
        value = self.fn(*args, **kwargs)
        if pytree.flatten(tensor)[1] != pytree.LEAF:
            return _tree_dot(value, tensor)
        pair = (tensor, value) if self.tensor_first else (value, tensor)
        return np.tensordot(*pair, axes=np.ndim(tensor))


@reused
def hessian_tensor_product(fun, argnum=0, **options):
    """autograd's ``hessian_tensor_product(fun, argnum)(*args, tensor)``: the Hessian with
    respect to argument ``argnum`` contracted with ``tensor`` (of that argument's shape).

    >>> import numpy as np, symgrad as sg
    >>> sg.hessian_vector_product(lambda a: np.sum(a ** 3))(np.array([1.0, 2.0]), np.ones(2))
    array([ 6., 12.])
    """
    return grad(_ContractLast(grad(fun, argnum, **options)), argnum, **options)


hessian_vector_product = hessian_tensor_product


def make_hvp(fun, argnum=0, **options):
    """autograd's ``make_hvp(fun, argnum)(*args) -> (hvp, gradient)``: ``hvp(v)`` is the
    Hessian at ``args`` times ``v``.

    >>> import numpy as np, symgrad as sg
    >>> product, gradient = sg.make_hvp(lambda x: np.sum(x ** 3))(np.array([1.0, 2.0]))
    >>> product(np.array([0.0, 1.0]))
    array([ 0., 12.])
    """
    def at(*args, **kwargs):
        def product(vector):
            return hessian_tensor_product(fun, argnum, **options)(*args, vector, **kwargs)
        return product, grad(fun, argnum, **options)(*args, **kwargs)
    return at


@reused
def tensor_jacobian_product(fun, argnum=0, **options):
    """autograd's ``tensor_jacobian_product(fun, argnum)(*args, tensor)``: ``tensor``
    contracted with the leading axes of the Jacobian (``tensor^T J`` for a vector).

    >>> import numpy as np, symgrad as sg
    >>> sg.vector_jacobian_product(np.sin)(np.zeros(2), np.array([1.0, 2.0]))
    array([1., 2.])
    """
    return jacrev(_ContractLast(fun, tensor_first=True), argnum, **options)


vector_jacobian_product = tensor_jacobian_product


@dataclass(frozen=True)
class _SummedOutput:
    fn: object

    def __call__(self, *args, **kwargs):
        return sum(np.sum(leaf) for leaf in pytree.flatten(self.fn(*args, **kwargs))[0])


@reused
def elementwise_grad(fun, argnum=0, *, backend="numba", device="cpu"):
    """autograd's ``elementwise_grad``: the vector-Jacobian product with ones, which is the
    Jacobian's diagonal when ``fun`` acts elementwise (one reverse pass).

    >>> import numpy as np, symgrad as sg
    >>> sg.elementwise_grad(np.sin)(np.zeros(3))
    array([1., 1., 1.])
    """
    return grad(_SummedOutput(fun), argnum, backend=backend, device=device)


def make_vjp(fun, argnum=0, **options):
    """autograd's ``make_vjp(fun, argnum)(*args) -> (vjp, value)``: ``vjp(g)`` pulls the
    cotangent ``g`` back to argument ``argnum``.

    >>> import numpy as np, symgrad as sg
    >>> pullback, value = sg.make_vjp(np.sin)(np.zeros(2))
    >>> pullback(np.array([1.0, 2.0]))
    array([1., 2.])
    """
    def at(*args):
        value, pullback = vjp(fun, *args, **options)
        return (lambda g: pullback(g)[argnum]), value
    return at


def grad_named(fun, argname, **options):
    """autograd's ``grad_named``: the gradient with respect to the argument named ``argname``.

    >>> import numpy as np, symgrad as sg
    >>> sg.grad_named(lambda x, y: x * y, "y")(2.0, 3.0)
    array(2.)
    """
    return grad(fun, list(inspect.signature(fun).parameters).index(argname), **options)


def grad_and_aux(fun, argnum=0, **options):
    """autograd's ``grad_and_aux``: ``(gradient of the first output, the second output)``."""
    return grad(fun, argnum, has_aux=True, **options)


def deriv(fun, argnum=0, **options):
    """autograd's ``deriv``: the jvp along ones (the derivative of a scalar function)."""
    def at(*args, **kwargs):
        return make_jvp(fun, argnum, **options)(*args, **kwargs)(np.ones_like(args[argnum]))[1]
    return at


def _half_squared_norm(x):
    return 0.5 * np.sum(x ** 2, axis=-1)


def make_ggnvp(f, g=_half_squared_norm, f_argnum=0, **options):
    """autograd's generalized Gauss-Newton products: ``make_ggnvp(f, g)(*args)(v)`` is
    ``J^T H_g J v`` with ``J`` the Jacobian of ``f`` and ``H_g`` the Hessian of ``g`` at
    ``f(*args)``."""
    def at(*args):
        def ggnvp(vector):
            tangents = [zeros_like_tree(arg) for arg in args]
            tangents[f_argnum] = vector
            value, pushed = jvp(f, tuple(args), tuple(tangents), **options)
            curvature = hvp(g, (value,), (pushed,), **options)
            return vjp(f, *args, **options)[1](curvature)[f_argnum]
        return ggnvp
    return at


__all__ = ["hvp", "hessian_tensor_product", "hessian_vector_product", "make_hvp", "make_vjp",
           "tensor_jacobian_product", "vector_jacobian_product", "elementwise_grad",
           "grad_named", "grad_and_aux", "deriv", "make_ggnvp"]
