"""Structured control flow with JAX's signatures: ``fori_loop``, ``scan``, ``while_loop``,
``cond`` and ``switch`` (also ``sg.lax.<name>``).

Inside a trace each is ONE graph node whose body is traced once into a nested Graph
(symgrad.core.subgraph; nodes: symgrad.core.ops.control), so a loop of a million iterations
is a few nodes, the CPU backend compiles it to a native loop, and gradients run the body's
pullback backwards in a loop of their own. Outside any trace they run as Python loops.
Beyond JAX, ``while_loop(..., max_trips=N)`` can be differentiated in reverse mode.

>>> import numpy as np, symgrad as sg
>>> sg.jit(lambda x: sg.fori_loop(0, 3, lambda i, c: c * x, 1.0), backend="reference")(2.0)
array(8.)
"""
import numpy as np

import symgrad.core.pytree as pytree
from symgrad.core.ops.common import check_integer
from symgrad.core.ops.control_nodes import bind_control
from symgrad.core.ops.registry import Aval
from symgrad.core.subgraph import trace_body, union_of_captures, with_captures
from symgrad.core.tracing import Tracer, bind, current_graph, error_here, find_graph

__all__ = ["fori_loop", "scan", "while_loop", "cond", "switch"]


def _traced(leaves):
    return current_graph() is not None or find_graph(leaves) is not None


def _aval(leaf):
    if isinstance(leaf, Tracer):
        return leaf.aval
    weak = isinstance(leaf, (bool, int, float)) and not isinstance(leaf, np.generic)
    array = np.asarray(leaf)
    return Aval(array.shape, array.dtype, weak)


def _describe(aval):
    return f"{aval.dtype.name}{list(aval.shape)}"


def _operand(leaf, aval):
    """``leaf`` with the dtype ``aval`` says (a weak init promoted by the body's output)."""
    if isinstance(leaf, Tracer):
        return leaf if leaf.dtype == aval.dtype else bind("cast", leaf, dtype=aval.dtype.name)
    return np.asarray(leaf, dtype=aval.dtype)


def _promoted(avals, outs):
    """Weak avals (Python numbers) take the dtype the body gives them, as in JAX."""
    return [Aval(a.shape, o.dtype) if a.weak and o.shape == a.shape and o.dtype != a.dtype
            else a for a, o in zip(avals, outs)]


def _check_carry(what, tree, avals, out_tree, outs, init):
    if out_tree != tree:
        raise error_here(f"{what}: the body function must return a carry with the same "
                         f"structure as its input: got {out_tree}, expected {tree}")
    for path, a, o in zip(pytree.leaf_paths(init), avals, outs):
        if what == "sg.fori_loop":     # its carry is (counter, the user's value)
            path = path.removeprefix("[1]")
        if a.shape != o.shape or a.dtype != o.dtype:
            raise error_here(
                f"{what}: the body function must return a carry of the same shapes and dtypes "
                f"as its input: carry{path} is {_describe(a)} in and {_describe(o)} out")


def _trace_carrying(fun, avals, treedef, extra_avals, what, carry_count, name):
    """``fun`` traced with the carries weak-promoted once if needed; (avals, body, trees)."""
    trees = {}

    def flat(*leaves):
        out = fun(*leaves)
        trees.update(zip(("carry", "y"), out_trees(out)))
        return out

    def out_trees(out):
        carry, y = out if carry_count is None else (out, None)
        return pytree.flatten(carry)[1], pytree.flatten(y)[1]

    for _ in range(2):
        body = trace_body(flat, avals + extra_avals, None, current_graph(), name, expect=avals)
        outs = body.out_avals[:len(avals)]
        promoted = _promoted(avals, outs)
        if promoted == avals:
            return avals, body, trees
        avals = promoted
    return avals, body, trees


