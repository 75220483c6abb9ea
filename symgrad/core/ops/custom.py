"""``custom_vjp``: a value whose derivative is given by user code (autograd.Function), and
``stop_gradient``: one without inputs, whose value no gradient flows back through.

Operand 0 is the forward value (computed elsewhere); operands 1.. are the inputs. No gradient
flows into operand 0; the cotangent of input ``i`` is ``rule(i, g, out, *operands)``, where
``rule`` is a hashable param (it is part of the graph's structural hash).
"""
from symgrad.core.ops.registry import declare
from symgrad.core.tracing import Tracer, bind


def _custom_rule(position):
    def vjp(g, out, *operands, rule):
        return rule(position, g, out, *operands)
    return vjp


declare("custom_vjp", lambda value, *inputs, rule: (value.shape, value.dtype),
        lambda value, *inputs, rule: value.copy(),
        # one rule per operand position; 64 inputs is far beyond what a Function takes
        [lambda *args, **params: None] + [_custom_rule(i) for i in range(1, 64)],
        # the backends pass the forward's value through: the output is its first operand
        family="custom", params=("rule",), view=True)


class _NoInputs:
    """The rule of a ``custom_vjp`` without inputs: there is nothing to differentiate."""

    def __call__(self, position, g, out, *operands):
        raise AssertionError("a stop_gradient node has no inputs to differentiate")

    def __eq__(self, other):
        return isinstance(other, _NoInputs)

    def __hash__(self):
        return hash(_NoInputs)


def stop_gradient(x):
    """``x``'s value, through which no gradient flows back (``jax.lax.stop_gradient``,
    PyTorch's ``detach`` inside one function).

    >>> import numpy as np, symgrad as sg
    >>> float(sg.grad(lambda x: x * stop_gradient(x))(3.0))
    3.0
    """
    if not isinstance(x, Tracer):
        return x
    return bind("custom_vjp", x, rule=_NoInputs())
