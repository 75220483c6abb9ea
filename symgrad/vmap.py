"""``vmap``: a function of one example mapped over a batch axis of its arguments, as
``jax.vmap`` (``in_axes``, ``out_axes``, ``axis_size``; negative axes count from the end).

The function is traced once, on one example, and rewritten by the ops' batching rules into
one graph over the whole batch (symgrad.core.batching): no Python loop runs per example,
and the result composes with ``grad``, ``jit``, ``train`` and with ``vmap`` itself.

>>> import numpy as np, symgrad as sg
>>> per_example = sg.vmap(sg.grad(lambda w, x: np.sum(np.tanh(x @ w))), in_axes=(None, 0))
>>> per_example(np.ones((3, 2)), np.ones((5, 3))).shape
(5, 3, 2)
"""
from collections.abc import Callable
import functools

import numpy as np

import symgrad.core.pytree as pytree
from symgrad.core.batching import batched_call
from symgrad.core.errors import TracingTypeError, TracingValueError
from symgrad.core.ops.batch_rules import at_front, moved
from symgrad.core.tracing import Tracer, constant, current_graph, error_here, find_graph
from symgrad.core.trace_function import argument_names, is_array_leaf
from symgrad.staging import Transformed, reused


def axes_for(spec, tree, what):
    """One axis (int or None) per leaf of ``tree``: ``spec`` is a tree prefix of it, an int
    or None standing for every leaf below it (JAX's in_axes/out_axes)."""
    if spec is None or isinstance(spec, (int, np.integer)) and not isinstance(spec, bool):
        return [spec] * tree.num_leaves
    found = pytree.node_type(spec)
    if found is None:
        raise error_here(f"vmap {what} must be an int, None, or a (nested) tuple, list or dict "
                         f"of them; got {spec!r} of type {type(spec).__name__}",
                         TracingTypeError)
    children, keys = found.flatten(spec)
    if type(spec) is not tree.kind or keys != tree.keys or len(children) != len(tree.children):
        raise error_here(f"vmap {what} specification must be a tree prefix of the "
                         f"corresponding value, got specification {spec!r} for value tree "
                         f"{tree}", TracingValueError)
    return [axis for child, subtree in zip(children, tree.children)
            for axis in axes_for(child, subtree, what)]


def checked_axis(axis, leaf, name):
    """``axis`` as a non-negative axis of ``leaf``, or a clear error naming the argument."""
    if axis is None:
        return None
    if not isinstance(leaf, Tracer):
        raise error_here(f"vmap in_axes maps argument {name} along axis {axis}, but it is a "
                         f"{type(leaf).__name__}, not an array: give it in_axes None",
                         TracingValueError)
    if not -leaf.ndim <= axis < leaf.ndim:
        raise error_here(f"vmap was requested to map its argument {name} along axis {axis}, "
                         f"which implies that its rank should be at least "
                         f"{axis + 1 if axis >= 0 else -axis}, but is only {leaf.ndim} (its "
                         f"shape is {tuple(leaf.shape)})", TracingValueError)
    return int(axis) % leaf.ndim


def batch_size(leaves, axes, names, axis_size):
    """The one size of every mapped axis (and ``axis_size``), or an error listing them."""
    sizes = {leaf.shape[axis] for leaf, axis in zip(leaves, axes) if axis is not None}
    if axis_size is not None:
        sizes.add(axis_size)
    if len(sizes) == 1:
        return sizes.pop()
    if not sizes:
        raise error_here("vmap must have at least one non-None value in in_axes, or be given "
                         "axis_size", TracingValueError)
    lines = [f"  * axis {axis} of argument {name} of type "
             f"{leaf.dtype.name}{list(leaf.shape)} has size {leaf.shape[axis]}"
             for leaf, axis, name in zip(leaves, axes, names) if axis is not None]
    if axis_size is not None:
        lines.append(f"  * axis_size is {axis_size}")
    raise error_here("vmap got inconsistent sizes for array axes to be mapped:\n"
                     + "\n".join(lines), TracingValueError)


