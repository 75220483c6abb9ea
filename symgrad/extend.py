"""HIPS autograd's way to give a function its own derivative (``autograd.extend``):
``primitive(f)``, then ``defvjp(f, vjpmaker, ...)`` with ``vjpmaker(ans, *args, **kwargs) ->
(g -> cotangent)`` per argument, or ``defjvp(f, jvpmaker, ...)`` with ``jvpmaker(t, ans,
*args, **kwargs) -> tangent`` (reverse mode runs its transpose). The same mechanism as
``sg.custom_vjp`` (symgrad.custom_rules): the rules run in compiled code too. ``f`` itself
must trace (numpy code that symgrad supports).

>>> import numpy as np, symgrad as sg
>>> from symgrad.extend import primitive, defvjp
>>> @primitive
... def cube(x):
...     return x ** 3
>>> defvjp(cube, lambda ans, x: lambda g: g * 3 * x ** 2)
>>> sg.grad(cube, backend="reference")(np.array(2.0))
array(12.)
"""
import warnings

import symgrad.core.pytree as pytree
from symgrad.core.errors import TracingAttributeError
from symgrad.core.tracing import current_graph, error_here, find_graph
from symgrad.custom_rules import bind_custom, checked_cotangent, transposed_tangents


class primitive:   # noqa: N801  (autograd's name)
    """``f`` with derivatives given by :func:`defvjp` / :func:`defjvp` instead of traced."""

    def __init__(self, fun):
        self.fun, self.vjps, self.jvps = fun, {}, {}
        self.__name__ = getattr(fun, "__name__", "primitive")
        self.__doc__ = getattr(fun, "__doc__", None)

    def __repr__(self):
        return f"<primitive {self.__name__!r}>"

    def __call__(self, *args, **kwargs):
        out = self.fun(*args, **kwargs)
        if find_graph(pytree.flatten((args, kwargs))[0]) is None and current_graph() is None:
            return out
        return bind_custom(self.__name__, args, out,
                           lambda site, args, ans, g, index, key:
                           self._cotangent(site, args, kwargs, ans, g, index, key))

    def _cotangent(self, site, args, kwargs, ans, g, index, key):
        maker = self.vjps.get(index)
        if maker is not None:
            return checked_cotangent(f"the VJP of primitive {self.__name__} for argument {index}",
                                     maker, args[index], maker(ans, *args, **kwargs)(g))
        jvp_maker = self.jvps.get(index)
        if jvp_maker is None:
            raise error_here(f"VJP of {self.__name__} wrt argnum {index} not defined: give it with "
                             f"defvjp({self.__name__}, ...) (or defjvp)", TracingAttributeError)

        def jvp(primals, tangents):
            return ans, jvp_maker(tangents[0], ans, *args, **kwargs)
        graph = find_graph(pytree.flatten(g)[0])
        cotangents = site.once(graph, ("jvp", index, key), lambda: transposed_tangents(
            self.__name__, jvp, ([], [index]), args, site.out_tree, g))
        return cotangents[index]

    def defgrad(self, gradmaker, argnum=0):
        """autograd's deprecated spelling of ``defvjp(f, gradmaker, argnums=[argnum])``."""
        warnings.warn("defgrad is deprecated: use symgrad.extend.defvjp", DeprecationWarning,
                      stacklevel=2)
        self.vjps[argnum] = gradmaker


def _makers(fun, makers, argnums, table, what):
    if not isinstance(fun, primitive):
        raise error_here(f"{what} needs a function wrapped by symgrad.extend.primitive, got "
                         f"{fun!r}", TracingAttributeError)
    for argnum, maker in zip(range(len(makers)) if argnums is None else argnums, makers):
        table[argnum] = maker if maker is not None else _zero_maker


def _zero_maker(ans, *args, **kwargs):
    return lambda g: None


def defvjp(fun, *vjpmakers, argnums=None):
    """``vjpmaker(ans, *args, **kwargs)`` returns ``g -> the cotangent of that argument``, one
    per argument in order (or for ``argnums``); None for an argument without gradient."""
    _makers(fun, vjpmakers, argnums, fun.vjps, "defvjp")


def defjvp(fun, *jvpmakers, argnums=None):
    """``jvpmaker(t, ans, *args, **kwargs)`` returns the output's tangent for a tangent ``t``
    of that argument (linear in ``t``); reverse mode uses its transpose."""
    _makers(fun, jvpmakers, argnums, fun.jvps, "defjvp")
    for argnum, maker in list(fun.jvps.items()):
        if maker is _zero_maker:
            fun.vjps.setdefault(argnum, _zero_maker)
            del fun.jvps[argnum]


def defvjp_argnum(fun, vjpmaker):
    """``vjpmaker(argnum, ans, args, kwargs)`` returns ``g -> cotangent`` for any argument."""
    if not isinstance(fun, primitive):
        _makers(fun, (), None, {}, "defvjp_argnum")
    fun.vjps = _EveryArgument(lambda argnum: lambda ans, *args, **kwargs:
                              vjpmaker(argnum, ans, args, kwargs))


class _EveryArgument(dict):
    def __init__(self, make):
        super().__init__()
        self.make = make

    def get(self, argnum, default=None):
        return self.make(argnum)


__all__ = ["primitive", "defvjp", "defjvp", "defvjp_argnum"]
