"""The op registry: every primitive is declared once, here or in a family module.

An :class:`Op` holds everything about a primitive: its shape/dtype rule, its numpy reference,
one VJP rule per operand (written with other ops, so gradient graphs are differentiable
again) and, for elementwise ops, a scalar template that the backends inline when fusing.
Backends look ops up by name in their own lowering tables.
"""
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np


@dataclass(frozen=True)
class Aval:
    """Abstract value: what tracing knows about an array (shape, dtype, Python-scalar origin)."""
    shape: tuple
    dtype: np.dtype
    weak: bool = False

    @property
    def ndim(self):
        return len(self.shape)


@dataclass
class Op:
    name: str
    shape_rule: Callable          # (*avals, **params) -> (shape, dtype)
    reference: Callable           # (*arrays, **params) -> array
    vjp: tuple = ()               # one rule per operand: (g, out, *operands, **params) -> cotangent
    scalar: Optional[str] = None  # elementwise template, operands as {0}, {1}, ...
    family: str = ""
    params: tuple = field(default_factory=tuple)   # names of static params

    @property
    def elementwise(self):
        return self.scalar is not None

    def vjp_rule(self, position):
        """The VJP rule for operand ``position``, or None when no gradient flows there."""
        return self.vjp[position] if position < len(self.vjp) else None


OPS: dict = {}


def declare(name, shape_rule, reference, vjp=(), scalar=None, family="", params=()):
    """Register a primitive; declaring a name twice is a bug."""
    if name in OPS:
        raise ValueError(f"op {name!r} declared twice")
    OPS[name] = Op(name, shape_rule, reference, tuple(vjp), scalar, family, tuple(params))
    return OPS[name]


def get(name):
    return OPS[name]


# Source nodes: graph inputs (filled by the caller) and constants (their value is a param).
declare("input", lambda index: None, None, family="source", params=("index",))
declare("constant", lambda value: (value.shape, value.dtype), lambda value: value,
        family="source", params=("value",))
