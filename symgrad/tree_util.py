"""JAX's pytree API (``jax.tree_util``) over symgrad's pytrees (symgrad.core.pytree): tuples,
lists, dicts, ``OrderedDict``, ``defaultdict``, namedtuples and dataclasses are nodes, ``None``
is an empty subtree, and other types become nodes by :func:`register_pytree_node`.

>>> import collections, symgrad as sg
>>> Point = collections.namedtuple("Point", "x y")
>>> sg.tree_util.tree_map(lambda a: a * 10, {"p": Point(1, 2), "q": None})
{'p': Point(x=10, y=20), 'q': None}
>>> sg.tree_util.tree_leaves([Point(1, 2), (3,)])
[1, 2, 3]
"""
import functools

import symgrad.core.pytree as pytree
from symgrad.core.pytree import TreeDef as PyTreeDef  # noqa: F401  (jax.tree_util.PyTreeDef)


def tree_flatten(tree, is_leaf=None):
    """``(leaves, treedef)``; ``is_leaf(subtree)`` makes a subtree a leaf."""
    return pytree.flatten(tree, is_leaf=is_leaf)


def tree_unflatten(treedef, leaves):
    """The tree of structure ``treedef`` holding ``leaves`` in order."""
    leaves = list(leaves)
    if len(leaves) != treedef.num_leaves:
        raise ValueError(f"Too {'few' if len(leaves) < treedef.num_leaves else 'many'} leaves "
                         f"for PyTreeDef; expected {treedef.num_leaves}, got {len(leaves)}.")
    return pytree.unflatten(treedef, leaves)


def tree_leaves(tree, is_leaf=None):
    return pytree.flatten(tree, is_leaf=is_leaf)[0]


def tree_structure(tree, is_leaf=None):
    return pytree.flatten(tree, is_leaf=is_leaf)[1]


def treedef_is_leaf(treedef):
    return treedef.kind is None


def tree_map(f, tree, *rest, is_leaf=None):
    """``tree`` with each leaf replaced by ``f(leaf, *the leaves at its place in rest)``;
    the trees in ``rest`` must have ``tree``'s structure."""
    leaves, treedef = tree_flatten(tree, is_leaf)
    others = []
    for other in rest:
        other_leaves, other_def = tree_flatten(other, is_leaf)
        if other_def != treedef:
            raise ValueError(f"tree_map: tree structures differ: {treedef} and {other_def}")
        others.append(other_leaves)
    return pytree.unflatten(treedef, [f(*values) for values in zip(leaves, *others)])


def tree_reduce(function, tree, initializer=None, is_leaf=None):
    """``functools.reduce(function, tree_leaves(tree)[, initializer])``."""
    leaves = tree_leaves(tree, is_leaf)
    return (functools.reduce(function, leaves) if initializer is None else
            functools.reduce(function, leaves, initializer))


def tree_all(tree):
    return all(tree_leaves(tree))


def register_pytree_node(nodetype, flatten_func, unflatten_func):
    """Make ``nodetype`` a tree node: ``flatten_func(x) -> (children, aux_data)``,
    ``unflatten_func(aux_data, children) -> x``; ``aux_data`` must be hashable."""
    pytree.register_node(nodetype, lambda node: tuple(flatten_func(node)),
                         lambda aux, children: unflatten_func(aux, children))


def register_pytree_node_class(cls):
    """Class decorator: ``cls.tree_flatten(self)`` and ``cls.tree_unflatten(aux, children)``."""
    register_pytree_node(cls, lambda node: node.tree_flatten(), cls.tree_unflatten)
    return cls


def register_dataclass(nodetype, data_fields, meta_fields):
    """A class whose ``data_fields`` are children and whose ``meta_fields`` are static
    (part of the structure), as ``jax.tree_util.register_dataclass``."""
    data_fields, meta_fields = tuple(data_fields), tuple(meta_fields)

    def flatten_node(node):
        return ([getattr(node, name) for name in data_fields],
                tuple(getattr(node, name) for name in meta_fields))

    def unflatten_node(meta, children):
        return nodetype(**dict(zip(data_fields, children)), **dict(zip(meta_fields, meta)))

    pytree.register_node(nodetype, flatten_node, unflatten_node,
                         lambda _aux, _count: [f".{name}" for name in data_fields])
    return nodetype
