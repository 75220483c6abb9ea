"""Nested tuples, lists and dicts of arrays ("pytrees"): flatten to leaves and rebuild.

As in JAX, ``None`` is an empty subtree (no leaves), not a leaf.

>>> leaves, tree = flatten({"b": (1, 2), "a": [3], "c": None})
>>> leaves
[3, 1, 2]
>>> unflatten(tree, [30, 10, 20])
{'a': [30], 'b': (10, 20), 'c': None}
>>> print(tree)
PyTreeDef({'a': [*], 'b': (*, *), 'c': None})
"""
from typing import NamedTuple

CONTAINERS = (tuple, list, dict)


class Static:
    """The kind of a tree node that holds a value as it is (``keys == (value,)``): a
    string in a traced function's output, which is returned, not computed."""


class TreeDef(NamedTuple):
    """A tree's structure (a tuple: made, hashed and compared at C speed on every call of
    a transformed function)."""
    kind: type          # tuple, list, dict, type(None), Static, or None for a leaf
    keys: tuple = ()     # dict keys (sorted), or () for sequences
    children: tuple = ()

    @property
    def num_leaves(self):
        return 1 if self.kind is None else sum(child.num_leaves for child in self.children)

    def __str__(self):
        """JAX's notation: ``PyTreeDef({'a': *, 'b': (*, None)})``, ``*`` for a leaf."""
        return f"PyTreeDef({self._text()})"

    def _text(self):
        if self.kind is None:
            return "*"
        if self.kind is Static:
            return repr(self.keys[0])
        if self.kind is type(None):
            return "None"
        children = [child._text() for child in self.children]
        if self.kind is dict:
            pairs = (f"{key!r}: {child}" for key, child in zip(self.keys, children))
            return "{" + ", ".join(pairs) + "}"
        if self.kind is list:
            return "[" + ", ".join(children) + "]"
        return "(" + ", ".join(children) + ("," if len(children) == 1 else "") + ")"


LEAF = TreeDef(None)
NONE = TreeDef(type(None))


def _items(tree):
    if isinstance(tree, dict):
        keys = tuple(sorted(tree))
        return keys, [tree[k] for k in keys]
    return (), list(tree)


def flatten(tree, is_static=None):
    """``(leaves, treedef)``; tuples, lists and dicts are containers, ``None`` is empty, all
    else is a leaf, except that leaves for which ``is_static(leaf)`` stay in the treedef."""
    leaves = []

    def walk(node):
        if node is None:
            return NONE
        if type(node) in CONTAINERS:
            keys, children = _items(node)
            return TreeDef(type(node), keys, tuple([walk(child) for child in children]))
        if is_static is not None and is_static(node):
            return TreeDef(Static, (node,))
        leaves.append(node)
        return LEAF

    return leaves, walk(tree)


def unflatten(treedef, leaves):
    """Rebuild the structure ``treedef`` with ``leaves`` in order."""
    iterator = iter(leaves)

    def build(node):
        if node.kind is None:
            return next(iterator)
        if node.kind is Static:
            return node.keys[0]
        if node.kind is type(None):
            return None
        children = [build(child) for child in node.children]
        return dict(zip(node.keys, children)) if node.kind is dict else node.kind(children)

    return build(treedef)


def leaf_paths(tree):
    """Readable paths of the leaves in flatten order: ``''``, ``'[0]'``, ``"['w']"``."""
    if tree is None:
        return []
    if type(tree) in CONTAINERS:
        keys, children = _items(tree)
        labels = [repr(k) for k in keys] if isinstance(tree, dict) else range(len(children))
        return [f"[{label}]{path}" for label, child in zip(labels, children)
                for path in leaf_paths(child)]
    return [""]
