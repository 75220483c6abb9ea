"""Nested tuples, lists and dicts of arrays ("pytrees"): flatten to leaves and rebuild.

>>> leaves, tree = flatten({"b": (1, 2), "a": [3]})
>>> leaves
[3, 1, 2]
>>> unflatten(tree, [30, 10, 20])
{'a': [30], 'b': (10, 20)}
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class TreeDef:
    kind: type          # tuple, list, dict or None for a leaf
    keys: tuple = ()     # dict keys (sorted), or () for sequences
    children: tuple = ()

    @property
    def num_leaves(self):
        return 1 if self.kind is None else sum(child.num_leaves for child in self.children)


LEAF = TreeDef(None)


def _items(tree):
    if isinstance(tree, dict):
        keys = tuple(sorted(tree))
        return keys, [tree[k] for k in keys]
    return (), list(tree)


def flatten(tree):
    """``(leaves, treedef)``; tuples, lists and dicts are containers, all else is a leaf."""
    leaves = []

    def walk(node):
        if type(node) in (tuple, list, dict):
            keys, children = _items(node)
            return TreeDef(type(node), keys, tuple(walk(child) for child in children))
        leaves.append(node)
        return LEAF

    return leaves, walk(tree)


def unflatten(treedef, leaves):
    """Rebuild the structure ``treedef`` with ``leaves`` in order."""
    iterator = iter(leaves)

    def build(node):
        if node.kind is None:
            return next(iterator)
        children = [build(child) for child in node.children]
        return dict(zip(node.keys, children)) if node.kind is dict else node.kind(children)

    return build(treedef)


def leaf_paths(tree):
    """Readable paths of the leaves in flatten order: ``''``, ``'[0]'``, ``"['w']"``."""
    if type(tree) in (tuple, list, dict):
        keys, children = _items(tree)
        labels = [repr(k) for k in keys] if isinstance(tree, dict) else range(len(children))
        return [f"[{label}]{path}" for label, child in zip(labels, children)
                for path in leaf_paths(child)]
    return [""]