def mapped_arguments(fn, in_axes, args, kwargs, axis_size):
    """``(leaves, treedef, axes, size)`` of a vmapped call: keyword arguments are mapped
    along axis 0 (as in JAX)."""
    if isinstance(in_axes, list):
        in_axes = tuple(in_axes)
    if not (in_axes is None or isinstance(in_axes, (int, np.integer, tuple))) \
            or isinstance(in_axes, tuple) and len(in_axes) != len(args):
        raise error_here(f"vmap in_axes must be an int, None, or a tuple of entries "
                         f"corresponding to the positional arguments passed to the function "
                         f"({len(args)} here), but got {in_axes!r}", TracingValueError)
    leaves, treedef = pytree.flatten((args, kwargs))
    spec = (tuple(in_axes) if isinstance(in_axes, tuple) else (in_axes,) * len(args),
            {key: 0 for key in kwargs})
    names = argument_names(fn, args, kwargs)
    axes = [checked_axis(axis, leaf, name)
            for axis, leaf, name in zip(axes_for(spec, treedef, "in_axes"), leaves, names)]
    return leaves, treedef, axes, batch_size(leaves, axes, names, axis_size)


def placed(leaf, dim, axis, size, graph):
    """An output leaf with its batch axis at ``axis`` (a shared leaf broadcast there)."""
    if not is_array_leaf(leaf):
        return leaf
    if axis is None:
        if dim is not None:
            raise error_here("vmap has mapped output but out_axes is None", TracingValueError)
        return leaf
    leaf = leaf if isinstance(leaf, Tracer) else constant(graph, leaf)
    rank = leaf.ndim + (dim is None)
    if not -rank <= axis < rank:
        raise error_here(f"vmap out_axes {axis} is out of bounds for an output of rank "
                         f"{rank} (shape {(size,) + leaf.shape if dim is None else leaf.shape})",
                         TracingValueError)
    return moved(at_front(leaf, dim, size), 0, axis % rank)


def vmap_builder(fn, in_axes, out_axes, axis_size):
    def build(*args, **kwargs):
        leaves, treedef, axes, size = mapped_arguments(fn, in_axes, args, kwargs, axis_size)
        graph = find_graph(leaves) or current_graph()
        if all(axis is None for axis in axes):      # only axis_size: every example alike
            out = fn(*args, **kwargs)
            out_leaves, out_tree = pytree.flatten(out)
            pairs = [(leaf, None) for leaf in out_leaves]
        else:
            def example(*example_leaves):
                example_args, example_kwargs = pytree.unflatten(treedef, example_leaves)
                return fn(*example_args, **example_kwargs)
            out_tree, pairs = batched_call(example, leaves, axes, size)
        out_specs = axes_for(out_axes, out_tree, "out_axes")
        return pytree.unflatten(out_tree, [placed(leaf, dim, axis, size, graph)
                                           for (leaf, dim), axis in zip(pairs, out_specs)])
    return build


@reused
def vmap(fn: Callable | None = None, in_axes=0, out_axes=0, axis_name=None, axis_size=None, *,
         backend: str = "numba", device: str = "cpu") -> Transformed:
    """``fn`` mapped over axis ``in_axes`` of its arguments, the results stacked along
    ``out_axes``, as ``jax.vmap``: ``in_axes`` is an int, None (an argument shared by every
    example) or a tuple with one entry per positional argument, each a tree prefix of that
    argument; keyword arguments are mapped along axis 0. Compiled once per signature into
    one batched graph (symgrad.core.batching).

    >>> import numpy as np, symgrad as sg
    >>> sg.vmap(np.dot, in_axes=(0, None))(np.ones((4, 3)), np.arange(3.0))
    array([3., 3., 3., 3.])
    """
    if fn is None:
        return functools.partial(vmap, in_axes=in_axes, out_axes=out_axes, axis_name=axis_name,
                                 axis_size=axis_size, backend=backend, device=device)
    if axis_name is not None:
        raise NotImplementedError("vmap's axis_name (for collectives such as psum) is not "
                                  "supported by symgrad yet")
    if not callable(fn):
        raise TypeError(f"vmap's first argument must be a function, got {type(fn).__name__}")
    return Transformed(fn, vmap_builder(fn, in_axes, out_axes, axis_size), backend, kind="vmap",
                       device=device)
