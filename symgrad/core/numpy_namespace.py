"""numpy's array constructors while a trace runs.

numpy never hands ``np.array([traced, 1.0])``, ``np.asarray(traced)`` or
``np.full(shape, traced)`` to a tracer's ``__array_function__`` (they take no array argument
that it dispatches on): it asks each tracer for a concrete array (``__array__``), which it
cannot give. So while a function is traced, these names of the ``numpy`` module are
symgrad's versions (symgrad.core.ops.construction registers them), which build the array
from the tracers and call numpy's own function whenever no tracer is given; numpy's are put
back when the outermost trace ends. scipy's functions that convert their arguments the same
way (``scipy.special.logsumexp``, ``scipy.stats.norm.logpdf``) are replaced alike, in the
scipy modules already imported (symgrad.scipy registers them). Code that imported the function itself
(``from numpy import array``) keeps numpy's.
"""
import contextlib
import importlib
import sys

import numpy as np

# name -> numpy's function, and name -> the version used while tracing
ORIGINALS = {}
WHILE_TRACING = {}
# (module name, dotted attribute) -> the version used while tracing: scipy's Python functions
# that turn their arguments into numpy arrays (scipy.special.logsumexp, the methods of the
# distribution scipy.stats.norm), replaced in their module or object while a trace runs when
# that module is imported; and what they were while they are replaced
ATTRIBUTES_WHILE_TRACING = {}
_replaced = {}
_MISSING = object()


def during_tracing(name):
    """Decorator: ``np.<name>`` is the decorated function while a trace runs."""
    def register(function):
        ORIGINALS.setdefault(name, getattr(np, name))
        WHILE_TRACING[name] = function
        return function
    return register


def during_tracing_in(module_name, attribute):
    """Decorator: ``<module_name>.<attribute>`` is the decorated function while a trace runs."""
    def register(function):
        ATTRIBUTES_WHILE_TRACING[module_name, attribute] = function
        return function
    return register


def original_attribute(module_name, attribute):
    """``<module_name>.<attribute>`` as its module defines it, also while it is replaced."""
    key = (module_name, attribute)
    if key in _replaced:
        return _replaced[key][2]
    owner = importlib.import_module(module_name)
    for name in attribute.split("."):
        owner = getattr(owner, name)
    return owner


def _replace_attributes():
    for (module_name, attribute), function in ATTRIBUTES_WHILE_TRACING.items():
        owner = sys.modules.get(module_name)
        if owner is None:
            continue
        *path, name = attribute.split(".")
        try:
            for part in path:
                owner = getattr(owner, part)
            original = getattr(owner, name)
        except AttributeError:      # a scipy version without it: nothing to replace
            continue
        own = vars(owner).get(name, _MISSING)   # an instance's own attribute, or its class's
        _replaced[module_name, attribute] = (owner, own, original)
        setattr(owner, name, function)


def _restore_attributes():
    for (_module_name, attribute), (owner, own, _original) in _replaced.items():
        name = attribute.rsplit(".", 1)[-1]
        if own is _MISSING:
            delattr(owner, name)
        else:
            setattr(owner, name, own)
    _replaced.clear()


@contextlib.contextmanager
def traced_constructors(outermost):
    """numpy's namespace with the tracing versions inside the block (for the outermost
    trace; nested traces find them in place already)."""
    if not outermost:
        yield
        return
    for name, function in WHILE_TRACING.items():
        setattr(np, name, function)
    _replace_attributes()
    try:
        yield
    finally:
        for name, function in ORIGINALS.items():
            setattr(np, name, function)
        _restore_attributes()
