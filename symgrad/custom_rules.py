"""Custom derivative rules for numpy-style functions: JAX's ``custom_vjp`` and ``custom_jvp``
(and HIPS autograd's ``primitive`` + ``defvjp``, symgrad.extend), all through the
``custom_vjp`` op that ``autograd.Function`` uses (symgrad.core.ops.custom).

While a function is traced, each output leaf of a custom function becomes a ``custom_vjp``
node over the function's array arguments, whose VJP is the user's rule: ``bwd`` for
``custom_vjp``; for ``custom_jvp`` the transpose of the user's (linear) tangent rule, traced
with fresh tangent variables and pulled back, so reverse mode and forward mode (which
transposes reverse mode, symgrad.forward_mode) both run the user's rule. The rule's ops are
ordinary nodes of the graph: they are compiled like the rest and differentiate again.
Called on concrete arrays outside any trace, a custom function is the plain function.

>>> import numpy as np, symgrad as sg
>>> @sg.custom_vjp
... def clip_gradient(x):
...     return x
>>> clip_gradient.defvjp(lambda x: (x, None), lambda _, g: (np.clip(g, -1, 1),))
>>> sg.grad(lambda x: np.sum(clip_gradient(x) * 5.0), backend="reference")(np.ones(2))
array([1., 1.])
"""
import functools
import inspect
import weakref

import numpy as np

import symgrad.core.pytree as pytree
from symgrad.arguments import fresh_variable
from symgrad.core.errors import TracingAttributeError, TracingTypeError, TracingValueError
from symgrad.core.reverse_mode import backward, is_differentiable
from symgrad.core.source_info import describe_location
from symgrad.core.tracing import Tracer, bind, constant, current_graph, error_here, find_graph
from symgrad.staging import lift_leaf

MAX_INPUTS = 63      # the custom_vjp op declares rules for 63 operands after its value


def defined_at(function):
    """Where ``function`` is defined, for error messages."""
    code = getattr(function, "__code__", None)
    if code is None:
        return ""
    location = describe_location(f"{code.co_filename}:{code.co_firstlineno}")
    return location.replace("\n  at ", "\n  the rule is defined at ", 1)


def is_static_leaf(leaf):
    """Argument leaves that rules see as they are (ints, strings, functions), not traced."""
    return not isinstance(leaf, (Tracer, np.ndarray, np.generic))


class CallSite:
    """One traced call of a custom function: its arguments' structure, its outputs, and the
    cotangents already derived (by graph, output, cotangent node and argument)."""

    def __init__(self, name, in_tree, out_tree, out_nodes, derive):
        self.name, self.in_tree, self.out_tree = name, in_tree, out_tree
        self.out_nodes = out_nodes
        # (site, args, ans, g tree, argument, key of g) -> the argument's cotangent leaves
        self.derive = derive
        self.memo = weakref.WeakKeyDictionary()

    def once(self, graph, key, make):
        found = self.memo.setdefault(graph, {})
        if key not in found:
            found[key] = make()
        return found[key]

    def argument_of(self, args, flat_position):
        """The argument and leaf index of input leaf ``flat_position``."""
        start = 0
        for index, arg in enumerate(args):
            count = len(pytree.flatten(arg, is_static=is_static_leaf)[0])
            if flat_position < start + count:
                return index, flat_position - start
            start += count
        raise IndexError(flat_position)

    def cotangent(self, output, g, inputs, flat_position):
        graph = g.graph
        args = pytree.unflatten(self.in_tree, list(inputs))
        index, leaf = self.argument_of(args, flat_position)

        def make():
            ans = pytree.unflatten(self.out_tree, [Tracer(graph, n) for n in self.out_nodes])
            g_leaves = [g if k == output else constant(graph, np.zeros(graph[n]["shape"],
                                                                       graph[n]["dtype"]))
                        for k, n in enumerate(self.out_nodes)]
            leaves = self.derive(self, args, ans, pytree.unflatten(self.out_tree, g_leaves), index,
                                 (output, g.node))
            return [None if c is None else c.node for c in leaves]
        node = self.once(graph, (output, g.node, index), make)[leaf]
        return None if node is None else Tracer(graph, node)


class CustomRule:
    """The ``rule`` param of a custom function's ``custom_vjp`` node (output ``output``)."""

    def __init__(self, site, output):
        self.site, self.output = site, output

    def __call__(self, position, g, out, value, *inputs):
        return self.site.cotangent(self.output, g, inputs, position - 1)

    def __repr__(self):
        return f"CustomRule({self.site.name}, output {self.output})"


