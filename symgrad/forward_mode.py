"""Forward mode: ``jvp``, ``linearize`` and autograd's ``make_jvp``, by transposing reverse mode.

symgrad derives forward mode from the ops' VJP rules instead of declaring a second
(tangent) rule per op: the pullback ``u -> J^T u`` is traced with ``u`` a fresh variable,
and since that graph is linear in ``u`` and is itself differentiable (every VJP rule is
written with ops), reverse mode through it with the seed ``v`` gives ``J v`` (the "linear
transpose trick": ``jvp(f)(x, v) = vjp(u -> vjp(f)(x)(u))(u0)(v)`` for any ``u0``; see
:func:`symgrad.core.transposition.linearization_point`). Why: every op of the
registry gets forward mode from the one rule it already declares and that the op table
checks against numeric derivatives, so the two modes cannot disagree and a new op needs
nothing more; the price is a larger graph (the pullback's nodes that depend on ``u`` are
dead once transposed, and the compiler's dead-code pass drops them). Tangent nodes are
tagged ``tangent_of`` (the forward node they are the derivative of) in listings and
pictures.

>>> import numpy as np, symgrad as sg
>>> out, tangent = sg.jvp(np.sin, (np.zeros(2),), (np.array([1.0, 2.0]),))
>>> tangent
array([1., 2.])
"""
import functools

import numpy as np

import symgrad.core.pytree as pytree
from symgrad.arguments import fresh_variable, split_aux
from symgrad.core.errors import TracingTypeError, TracingValueError
from symgrad.core.reverse_mode import backward, is_differentiable
from symgrad.core.tracing import Tracer, constant, current_graph, error_here, find_graph
from symgrad.core.transposition import for_transposition, linearization_point
from symgrad.staging import TRANSFORMED, Transformed


def as_tracer(graph, value):
    return value if isinstance(value, Tracer) else constant(graph, value)


def zeros_of(graph, leaf, dtype=None):
    return constant(graph, np.zeros(leaf.shape, dtype or leaf.dtype))


class Transposable:
    """The pullback of ``out_leaves`` to the variables ``wrt`` (tracers of one graph), traced
    with a fresh cotangent variable per float output: :meth:`push` transposes it."""

    def __init__(self, graph, out_leaves, wrt, since):
        self.graph, self.out_leaves = graph, out_leaves
        self.since = graph._next_id     # the transposition walks the nodes made from here
        self.us = [fresh_variable(graph, linearization_point(leaf))
                   if is_differentiable(leaf.dtype) else None for leaf in out_leaves]
        seeds = {}
        for leaf, u in zip(out_leaves, self.us):
            if u is not None:
                seeds[leaf.node] = seeds[leaf.node] + u if leaf.node in seeds else u
        with for_transposition():      # an unbounded while loop then gives its tangent loop
            self.cotangents = backward(graph, seeds, [w.node for w in wrt], since)

    def push(self, tangents):
        """The output tangents ``J t`` for one tangent per variable (None for zero)."""
        graph, start = self.graph, self.graph._next_id
        seeds = {}
        for cotangent, tangent in zip(self.cotangents, tangents):
            if tangent is None:
                continue
            tangent = as_tracer(graph, tangent).astype(cotangent.dtype)
            node = cotangent.node
            seeds[node] = seeds[node] + tangent if node in seeds else tangent
        live = [u for u in self.us if u is not None]
        pushed = iter(backward(graph, seeds, [u.node for u in live], self.since) if seeds else
                      [zeros_of(graph, u) for u in live])
        results = [next(pushed) if u is not None else zeros_of(graph, leaf)
                   for leaf, u in zip(self.out_leaves, self.us)]
        _tag_tangents(graph, start)
        return results


def _tag_tangents(graph, start):
    """Nodes made by transposing the pullback: their VJP origin is a pullback node, whose
    own origin is the forward node they are a tangent of (``tangent_of``)."""
    for node in range(start, graph._next_id):
        attrs = graph[node]
        pullback_node = attrs.pop("grad_of", None)
        if pullback_node is not None and "grad_of" in graph[pullback_node]:
            attrs["tangent_of"] = graph[pullback_node]["grad_of"]


def snapshot(tracers):
    """Tracers of the nodes ``tracers`` hold now: what to differentiate with respect to, as
    ``a[:2] = v`` inside the function rebinds the argument's tracer to the set-item node."""
    return [Tracer(t.graph, t.node) for t in tracers]


def traced_call(fn, graph, primals, has_aux):
    """``fn(*primals)`` with every leaf of ``primals`` a fresh variable: ``(variables,
    output leaves as tracers, output tree, aux)``."""
    leaves, treedef = pytree.flatten(primals)
    fresh = [fresh_variable(graph, leaf) for leaf in leaves]
    variables = snapshot(fresh)
    out = fn(*pytree.unflatten(treedef, fresh))
    aux = None
    if has_aux:
        out, aux = split_aux(fn, out)
    out_leaves, out_tree = pytree.flatten(out)
    return variables, [as_tracer(graph, leaf) for leaf in out_leaves], out_tree, aux


