"""Static arguments of ``jit``/``grad``/``value_and_grad``: values the function is traced
for, as Python values (so ``i % n``, ``range(i)`` and ``x[i * b:(i + 1) * b]`` work), instead
of traced ones. A new value traces and compiles again (the compile log says why: set
``SYMGRAD_LOG_COMPILES=1``).

Static are the arguments named by ``static_argnums``/``static_argnames`` (as in JAX) and,
by default, every Python ``int`` (and ``bool``) argument that is not differentiated: an
autograd-style ``objective(params, iter)`` that picks its minibatch with ``iter`` runs
unchanged.

>>> import numpy as np, symgrad as sg
>>> def batch_loss(w, i, batch=2):
...     data = np.arange(8.0)
...     return np.sum(w * data[i * batch:(i + 1) * batch])
>>> [float(sg.grad(batch_loss, backend="reference")(1.0, i)) for i in range(3)]
[1.0, 5.0, 9.0]
"""
import inspect
from dataclasses import dataclass

from symgrad.core.errors import TracingTypeError
from symgrad.core.tracing import error_here


class Static:
    """A static argument's value, carried through flattening as one opaque leaf (its hash
    and equality are the value's, so it keys the compile cache; not a dataclass, which
    would be a tree node)."""
    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def __eq__(self, other):
        return type(other) is Static and self.value == other.value

    def __hash__(self):
        return hash(self.value)

    def __repr__(self):
        return repr(self.value)


def _is_python_int(value):
    return type(value) in (int, bool)


def _parameter_names(fn):
    try:
        return list(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return []


@dataclass(frozen=True)
class StaticSpec:
    """Which arguments of ``fn`` are static: ``argnums`` and ``argnames`` as given, the
    ``differentiated`` positions (never static by default)."""
    argnums: tuple = ()
    argnames: tuple = ()
    differentiated: tuple = ()

    @classmethod
    def of(cls, static_argnums=(), static_argnames=(), differentiated=()):
        def as_tuple(value):
            return tuple(value) if isinstance(value, (tuple, list)) else (value,)
        return cls(() if static_argnums is None else as_tuple(static_argnums),
                   () if static_argnames is None else as_tuple(static_argnames),
                   as_tuple(differentiated))

    def positions(self, fn, count):
        """Static positions among ``count`` positional arguments (beside the default ones)."""
        names = _parameter_names(fn) if self.argnames else ()
        by_name = {names.index(n) for n in self.argnames if n in names}
        return {p % count for p in self.argnums if -count <= p < count} | by_name

    def mark(self, fn, args, kwargs):
        """``(args, kwargs)`` with every static argument wrapped in :class:`Static`."""
        static = self.positions(fn, len(args))
        differentiated = {p % len(args) for p in self.differentiated if -len(args) <= p < len(args)}
        args = tuple(_wrap(fn, value, f"argument {position}") if position in static or (
            _is_python_int(value) and position not in differentiated) else value
            for position, value in enumerate(args))
        kwargs = {name: _wrap(fn, value, f"argument {name!r}")
                  if name in self.argnames or _is_python_int(value) else value
                  for name, value in kwargs.items()}
        return args, kwargs


def _wrap(fn, value, what):
    if isinstance(value, Static):
        return value
    try:
        hash(value)
    except TypeError:
        raise error_here(f"static {what} of {getattr(fn, '__name__', 'the function')} must be "
                         f"hashable (it keys the compiled cache), got a "
                         f"{type(value).__name__}: pass a tuple instead of a list, or leave it "
                         "out of static_argnums/static_argnames", TracingTypeError) from None
    return Static(value)


def unwrapped(build):
    """``build`` called with the static arguments' own values."""
    def call(*args, **kwargs):
        return build(*(a.value if isinstance(a, Static) else a for a in args),
                     **{k: v.value if isinstance(v, Static) else v for k, v in kwargs.items()})
    return call
