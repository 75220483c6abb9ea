"""autograd.misc.flatten: a pytree of arrays as one flat vector, and the way back. The
vector is built with numpy functions, so it traces when the leaves are traced."""
import numpy as np

from symgrad.tree_util import tree_flatten, tree_unflatten


def flatten(value):
    """``(vector, unflatten)``: ``unflatten(vector)`` rebuilds ``value``'s structure."""
    leaves, treedef = tree_flatten(value)
    shapes = [np.shape(leaf) for leaf in leaves]
    sizes = [int(np.prod(shape)) for shape in shapes]
    vector = (np.concatenate([np.ravel(leaf) for leaf in leaves]) if leaves
              else np.zeros(0))

    def unflatten(flat):
        pieces, start = [], 0
        for shape, size in zip(shapes, sizes):
            pieces.append(np.reshape(flat[start:start + size], shape))
            start += size
        return tree_unflatten(treedef, pieces)
    return vector, unflatten


def flatten_func(func, example):
    """``(flat_func, unflatten, flat_example)``: ``func`` taking a flat vector instead."""
    flat_example, unflatten = flatten(example)

    def flat_func(flat, *args, **kwargs):
        return func(unflatten(flat), *args, **kwargs)
    return flat_func, unflatten, flat_example
