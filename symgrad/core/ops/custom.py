"""``custom_vjp``: a value whose derivative is given by user code (autograd.Function).

Operand 0 is the forward value (computed elsewhere); operands 1.. are the inputs. No gradient
flows into operand 0; the cotangent of input ``i`` is ``rule(i, g, out, *operands)``, where
``rule`` is a hashable param (it is part of the graph's structural hash).
"""
from symgrad.core.ops.registry import declare


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
