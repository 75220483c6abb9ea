"""``grad``, ``value_and_grad``, ``vjp`` and ``jit``: trace → differentiate → compile → cache.

Called on concrete arrays, a transformed function traces once per input signature (shapes,
dtypes, pytree structure), compiles the graph and caches it. Called on tracers (inside
another transformation) it adds its nodes to the caller's graph instead, which is how
``grad(grad(f))`` differentiates a gradient graph.

>>> import numpy as np, symgrad as sg
>>> sg.grad(lambda x: np.sum(x ** 3))(np.array([1.0, 2.0]))
array([ 3., 12.])
"""
from collections.abc import Callable, Sequence
from typing import Any, Union
import functools

import numpy as np

import symgrad.core.tracer_faces  # noqa: F401  (tracers trace numpy code)
import symgrad.core.pytree as pytree
from symgrad.arguments import check_argnums, differentiated, scalar_output, split_aux
from symgrad.core.ops.collective import (average_across_ranks, averaging_gradients,
                                         gradients_averaged)
from symgrad.core.reverse_mode import backward
from symgrad.core.tracing import Tracer, constant
from symgrad.pullback import check_cotangents, pullback_builder
from symgrad.staging import TRANSFORMED, Transformed, reused
from symgrad.static_arguments import StaticSpec

Argnums = Union[int, Sequence[int]]      # argument positions, as JAX's argnums
Argnames = Union[str, Sequence[str]]


@reused
def jit(fn: Callable | None = None, *, backend: str = "numba", device: str = "cpu",
        static_argnums: Argnums = (), static_argnames: Argnames = ()) -> Transformed:
    """Compile ``fn``'s forward computation (traced once per signature). ``device="cuda"``
    compiles it into CUDA kernels instead (symgrad.compiler.cuda.lowering; so do ``grad``,
    ``value_and_grad`` and ``vjp``): arrays in and out are numpy arrays.

    >>> import numpy as np, symgrad as sg
    >>> sg.jit(lambda x: np.maximum(x, 0).sum())(np.array([-1.0, 2.0]))
    array(2.)
    """
    if fn is None:
        return functools.partial(jit, backend=backend, device=device,
                                 static_argnums=static_argnums, static_argnames=static_argnames)
    return Transformed(fn, fn, backend, kind="jit", device=device,
                       static=StaticSpec.of(static_argnums, static_argnames))


@reused
def value_and_grad(fn: Callable | None = None, argnums: Argnums = 0, has_aux: bool = False, *,
                   backend: str = "numba", device: str = "cpu", static_argnums: Argnums = (),
                   static_argnames: Argnames = ()) -> Transformed:
    """Like JAX: ``(value, gradient)``; the gradient has the structure of ``args[argnums]``.
    Keyword arguments pass through to ``fn`` and are not differentiated.

    >>> import numpy as np, symgrad as sg
    >>> value, gradient = sg.value_and_grad(lambda x: (x * x).sum())(np.array([3.0]))
    >>> float(value), gradient
    (9.0, array([6.]))
    """
    check_argnums(argnums)
    if fn is None:
        return functools.partial(value_and_grad, argnums=argnums, has_aux=has_aux, backend=backend,
                                 device=device, static_argnums=static_argnums,
                                 static_argnames=static_argnames)

    def build(*args, **kwargs):
        graph, since, args, trees, variables, many = differentiated(fn, argnums, args, kwargs)
        averaged = averaging_gradients()    # sg.train(..., distributed=True): this gradient
        with gradients_averaged(False):     # is averaged across ranks, not those inside fn
            out = fn(*args, **kwargs)
        if has_aux:
            out, aux = split_aux(fn, out)
        out = scalar_output(fn, out, graph)
        seed = constant(graph, np.ones((), out.dtype))
        flat_grads = backward(graph, {out.node: seed}, [v.node for v in variables], since)
        flat_grads = iter(average_across_ranks(flat_grads) if averaged else flat_grads)
        grads = [pytree.unflatten(treedef, [next(flat_grads) if isinstance(leaf, Tracer) else leaf
                                            for leaf in leaves])
                 for leaves, treedef in trees]
        grads = tuple(grads) if many else grads[0]
        return ((out, aux), grads) if has_aux else (out, grads)

    return Transformed(fn, build, backend, kind="value_and_grad", device=device,
                       static=StaticSpec.of(static_argnums, static_argnames, argnums))


@reused
def grad(fn: Callable | None = None, argnums: Argnums = 0, has_aux: bool = False, *,
         backend: str = "numba", device: str = "cpu", static_argnums: Argnums = (),
         static_argnames: Argnames = ()) -> Transformed:
    """The gradient of a scalar function, as a function (``@sg.grad`` works as a decorator).

    >>> import numpy as np, symgrad as sg
    >>> sg.grad(lambda w, x: np.sum(x @ w), argnums=0)(np.ones(2), np.ones((3, 2)))
    array([3., 3.])
    """
    check_argnums(argnums)
    if fn is None:
        return functools.partial(grad, argnums=argnums, has_aux=has_aux, backend=backend,
                                 device=device, static_argnums=static_argnums,
                                 static_argnames=static_argnames)
    static = {"static_argnums": static_argnums, "static_argnames": static_argnames}
    with_value = value_and_grad(fn, argnums, has_aux, backend=backend, device=device, **static)

    def build(*args, **kwargs):
        value, grads = with_value.build(*args, **kwargs)
        return (grads, value[1]) if has_aux else grads

    return Transformed(fn, build, backend, kind="grad", device=device,
                       static=StaticSpec.of(static_argnums, static_argnames, argnums))


def vjp(fn: Callable, *primals: Any, has_aux: bool = False, backend: str = "numba",
        device: str = "cpu") -> tuple:
    """``(outputs, pullback)``: ``pullback(cotangents)`` returns one gradient per primal.

    >>> import numpy as np, symgrad as sg
    >>> out, pullback = sg.vjp(lambda x: x * x, np.array([1.0, 2.0]))
    >>> pullback(np.array([1.0, 10.0]))
    (array([ 2., 40.]),)
    """
    def make():
        return (Transformed(fn, fn, backend, kind="vjp", device=device),
                Transformed(fn, pullback_builder(fn, has_aux), backend, kind="vjp pullback",
                            device=device))
    forward, pull = TRANSFORMED.get_or_make((fn, "vjp", has_aux, backend, device), make)
    out = forward(*primals)
    if has_aux:
        out, aux = split_aux(fn, out)

    def pullback(cotangents):
        check_cotangents(out, cotangents)
        return pull(primals, cotangents)

    return (out, pullback, aux) if has_aux else (out, pullback)
