"""The pullback of ``vjp``: the cotangents' checks (JAX's rules) and the graph that pulls them
back to the primals."""
import numpy as np

import symgrad.core.pytree as pytree
from symgrad.arguments import fresh_variable, split_aux
from symgrad.core.reverse_mode import backward, is_differentiable
from symgrad.core.errors import TracingTypeError, TracingValueError
from symgrad.core.tracing import Tracer, constant, current_graph, error_here, find_graph


def _leaf_type(leaf):
    """``(shape, dtype)`` of a primal output or cotangent leaf; None for a Python number's."""
    if isinstance(leaf, (bool, int, float)) and not isinstance(leaf, np.generic):
        return (), None
    return tuple(np.shape(leaf)), np.dtype(leaf.dtype if isinstance(leaf, Tracer) else
                                           np.asarray(leaf).dtype)


def check_cotangents(out, cotangents):
    """A TracingError at the pullback's call unless ``cotangents`` has the structure of the
    outputs, with a float leaf of each output's shape (JAX's rules; a float cotangent of
    another precision is cast)."""
    out_leaves, out_tree = pytree.flatten(out)
    leaves, tree = pytree.flatten(cotangents)
    if tree != out_tree:
        raise error_here(f"vjp: the pullback got cotangents of tree structure {tree}, which "
                         f"does not match the structure of the function's output {out_tree}",
                         TracingTypeError)
    for path, primal, cotangent in zip(pytree.leaf_paths(out), out_leaves, leaves):
        (shape, dtype), (out_shape, out_dtype) = _leaf_type(cotangent), _leaf_type(primal)
        where = f" for output {path}" if path else ""
        dtype_name, out_dtype_name = (d.name if d else "Python scalar" for d in (dtype, out_dtype))
        if shape != out_shape:
            raise error_here(f"vjp: cotangent{where} of shape {list(shape)} does not match the "
                             f"output of shape {list(out_shape)} (cotangent dtype {dtype_name}, "
                             f"output dtype {out_dtype_name})", TracingValueError)
        if (out_dtype is None or out_dtype.kind == "f") and dtype is not None and dtype.kind != "f":
            raise error_here(f"vjp: cotangent{where} of dtype {dtype_name} does not match the "
                             f"output of dtype {out_dtype_name} (shape {list(shape)}): pass a "
                             "float cotangent", TracingTypeError)


def pullback_builder(fn, has_aux):
    def build(primals, cotangents):
        graph = find_graph(pytree.flatten((primals, cotangents))[0]) or current_graph()
        since = graph._next_id
        leaves, treedef = pytree.flatten(primals)
        fresh = [fresh_variable(graph, leaf) for leaf in leaves]
        # Taken before fn runs, which may rebind a tracer by `a[:2] = v`.
        wrt = [leaf.node for leaf in fresh if is_differentiable(leaf.dtype)]
        out = fn(*pytree.unflatten(treedef, fresh))
        out_leaves, _ = pytree.flatten(split_aux(fn, out)[0] if has_aux else out)
        out_leaves = [leaf if isinstance(leaf, Tracer) else constant(graph, leaf) for leaf in out_leaves]
        seeds = {}
        for out_leaf, cotangent in zip(out_leaves, pytree.flatten(cotangents)[0]):
            seed = cotangent if isinstance(cotangent, Tracer) else constant(graph, cotangent)
            seed = seed.astype(out_leaf.dtype)
            seeds[out_leaf.node] = seeds[out_leaf.node] + seed if out_leaf.node in seeds else seed
        grads = iter(backward(graph, seeds, wrt, since))
        return pytree.unflatten(treedef, [next(grads) if is_differentiable(leaf.dtype)
                                          else constant(graph, np.zeros(leaf.shape, leaf.dtype))
                                          for leaf in fresh])
    return build
