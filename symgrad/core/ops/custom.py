"""``custom_vjp``: a value whose derivative is given by user code (autograd.Function,
``sg.custom_vjp``, ``sg.custom_jvp``, autograd's ``primitive``: symgrad.custom_rules);
``stop_gradient``, a value through which no derivative flows; and ``remat_barrier(x, after)``,
``x`` once ``after`` is computed: ``sg.checkpoint`` recomputes its forward from barriers
placed after the cotangent, so the recomputation happens in the backward pass and is not
merged with the forward by common-subexpression elimination.

Operand 0 is the forward value (computed elsewhere); operands 1.. are the inputs. No gradient
flows into operand 0; the cotangent of input ``i`` is ``rule(i, g, out, *operands)``, where
``rule`` is a hashable param (it is part of the graph's structural hash).
"""
from dataclasses import dataclass

import numpy as np

import symgrad.core.pytree as pytree
from symgrad.core.ops.batch_rules import at_front, size_of
from symgrad.core.ops.common import apply, no_gradient
from symgrad.core.ops.elementwise import elementwise
from symgrad.core.ops.registry import declare, faced
from symgrad.core.tracing import Tracer, bind, constant, find_graph


def _custom_rule(position):
    def vjp(g, out, *operands, rule):
        return rule(position, g, out, *operands)
    return vjp


@dataclass(frozen=True)
class BatchedRule:
    """A custom VJP rule (written for one example) applied to a batch of ``size`` examples,
    every operand batched along axis 0: the rule's nodes are batched like the forward's."""
    rule: object
    size: int

    def __call__(self, position, g, out, *operands):
        from symgrad.core.batching import batched_call

        def example(*values):
            return self.rule(position, *values)
        _, pairs = batched_call(example, [g, out, *operands], [0] * (len(operands) + 2),
                                self.size)
        if not pairs:
            return None
        cotangent, dim = pairs[0]
        if not isinstance(cotangent, Tracer):
            cotangent = constant(g.graph, cotangent)
        return at_front(cotangent, dim, self.size)


def _custom_batch(name, operands, dims, rule):
    """The forward value and the inputs batched along axis 0; the rule batched with them."""
    size = size_of(operands, dims)
    return bind(name, *(at_front(x, d, size) for x, d in zip(operands, dims)),
                rule=BatchedRule(rule, size)), 0


declare("custom_vjp", lambda value, *inputs, rule: (value.shape, value.dtype),
        lambda value, *inputs, rule: value.copy(),
        # one rule per operand position; 64 inputs is far beyond what a Function takes
        [lambda *args, **params: None] + [_custom_rule(i) for i in range(1, 64)],
        # the backends pass the forward's value through: the output is its first operand
        family="custom", params=("rule",), view=True, batch=_custom_batch)

elementwise("stop_gradient", lambda x: x.copy(), "{0}", [no_gradient])


@faced(torch=("stop_gradient",))
def stop_gradient(x):
    """``x`` (any pytree) as a constant for differentiation, as ``jax.lax.stop_gradient``.

    >>> import numpy as np, symgrad as sg
    >>> sg.grad(lambda x: x * sg.stop_gradient(x), backend="reference")(3.0)
    array(3.)
    """
    leaves, treedef = pytree.flatten(x)
    return pytree.unflatten(treedef, [
        apply("stop_gradient", [leaf]) if isinstance(leaf, Tracer) and leaf.dtype.kind == "f"
        else leaf for leaf in leaves])


declare("remat_barrier", lambda x, after: (x.shape, x.dtype), lambda x, after: x.copy(),
        [lambda g, out, x, after: g, no_gradient],
        # the backends pass operand 0 through, as for custom_vjp; batched as its operand 0 is
        family="custom", view=True,
        batch=lambda name, operands, dims: (bind(name, *operands), dims[0]))


def remat_barrier(x, after):
    """``x``, as a value computed after ``after`` (symgrad.checkpoint); a copy of ``x``
    outside a trace."""
    graph = find_graph([x, after])
    if graph is None:
        return np.array(x, copy=True)
    return bind("remat_barrier", *(v if isinstance(v, Tracer) else constant(graph, v)
                                   for v in (x, after)))