def scan(f, init, xs=None, length=None, reverse=False, unroll=1, _what="sg.scan"):
    """``jax.lax.scan``: ``f(carry, x) -> (carry, y)`` over the leading axis of ``xs``;
    returns ``(carry, stacked ys)``.

    >>> import numpy as np, symgrad as sg
    >>> sg.scan(lambda c, x: (c + x, c), 0.0, np.arange(3.0))
    (3.0, array([0., 0., 1.]))
    """
    init_leaves, init_tree = pytree.flatten(init)
    xs_leaves, xs_tree = pytree.flatten(xs)
    length = _scan_length(xs_leaves, length, _what)
    if not _traced(init_leaves + xs_leaves):
        return _python_scan(f, init, xs, xs_leaves, xs_tree, length, reverse)
    count = len(init_leaves)

    def body(*leaves):
        out = f(pytree.unflatten(init_tree, leaves[:count]),
                pytree.unflatten(xs_tree, leaves[count:]))
        if not (isinstance(out, tuple) and len(out) == 2):
            raise error_here(f"{_what}: the body function must return a pair (carry, y), "
                             f"got {type(out).__name__}")
        return out

    x_avals = [Aval(_aval(v).shape[1:], _aval(v).dtype) for v in xs_leaves]
    avals, traced, trees = _trace_carrying(body, [_aval(v) for v in init_leaves], None, x_avals,
                                           _what, None, getattr(f, "__name__", "body"))
    outs = traced.out_avals
    _check_carry(_what, init_tree, avals, trees["carry"], outs[:count], init)
    y_avals = [Aval((length,) + tuple(a.shape), a.dtype) for a in outs[count:]]
    operands = [_operand(v, a) for v, a in zip(init_leaves, avals)] + xs_leaves + traced.captured
    found = bind_control("scan", operands, [Aval(a.shape, a.dtype) for a in avals] + y_avals, {
        "body": traced.graph, "length": length, "reverse": bool(reverse), "carries": count,
        "xs": len(xs_leaves)}, current_graph())
    return (pytree.unflatten(init_tree, found[:count]),
            pytree.unflatten(trees["y"], found[count:]))


def _scan_length(xs_leaves, length, what):
    lengths = {int(np.shape(v)[0]) if np.ndim(v) else None for v in xs_leaves}
    if None in lengths:
        raise error_here(f"{what}: every leaf of xs needs a leading axis to scan over; "
                         "a 0-d leaf has none")
    if length is not None:
        check_integer(length, what, "length")
        lengths.add(int(length))
    if len(lengths) != 1:
        raise error_here(f"{what}: the leaves of xs must share the leading axis length "
                         f"(and length= if given); got lengths {sorted(lengths)}" if lengths else
                         f"{what}: give xs or length= (how many iterations to run)")
    return lengths.pop()


def _python_scan(f, carry, xs, xs_leaves, xs_tree, length, reverse):
    ys = [None] * length
    for i in (reversed(range(length)) if reverse else range(length)):
        carry, ys[i] = f(carry, pytree.unflatten(xs_tree, [leaf[i] for leaf in xs_leaves]))
    if length == 0 or pytree.flatten(ys[0])[0] == []:
        return carry, ys[0] if length else None
    leaves = [pytree.flatten(y)[0] for y in ys]
    stacked = [np.stack([np.asarray(row[j]) for row in leaves]) for j in range(len(leaves[0]))]
    return carry, pytree.unflatten(pytree.flatten(ys[0])[1], stacked)


def fori_loop(lower, upper, body_fun, init_val, *, unroll=None):
    """``jax.lax.fori_loop``: ``body_fun(i, val) -> val`` for ``i`` in ``range(lower,
    upper)``. Static bounds make a scan (differentiable); traced bounds a while loop.

    >>> import symgrad as sg
    >>> sg.fori_loop(0, 4, lambda i, total: total + i, 0)
    6
    """
    static = all(not isinstance(b, Tracer) for b in (lower, upper))
    if not _traced(pytree.flatten(init_val)[0] + [lower, upper]):
        for i in range(int(lower), int(upper)):
            init_val = body_fun(i, init_val)
        return init_val
    if static:
        check_integer(lower, "sg.fori_loop", "lower")
        check_integer(upper, "sg.fori_loop", "upper")
        (_, out), _ = scan(lambda c, _: ((c[0] + 1, body_fun(*c)), None),
                           (np.int64(lower), init_val), length=max(int(upper) - int(lower), 0),
                           _what="sg.fori_loop")
        return out
    _, _, out = while_loop(lambda c: c[0] < c[1], lambda c: (c[0] + 1, c[1], body_fun(c[0], c[2])),
                           (lower, upper, init_val), _what="sg.fori_loop")
    return out


