"""Jacobians and Hessians: ``jacrev``, ``jacfwd``, ``jacobian``, ``hessian`` (JAX's names and
pytree structure; autograd's shapes: ``out.shape + in.shape``).

``jacrev`` pulls back one basis cotangent per output element, ``jacfwd`` pushes one basis
tangent per input element through the transposed pullback (symgrad.forward_mode), all in one
graph: the passes are unrolled (no batching transform yet), so they suit Jacobians of up to a
few hundred elements along the unrolled side.

>>> import numpy as np, symgrad as sg
>>> sg.jacobian(lambda x: x ** 2)(np.array([1.0, 2.0]))
array([[2., 0.],
       [0., 4.]])
"""
import functools

import numpy as np

import symgrad.core.pytree as pytree
from symgrad.arguments import check_argnums, differentiated, split_aux
from symgrad.core.reverse_mode import backward, is_differentiable
from symgrad.core.tracing import Tracer
from symgrad.forward_mode import Transposable, as_tracer, zeros_of
from symgrad.staging import Transformed, reused
from symgrad.static_arguments import StaticSpec


def _basis(leaf, index):
    seed = np.zeros(leaf.size, leaf.dtype)
    seed[index] = 1
    return seed.reshape(leaf.shape)


def _jacobian_rows(graph, out_leaf, wrt, since):
    """d(out_leaf)/d(w) for each variable ``w``, one pullback per output element."""
    if not is_differentiable(out_leaf.dtype) or out_leaf.size == 0:
        return [zeros_of(graph, np.empty(out_leaf.shape + w.shape), w.dtype) for w in wrt]
    rows = [backward(graph, {out_leaf.node: as_tracer(graph, _basis(out_leaf, k))},
                     [w.node for w in wrt], since) for k in range(out_leaf.size)]
    return [np.stack([row[i] for row in rows]).reshape(out_leaf.shape + w.shape)
            for i, w in enumerate(wrt)]


def _jacobian_columns(graph, out_leaves, wrt, since):
    """Per output leaf, d(out)/d(w) for each variable ``w``, one tangent per input element."""
    transposable = Transposable(graph, out_leaves, wrt, since)
    blocks = [[] for _ in out_leaves]
    for i, w in enumerate(wrt):
        columns = [transposable.push([_basis(w, j) if k == i else None for k in range(len(wrt))])
                   for j in range(w.size)]
        for o, out in enumerate(out_leaves):
            block = (np.stack([column[o] for column in columns], axis=-1) if columns else
                     zeros_of(graph, np.empty(out.shape + (0,)), w.dtype))
            blocks[o].append(block.reshape(out.shape + w.shape))
    return blocks


def jacobian_builder(fn, argnums, has_aux, forward):
    def build(*args, **kwargs):
        graph, since, args, trees, wrt, many = differentiated(fn, argnums, args, kwargs)
        out = fn(*args, **kwargs)
        aux = None
        if has_aux:
            out, aux = split_aux(fn, out)
        out_leaves, out_tree = pytree.flatten(out)
        out_leaves = [as_tracer(graph, leaf) for leaf in out_leaves]
        blocks = (_jacobian_columns(graph, out_leaves, wrt, since) if forward else
                  [_jacobian_rows(graph, leaf, wrt, since) for leaf in out_leaves])
        per_output = []
        for block in blocks:
            block = iter(block)     # static leaves (a dataclass's name) stay as they are
            parts = [pytree.unflatten(treedef, [next(block) if isinstance(leaf, Tracer) else leaf
                                                for leaf in leaves]) for leaves, treedef in trees]
            per_output.append(tuple(parts) if many else parts[0])
        jacobian = pytree.unflatten(out_tree, per_output)
        return (jacobian, aux) if has_aux else jacobian
    return build


def _jacobian_transform(kind, forward):
    def transform(fn=None, argnums=0, has_aux=False, *, backend="numba", device="cpu",
                  static_argnums=(), static_argnames=()):
        check_argnums(argnums)
        if fn is None:
            return functools.partial(cached, argnums=argnums, has_aux=has_aux, backend=backend,
                                     device=device, static_argnums=static_argnums,
                                     static_argnames=static_argnames)
        return Transformed(fn, jacobian_builder(fn, argnums, has_aux, forward), backend,
                           kind=kind, device=device,
                           static=StaticSpec.of(static_argnums, static_argnames, argnums))
    transform.__name__ = kind
    cached = reused(transform)
    return cached


jacrev = _jacobian_transform("jacrev", forward=False)
jacrev.__doc__ = """The Jacobian of ``fn`` by reverse mode (``jax.jacrev``): one pullback per
output element. For each output leaf, an array of shape ``out.shape + in.shape`` (a tuple of
them with a tuple ``argnums``; the input's pytree for a pytree argument).

>>> import numpy as np, symgrad as sg
>>> sg.jacrev(lambda x, y: x * y, argnums=(0, 1))(np.array([2.0]), np.array([3.0]))
(array([[3.]]), array([[2.]]))
"""
jacfwd = _jacobian_transform("jacfwd", forward=True)
jacfwd.__doc__ = """The Jacobian of ``fn`` by forward mode (``jax.jacfwd``): one tangent per
input element; the same structure and values as :func:`jacrev`.

>>> import numpy as np, symgrad as sg
>>> sg.jacfwd(np.sin)(np.zeros(2))
array([[1., 0.],
       [0., 1.]])
"""


def jacobian(fun=None, argnum=None, *, argnums=0, has_aux=False, **options):
    """autograd's and JAX's ``jacobian`` (reverse mode): ``jacobian(f, argnum)`` or
    ``jacobian(f, argnums=...)``; each block has shape ``out.shape + in.shape``.

    >>> import numpy as np, symgrad as sg
    >>> sg.jacobian(lambda x: np.array([x, x ** 2]))(3.0)
    array([1., 6.])
    """
    return jacrev(fun, argnums if argnum is None else argnum, has_aux, **options)


def hessian(fun=None, argnum=None, *, argnums=0, has_aux=False, **options):
    """The Hessian, ``jacfwd(jacrev(f))`` as in JAX (autograd's ``hessian(f, argnum)`` too):
    shape ``in.shape + in.shape`` for a scalar ``f``.

    >>> import numpy as np, symgrad as sg
    >>> sg.hessian(lambda x: np.sum(x ** 3))(np.array([1.0, 2.0]))
    array([[ 6.,  0.],
           [ 0., 12.]])
    """
    argnums = argnums if argnum is None else argnum
    if fun is None:
        return functools.partial(hessian, argnums=argnums, has_aux=has_aux, **options)
    return jacfwd(jacrev(fun, argnums, has_aux, **options), argnums, has_aux, **options)
