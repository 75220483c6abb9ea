"""The checks and preparation of a differentiating transformation's arguments and outputs:
``argnums``, fresh variables for the differentiated leaves, a scalar output, ``has_aux``
pairs."""
import inspect

import numpy as np

import symgrad.core.pytree as pytree
from symgrad.core.reverse_mode import is_differentiable
from symgrad.core.errors import TracingTypeError, TracingValueError
from symgrad.core.ops.elementwise import identity
from symgrad.core.ops.shape import reshape
from symgrad.core.tracing import Tracer, constant, error_here
from symgrad.core.trace_function import is_immutable


def check_argnums(argnums):
    """A TypeError at the user's line unless ``argnums`` is an int or a tuple of ints."""
    positions = argnums if isinstance(argnums, (tuple, list)) else (argnums,)
    for position in positions:
        if isinstance(position, bool) or not isinstance(position, (int, np.integer)):
            raise error_here(f"argnums must be an int or a tuple of ints (positions of the "
                             f"arguments to differentiate), got argnums={argnums!r} of type "
                             f"{type(argnums).__name__}", TracingTypeError)


def normalize_argnums(fn, argnums, args):
    many = isinstance(argnums, (tuple, list))
    positions = tuple(argnums) if many else (argnums,)
    for position in positions:
        if not -len(args) <= position < len(args):
            raise error_here(f"argnums={argnums!r} is out of range: "
                             f"{getattr(fn, '__name__', 'the function')} was called with "
                             f"{len(args)} positional argument(s)", TracingValueError)
    return tuple(int(p) % len(args) for p in positions), many


def fresh_variable(graph, leaf):
    """``leaf`` in a fresh node, a variable of its own to differentiate with respect to
    (mutable like the leaf: symgrad.core.views)."""
    value = identity(leaf if isinstance(leaf, Tracer) else constant(graph, leaf))
    return Tracer(graph, value.node, immutable=is_immutable(leaf))


def parameter_name(fn, position):
    """The name of ``fn``'s positional parameter ``position`` (``w1``), else ``arg1``."""
    try:
        parameters = [p for p in inspect.signature(fn).parameters.values()
                      if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        parameters = []
    return parameters[position].name if position < len(parameters) else f"arg{position}"


def fresh_differentiable(fn, graph, args, positions):
    """Copy each differentiated leaf into a fresh node so it is a variable of its own."""
    args = list(args)
    for position in positions:
        leaves, treedef = pytree.flatten(args[position])
        fresh = []
        for path, leaf in zip(pytree.leaf_paths(args[position]), leaves):
            dtype = leaf.dtype if isinstance(leaf, Tracer) else np.asarray(leaf).dtype
            if not is_differentiable(dtype) or isinstance(leaf, bool):
                raise error_here(
                    f"cannot differentiate {getattr(fn, '__name__', 'the function')} with respect "
                    f"to argument {position}{path} of dtype {dtype.name}: only floating-point "
                    "arguments have gradients (convert with .astype(np.float64) or leave it "
                    "out of argnums)")
            fresh.append(fresh_variable(graph, leaf))
            graph[fresh[-1].node]["argument"] = f"{parameter_name(fn, position)}{path}"
        args[position] = pytree.unflatten(treedef, fresh)
    return args


def scalar_output(fn, out):
    if not isinstance(out, Tracer):
        raise error_here(f"grad: {getattr(fn, '__name__', 'the function')} must return a "
                         f"scalar array, got {type(out).__name__}")
    if out.shape != () and out.size != 1 or not is_differentiable(out.dtype):
        raise error_here(
            f"grad: {getattr(fn, '__name__', 'the function')} must return a scalar float, got "
            f"an output of shape {list(out.shape)} and dtype {out.dtype.name}; use sg.vjp(f, "
            "*args) and pull back a seed of that shape for non-scalar outputs")
    return reshape(out, ()) if out.shape != () else out


def split_aux(fn, out):
    """``(output, aux)`` of a has_aux function; aux is any pytree (strings stay as they are)."""
    if not (isinstance(out, (tuple, list)) and len(out) == 2):
        got = f"a {type(out).__name__} of length {len(out)}" if isinstance(out, (tuple, list)) \
            else type(out).__name__
        raise error_here(f"has_aux=True: {getattr(fn, '__name__', 'the function')} must return a "
                         f"pair (output, aux), got {got}")
    return out