def while_loop(cond_fun, body_fun, init_val, *, max_trips=None, _what="sg.while_loop"):
    """``jax.lax.while_loop``: ``val = body_fun(val)`` while ``cond_fun(val)``. With
    ``max_trips`` (beyond JAX) it runs at most that many iterations and can be
    differentiated in reverse mode.

    >>> import symgrad as sg
    >>> sg.while_loop(lambda n: n < 10, lambda n: n * 2, 1)
    16
    """
    if max_trips is not None:
        check_integer(max_trips, _what, "max_trips")
    leaves, tree = pytree.flatten(init_val)
    if not _traced(leaves):
        trips = 0
        while (max_trips is None or trips < max_trips) and cond_fun(init_val):
            init_val, trips = body_fun(init_val), trips + 1
        return init_val
    count = len(leaves)

    def flat_body(*carry):
        return body_fun(pytree.unflatten(tree, carry))

    avals, body, trees = _trace_carrying(flat_body, [_aval(v) for v in leaves], None, [], _what,
                                         count, getattr(body_fun, "__name__", "body"))
    _check_carry(_what, tree, avals, trees["carry"], body.out_avals, init_val)
    test = trace_body(lambda *carry: cond_fun(pytree.unflatten(tree, carry)), avals, None,
                      current_graph(), getattr(cond_fun, "__name__", "cond"))
    outs = test.out_avals
    if len(outs) != 1 or outs[0].shape != () or outs[0].dtype != np.dtype(bool):
        raise error_here(f"{_what}: cond_fun must return a boolean scalar, got "
                         f"{', '.join(map(_describe, outs)) or 'nothing'}")
    captured = union_of_captures([test, body])
    parent = current_graph()
    operands = [_operand(v, a) for v, a in zip(leaves, avals)] + captured
    found = bind_control("while", operands, [Aval(a.shape, a.dtype) for a in avals], {
        "cond": with_captures(test, captured, parent), "body": with_captures(body, captured, parent),
        "carries": count, "max_trips": None if max_trips is None else int(max_trips)}, parent)
    return pytree.unflatten(tree, found)


def cond(pred, true_fun, false_fun, *operands):
    """``jax.lax.cond``: ``true_fun(*operands)`` if ``pred`` else ``false_fun(*operands)``,
    one branch node in a trace (the gradient flows through the branch taken).

    >>> import numpy as np, symgrad as sg
    >>> f = sg.jit(lambda x: sg.cond(x > 0, np.sin, np.cos, x), backend="reference")
    >>> float(f(0.0))
    1.0
    """
    if np.ndim(pred) != 0:
        raise error_here(f"sg.cond: pred must be a scalar, got {_describe(_aval(pred))}")
    if not isinstance(pred, Tracer):
        return true_fun(*operands) if pred else false_fun(*operands)
    if pred.dtype.kind not in "biuf":
        raise error_here(f"sg.cond: pred must be a boolean or a number, got {pred.dtype.name}")
    index = bind("cast", pred if pred.dtype == bool else pred != 0, dtype="int64")
    return _switch(index, (false_fun, true_fun), operands, "sg.cond")


def switch(index, branches, *operands):
    """``jax.lax.switch``: ``branches[index](*operands)``, ``index`` clamped into range.

    >>> import symgrad as sg
    >>> sg.switch(5, [lambda x: x + 1, lambda x: x * 10], 2)
    20
    """
    branches = list(branches)
    if not branches or not all(callable(b) for b in branches):
        raise error_here("sg.switch: branches must be a non-empty sequence of functions")
    if np.ndim(index) != 0 or _aval(index).dtype.kind not in "biu":
        raise error_here(f"sg.switch: index must be an integer scalar, got "
                         f"{_describe(_aval(index))}")
    if not isinstance(index, Tracer):
        return branches[int(np.clip(index, 0, len(branches) - 1))](*operands)
    return _switch(index, branches, operands, "sg.switch")


def _switch(index, branches, operands, what):
    leaves, tree = pytree.flatten(operands)
    avals = [_aval(v) for v in leaves]
    traced = [trace_body(lambda *v, b=b: b(*pytree.unflatten(tree, v)), avals, None,
                         current_graph(), getattr(b, "__name__", "branch")) for b in branches]
    expect = [next((a for a in column if not a.weak), column[0])
              for column in zip(*(t.out_avals for t in traced))]
    traced = [t if [a.dtype for a in t.out_avals] == [a.dtype for a in expect] else
              trace_body(lambda *v, b=b: b(*pytree.unflatten(tree, v)), avals, None,
                         current_graph(), getattr(b, "__name__", "branch"), expect=expect)
              for t, b in zip(traced, branches)]
    first = traced[0]
    for k, other in enumerate(traced[1:], 1):
        if other.out_tree != first.out_tree or [(a.shape, a.dtype) for a in other.out_avals] != [
                (a.shape, a.dtype) for a in first.out_avals]:
            raise error_here(
                f"{what}: the branches must return the same structure, shapes and dtypes: "
                f"branch 0 returns {first.out_tree} of {', '.join(map(_describe, first.out_avals))}; "
                f"branch {k} returns {other.out_tree} of {', '.join(map(_describe, other.out_avals))}")
    captured = union_of_captures(traced)
    parent = current_graph()
    found = bind_control("switch", [index, *leaves, *captured],
                         [Aval(a.shape, a.dtype) for a in first.out_avals],
                         {"branches": tuple(with_captures(t, captured, parent) for t in traced)},
                         parent)
    return pytree.unflatten(first.out_tree, found)
