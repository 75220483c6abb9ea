"""``sg.checkpoint`` (``jax.checkpoint``, ``jax.remat``, HIPS autograd's ``checkpoint``): a
function whose intermediate values are not kept for the backward pass but computed again
inside it, trading time for memory (``sg.viz.summary`` of the gradient graph shows the lower
peak memory).

The outputs are ``custom_vjp`` nodes (symgrad.custom_rules) whose rule traces the function
again from its inputs, each passed through a ``remat_barrier`` that waits for the cotangent
(symgrad.core.ops.custom), and pulls the cotangent back through that copy.

>>> import numpy as np, symgrad as sg
>>> block = sg.checkpoint(lambda x: np.sin(np.sin(x)))
>>> sg.grad(lambda x: np.sum(block(x)), backend="reference")(np.zeros(2))
array([1., 1.])
"""
import functools

import symgrad.core.pytree as pytree
from symgrad.core.ops.custom import remat_barrier
from symgrad.core.reverse_mode import backward, is_differentiable
from symgrad.core.tracing import Tracer, current_graph, error_here, find_graph
from symgrad.custom_rules import bind_custom, is_static_leaf


def _recomputed_cotangents(fun, args, g, after):
    """Per argument, the cotangent leaves of ``g`` pulled back through ``fun`` traced again
    from barriers that wait for ``after``."""
    graph = after.graph
    since = graph._next_id
    barred, variables = [], []
    for arg in args:
        leaves, treedef = pytree.flatten(arg, is_static=is_static_leaf)
        fresh = [remat_barrier(leaf, after) for leaf in leaves]
        variables.append([Tracer(graph, leaf.node) for leaf in fresh])   # before fun runs
        barred.append(pytree.unflatten(treedef, fresh))
    seeds = {}
    for leaf, seed in zip(pytree.flatten(fun(*barred))[0], pytree.flatten(g)[0]):
        if isinstance(leaf, Tracer) and is_differentiable(leaf.dtype):
            seeds[leaf.node] = seeds[leaf.node] + seed if leaf.node in seeds else seed
    flat = [v for fresh in variables for v in fresh if is_differentiable(v.dtype)]
    pulled = iter(backward(graph, seeds, [v.node for v in flat], since))
    return [[next(pulled) if is_differentiable(v.dtype) else None for v in fresh]
            for fresh in variables]


def checkpoint(fun=None, *, prevent_cse=True, policy=None, static_argnums=()):
    """``fun`` with its forward recomputed in the backward pass (JAX's keywords are
    accepted; non-array arguments are static already; ``policy`` is not supported).

    >>> import numpy as np, symgrad as sg
    >>> sg.grad(sg.checkpoint(lambda x: x ** 3), backend="reference")(2.0)
    array(12.)
    """
    if fun is None:
        return functools.partial(checkpoint, prevent_cse=prevent_cse, policy=policy,
                                 static_argnums=static_argnums)
    if policy is not None:
        raise error_here("sg.checkpoint: policy= (which values to save) is not supported; "
                         "every intermediate value is recomputed")

    @functools.wraps(fun)
    def rematerialised(*args, **kwargs):
        bound = functools.partial(fun, **kwargs) if kwargs else fun
        out = bound(*args)
        if find_graph(pytree.flatten(args)[0]) is None and current_graph() is None:
            return out
        return bind_custom(f"checkpoint({getattr(fun, '__name__', 'fn')})", args, out,
                           functools.partial(_derive, bound))
    return rematerialised


def _derive(fun, site, args, ans, g, index, key):
    graph = find_graph(pytree.flatten(g)[0])
    cotangents = site.once(graph, ("remat", key), lambda: _recomputed_cotangents(
        fun, args, g, Tracer(graph, key[1])))
    return cotangents[index]


remat = checkpoint
