"""The op registry: every primitive is declared once, here or in a family module.

An :class:`Op` holds everything about a primitive: its shape/dtype rule, its numpy reference,
one VJP rule per operand (written with other ops, so gradient graphs are differentiable
again), its batching rule for ``vmap`` (symgrad.core.ops.batch_rules; elementwise ops share
one unless they declare their own), for elementwise ops a scalar template that the backends inline when fusing, and
whether it is a view of its first operand. Backends look ops up by name in their own
lowering tables.

A :class:`Front` is a function users call (a primitive's, or a composite of several) with
its :class:`Faces`: the numpy functions, Tracer and Tensor methods, operators, ``symgrad.<name>``
functions and ``grad_fn`` name through which users reach it. Every front door builds its
table from ``FRONTS`` with one loop (``symgrad.core.tracer_faces``,
``symgrad.eager.tensor_methods``, ``symgrad.public_functions``), so a new op is one
declaration plus its faces.
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
    view: bool = False            # the output may alias the first operand's buffer
    # a control-flow node (symgrad.core.ops.control): its value is a tuple that ``result``
    # nodes pick from; its ``vjp`` is one rule for all operands, given every result's cotangent
    multiple_results: bool = False
    batch: Optional[Callable] = None  # (operands, dims, **params) -> (tracer, dim): vmap's rule

    @property
    def elementwise(self):
        return self.scalar is not None

    def vjp_rule(self, position):
        """The VJP rule for operand ``position``, or None when no gradient flows there."""
        return self.vjp[position] if position < len(self.vjp) else None


OPS: dict = {}


def declare(name, shape_rule, reference, vjp=(), scalar=None, family="", params=(), view=False,
            multiple_results=False, batch=None):
    """Register a primitive; declaring a name twice is a bug."""
    if name in OPS:
        raise ValueError(f"op {name!r} declared twice")
    OPS[name] = Op(name, shape_rule, reference, tuple(vjp), scalar, family, tuple(params), view,
                   multiple_results, batch)
    return OPS[name]


def view_ops():
    """Names of the ops whose output may be a view of their first operand."""
    return frozenset(name for name, op in OPS.items() if op.view)


@dataclass(frozen=True)
class Faces:
    """The names through which users reach a front function.

    >>> Faces(numpy=(np.exp,), tensor=("exp",), torch=("exp",), grad_fn="ExpBackward0")
    ... # doctest: +ELLIPSIS
    Faces(numpy=(<ufunc 'exp'>,), ...)
    """
    numpy: tuple = ()       # numpy functions and ufuncs that trace as this function
    scipy: tuple = ()       # names of scipy.special's ufuncs that trace as this function
    method: tuple = ()      # Tracer methods, named as ndarray's
    operator: str = ""      # a Python operator: "add" gives __add__ (Tracer and Tensor)
    reflected: bool = False  # ... and __radd__, the operands swapped
    tensor: tuple = ()      # Tensor methods, named as PyTorch's
    torch: tuple = ()       # symgrad.<name>: torch.<name> on Tensors, np.<name> on arrays
    grad_fn: str = ""       # the grad_fn a Tensor records ("" for ops without a gradient)


@dataclass(frozen=True)
class Front:
    function: Callable
    faces: Faces


FRONTS: list = []


def front(function, faces):
    """Register ``function`` as reached through ``faces``; returns ``function``."""
    FRONTS.append(Front(function, faces))
    return function


def faced(faces=None, **fields):
    """Decorator form of :func:`front`, given a :class:`Faces` or its fields."""
    return lambda function: front(function, faces or Faces(**fields))


def get(name):
    return OPS[name]


# Source nodes: graph inputs (filled by the caller) and constants (their value is a param).
declare("input", lambda index: None, None, family="source", params=("index",))
declare("constant", lambda value: (value.shape, value.dtype), lambda value: value,
        family="source", params=("value",))