def bind_custom(name, args, out, derive):
    """``out`` (traced from ``args``) with each leaf a ``custom_vjp`` node whose VJP is
    ``derive``'s; non-array leaves of ``args`` stay as they are for the rule."""
    graph = find_graph(pytree.flatten((args, out))[0]) or current_graph()
    in_leaves, in_tree = pytree.flatten(args, is_static=is_static_leaf)
    if len(in_leaves) > MAX_INPUTS:
        raise error_here(f"{name}: a custom rule takes at most {MAX_INPUTS} array arguments "
                         f"(leaves), got {len(in_leaves)}", TracingValueError)
    inputs = [lift_leaf(graph, leaf) for leaf in in_leaves]
    out_leaves, out_tree = pytree.flatten(out)
    out_leaves = [leaf if isinstance(leaf, Tracer) else constant(graph, leaf)
                  for leaf in out_leaves]
    site = CallSite(name, in_tree, out_tree, [leaf.node for leaf in out_leaves], derive)
    wrapped = [bind("custom_vjp", leaf, *inputs, rule=CustomRule(site, k))
               for k, leaf in enumerate(out_leaves)]
    return pytree.unflatten(out_tree, wrapped)


def checked_cotangent(what, rule, arg, cotangent):
    """The cotangent leaves a rule gave for argument ``arg`` (None: zero), checked against
    its structure and leaf shapes; a TracingError naming the rule otherwise."""
    def is_none(value):
        return value is None
    arg_leaves, arg_tree = pytree.flatten(arg, is_leaf=is_none)
    if cotangent is None:
        return [None for leaf in arg_leaves if leaf is not None and not is_static_leaf(leaf)]
    leaves, tree = pytree.flatten(cotangent, is_leaf=is_none)
    if tree != arg_tree:
        raise error_here(f"{what} returned a cotangent of structure {tree} for an argument of "
                         f"structure {arg_tree}{defined_at(rule)}", TracingTypeError)
    checked = []
    for path, primal, leaf in zip(pytree.leaf_paths(arg) or [""], arg_leaves, leaves):
        if primal is None or is_static_leaf(primal):
            continue
        if leaf is not None and np.shape(leaf) != primal.shape:
            raise error_here(f"{what} returned a cotangent of shape {list(np.shape(leaf))} for "
                             f"the argument{path} of shape {list(primal.shape)} (dtype "
                             f"{primal.dtype.name}){defined_at(rule)}", TracingValueError)
        if leaf is None or not is_differentiable(primal.dtype):
            checked.append(None)
            continue
        dtype = leaf.dtype if isinstance(leaf, Tracer) else np.result_type(leaf)
        if not is_differentiable(dtype):
            raise error_here(f"{what} returned a cotangent of dtype {dtype.name} for the "
                             f"argument{path} of dtype {primal.dtype.name}: a float argument "
                             f"needs a float cotangent{defined_at(rule)}", TracingTypeError)
        checked.append(leaf if isinstance(leaf, Tracer) else constant(primal.graph, leaf))
    return checked


def _resolved(fun, args, kwargs):
    """Keyword arguments as positional ones (JAX's custom functions take them so)."""
    if not kwargs:
        return args
    bound = inspect.signature(fun).bind(*args, **kwargs)
    bound.apply_defaults()
    return bound.args


class _CustomFunction:
    def __init__(self, fun, nondiff_argnums=()):
        functools.update_wrapper(self, fun)
        self.fun, self.nondiff_argnums = fun, tuple(nondiff_argnums)

    def __repr__(self):
        return f"<{type(self).__name__} {getattr(self.fun, '__qualname__', self.fun)!r}>"

    def _rule_missing(self, what):
        name = getattr(self.fun, "__name__", "fn")
        return error_here(f"No {what.upper()} defined for {type(self).__name__} function {name} "
                          f"using def{what}", TracingAttributeError)

    def __call__(self, *args, **kwargs):
        args = _resolved(self.fun, args, kwargs)
        out = self.fun(*args)
        if find_graph(pytree.flatten(args)[0]) is None and current_graph() is None:
            return out
        self._check_defined()
        return bind_custom(getattr(self.fun, "__name__", "fn"), args, out, self._derive)

    def _split(self, args):
        nondiff = [args[i] for i in self.nondiff_argnums]
        diff = [i for i in range(len(args)) if i not in self.nondiff_argnums]
        return nondiff, diff

    def _check_defined(self):
        if self._rule() is None:
            raise self._rule_missing(self.rule_kind)

    def _derive(self, site, args, ans, g, index, key):
        """The cotangent leaves of argument ``index``, from the rule's cotangents of all
        arguments (derived once per cotangent ``g``)."""
        if index in self.nondiff_argnums:
            return checked_cotangent("", None, args[index], None)
        graph = find_graph(pytree.flatten(g)[0])
        cotangents = site.once(graph, (self.rule_kind, key),
                               lambda: self._cotangents(site, args, g))
        return self._argument_cotangent(site, args, index, cotangents)