def check_tangents(primals, tangents):
    """JAX's checks of ``jvp``'s arguments: tuples or lists of one structure, tangents of
    the primals' shapes, float tangents for float primals."""
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise error_here("primal and tangent arguments to sg.jvp must be tuples or lists; found "
                         f"{type(primals).__name__} and {type(tangents).__name__}",
                         TracingTypeError)
    (leaves, tree), (tangent_leaves, tangent_tree) = (pytree.flatten(primals),
                                                      pytree.flatten(tangents))
    if tree != tangent_tree:
        raise error_here("primal and tangent arguments to sg.jvp must have the same tree "
                         f"structure; primals have tree structure {tree} whereas tangents "
                         f"have tree structure {tangent_tree}", TracingTypeError)
    for path, primal, tangent in zip(pytree.leaf_paths(list(primals)), leaves, tangent_leaves):
        if np.shape(primal) != np.shape(tangent):
            raise error_here(f"sg.jvp called with different primal and tangent shapes; got "
                             f"primal shape {np.shape(primal)} and tangent shape "
                             f"{np.shape(tangent)} for primals{path}", TracingValueError)
        dtype = np.result_type(tangent) if not isinstance(tangent, Tracer) else tangent.dtype
        if is_differentiable(np.result_type(primal) if not isinstance(primal, Tracer)
                             else primal.dtype) and not is_differentiable(dtype):
            raise error_here(f"sg.jvp: the tangent for primals{path} has dtype {dtype.name}; "
                             "a float primal needs a float tangent", TracingTypeError)


def jvp_builder(fn, has_aux):
    def build(primals, tangents):
        graph = find_graph(pytree.flatten((primals, tangents))[0]) or current_graph()
        since = graph._next_id
        fresh, out_leaves, out_tree, aux = traced_call(fn, graph, primals, has_aux)
        wrt = [leaf for leaf in fresh if is_differentiable(leaf.dtype)]
        tangent_leaves = [t for leaf, t in zip(fresh, pytree.flatten(tangents)[0])
                          if is_differentiable(leaf.dtype)]
        pushed = Transposable(graph, out_leaves, wrt, since).push(tangent_leaves)
        out = pytree.unflatten(out_tree, out_leaves), pytree.unflatten(out_tree, pushed)
        return (*out, aux) if has_aux else out
    return build


def jvp(fn, primals, tangents, has_aux=False, *, backend="numba", device="cpu"):
    """``(fn(*primals), J·tangents)`` as ``jax.jvp``: the directional derivative of ``fn`` at
    ``primals`` along ``tangents`` (a tuple of the primals' structure), compiled once per
    signature; with ``has_aux``, ``(out, tangent_out, aux)``.

    >>> import numpy as np, symgrad as sg
    >>> sg.jvp(lambda x, y: x * y, (2.0, 3.0), (1.0, 0.0))[1]
    array(3.)
    """
    check_tangents(primals, tangents)
    transformed = TRANSFORMED.get_or_make(
        (fn, "jvp", has_aux, backend, device),
        lambda: Transformed(fn, jvp_builder(fn, has_aux), backend, kind="jvp", device=device))
    return transformed(tuple(primals), tuple(tangents))


def linearize(fn, *primals, has_aux=False, backend="numba", device="cpu"):
    """``(fn(*primals), f_jvp)`` as ``jax.linearize``: ``f_jvp(*tangents)`` is the jvp at
    ``primals`` (one compiled graph, which evaluates the forward values it needs again).

    >>> import numpy as np, symgrad as sg
    >>> out, f_jvp = sg.linearize(np.exp, np.zeros(2))
    >>> f_jvp(np.array([1.0, 3.0]))
    array([1., 3.])
    """
    options = {"has_aux": has_aux, "backend": backend, "device": device}
    first = jvp(fn, primals, tuple(zeros_like_tree(p) for p in primals), **options)

    def f_jvp(*tangents):
        return jvp(fn, primals, tangents, **options)[1]

    return (first[0], f_jvp, first[2]) if has_aux else (first[0], f_jvp)


def zeros_like_tree(tree):
    leaves, treedef = pytree.flatten(tree)
    return pytree.unflatten(treedef, [np.zeros(np.shape(leaf), np.result_type(leaf, np.float32))
                                      if not isinstance(leaf, Tracer) else leaf * 0
                                      for leaf in leaves])


def make_jvp(fun, argnum=0, **options):
    """autograd's ``make_jvp(fun, argnum)(*args)(vector) -> (value, jvp)``.

    >>> import numpy as np, symgrad as sg
    >>> sg.make_jvp(np.sin)(np.zeros(2))(np.ones(2))
    (array([0., 0.]), array([1., 1.]))
    """
    def at(*args, **kwargs):
        function = functools.partial(fun, **kwargs) if kwargs else fun

        def jvp_along(vector):
            # zero tangents for the other arguments: one compiled jvp of fun for every call
            tangents = [zeros_like_tree(arg) for arg in args]
            tangents[argnum] = vector
            return jvp(function, args, tuple(tangents), **options)
        return jvp_along
    return at