class custom_vjp(_CustomFunction):   # noqa: N801  (JAX's name)
    """A function with a user-given VJP, as ``jax.custom_vjp``: ``f.defvjp(fwd, bwd)`` with
    ``fwd(*args) -> (out, residuals)`` and ``bwd(*nondiff_args, residuals, g) -> one cotangent
    per differentiable argument`` (a tuple; None for zero)."""
    fwd = bwd = None
    rule_kind = "vjp"

    def defvjp(self, fwd, bwd):
        self.fwd, self.bwd = fwd, bwd

    def _rule(self):
        return self.fwd

    def _argument_cotangent(self, site, args, index, cotangents):
        diff = self._split(args)[1]
        return checked_cotangent(f"the custom_vjp bwd rule of {site.name}", self.bwd,
                                 args[index], cotangents[diff.index(index)])

    def _cotangents(self, site, args, g):
        result = self.fwd(*args)
        name = getattr(self.fun, "__name__", "fn")
        if not (isinstance(result, (tuple, list)) and len(result) == 2):
            raise error_here(f"the custom_vjp fwd rule of {name} must return a pair (output, "
                             f"residuals), got {type(result).__name__}{defined_at(self.fwd)}",
                             TracingTypeError)
        nondiff, diff = self._split(args)
        cotangents = self.bwd(*nondiff, result[1], g)
        if not isinstance(cotangents, (tuple, list)) or len(cotangents) != len(diff):
            got = (f"a {type(cotangents).__name__} of length {len(cotangents)}"
                   if isinstance(cotangents, (tuple, list)) else type(cotangents).__name__)
            raise error_here(f"the custom_vjp bwd rule of {name} must return a tuple of "
                             f"{len(diff)} cotangent(s), one per differentiable argument, got "
                             f"{got}{defined_at(self.bwd)}", TracingTypeError)
        return cotangents


class custom_jvp(_CustomFunction):   # noqa: N801  (JAX's name)
    """A function with a user-given JVP, as ``jax.custom_jvp``: ``@f.defjvp`` decorates
    ``jvp(*nondiff_args, primals, tangents) -> (out, tangent_out)``, linear in the tangents;
    ``f.defjvps(*rules)`` gives one ``rule(tangent, out, *primals)`` per argument instead.
    Reverse mode runs the rule's transpose."""
    jvp = None
    rule_kind = "jvp"

    def defjvp(self, jvp):
        self.jvp = jvp
        return jvp

    def defjvps(self, *rules):
        def jvp(primals, tangents):
            out = self.fun(*primals)
            pieces = [rule(t, out, *primals) for rule, t in zip(rules, tangents)
                      if rule is not None]
            return out, functools.reduce(lambda a, b: a + b, pieces) if pieces else out * 0
        self.jvp = jvp

    def _rule(self):
        return self.jvp

    def _cotangents(self, site, args, g):
        return transposed_tangents(site.name, self.jvp, self._split(args), args, site.out_tree, g)

    def _argument_cotangent(self, site, args, index, cotangents):
        return cotangents[index]


def transposed_tangents(name, jvp, split, args, out_tree, g):
    """Per argument, the cotangent leaves ``g`` pulls back through the tangent map
    ``t -> jvp(*nondiff, primals, t)[1]`` (linear in ``t``), traced with fresh ``t``."""
    nondiff, diff = split
    graph = find_graph(pytree.flatten(g)[0])
    since = graph._next_id
    tangents, variables = [], []
    for i in diff:
        leaves, treedef = pytree.flatten(args[i], is_static=is_static_leaf)
        fresh = [fresh_variable(graph, np.zeros(leaf.shape, leaf.dtype)) for leaf in leaves]
        variables.append(fresh)
        tangents.append(pytree.unflatten(treedef, fresh))
    result = jvp(*nondiff, tuple(args[i] for i in diff), tuple(tangents))
    if not (isinstance(result, (tuple, list)) and len(result) == 2):
        raise error_here(f"the custom_jvp rule of {name} must return a pair (primal_out, "
                         f"tangent_out){defined_at(jvp)}", TracingTypeError)
    tangent_leaves, tree = pytree.flatten(result[1])
    if tree != out_tree:
        raise error_here(f"the custom_jvp rule of {name} returned a tangent of structure {tree} "
                         f"for an output of structure {out_tree}{defined_at(jvp)}",
                         TracingTypeError)
    seeds = {}
    for leaf, seed in zip(tangent_leaves, pytree.flatten(g)[0]):
        if isinstance(leaf, Tracer) and leaf.shape != seed.shape:
            raise error_here(f"the custom_jvp rule of {name} returned a tangent of shape "
                             f"{list(leaf.shape)} for an output of shape {list(seed.shape)}"
                             f"{defined_at(jvp)}", TracingValueError)
        if isinstance(leaf, Tracer) and is_differentiable(leaf.dtype):
            seed = seed.astype(leaf.dtype)
            seeds[leaf.node] = seeds[leaf.node] + seed if leaf.node in seeds else seed
    flat = [v for fresh in variables for v in fresh]
    pulled = iter(backward(graph, seeds, [v.node for v in flat], since))
    cotangents = {i: [next(pulled) if is_differentiable(v.dtype) else None for v in fresh]
                  for i, fresh in zip(diff, variables)}
    return cotangents
