"""Nested containers of arrays ("pytrees"): flatten to leaves and rebuild.

As in JAX, ``None`` is an empty subtree (no leaves), not a leaf. Nodes are tuples, lists,
dicts (keys sorted), ``OrderedDict`` and ``defaultdict`` (keys in their order), namedtuples,
dataclass instances (their ``init`` fields) and the types given to :func:`register_node`;
everything else is a leaf.

>>> leaves, tree = flatten({"b": (1, 2), "a": [3], "c": None})
>>> leaves
[3, 1, 2]
>>> unflatten(tree, [30, 10, 20])
{'a': [30], 'b': (10, 20), 'c': None}
>>> print(tree)
PyTreeDef({'a': [*], 'b': (*, *), 'c': None})
"""
import collections
import dataclasses
from dataclasses import dataclass
from typing import Callable, NamedTuple


class Static:
    """The kind of a tree node that holds a value as it is (``keys == (value,)``): a
    string in a traced function's output, which is returned, not computed."""


@dataclass(frozen=True)
class NodeType:
    """How a container type comes apart: ``flatten(node) -> (children, aux)`` and
    ``unflatten(aux, children) -> node``; ``aux`` is hashable (dict keys, field names)."""
    flatten: Callable
    unflatten: Callable
    labels: Callable = None      # (aux, count) -> a path label per child, '[0]' by default


def _sorted_items(mapping):
    keys = tuple(sorted(mapping))
    return [mapping[k] for k in keys], keys


def _ordered_items(mapping):
    return list(mapping.values()), tuple(mapping)


def _key_labels(keys, _count):
    return [f"[{key!r}]" for key in keys]


def _field_labels(names, _count):
    return [f".{name}" for name in names]


NODE_TYPES = {
    tuple: NodeType(lambda t: (list(t), ()), lambda _, children: tuple(children)),
    list: NodeType(lambda t: (list(t), ()), lambda _, children: list(children)),
    dict: NodeType(_sorted_items, lambda keys, children: dict(zip(keys, children)), _key_labels),
    collections.OrderedDict: NodeType(
        _ordered_items, lambda keys, children: collections.OrderedDict(zip(keys, children)),
        _key_labels),
    collections.defaultdict: NodeType(
        lambda d: (_sorted_items(d)[0], (d.default_factory, tuple(sorted(d)))),
        lambda aux, children: collections.defaultdict(aux[0], zip(aux[1], children)),
        lambda aux, count: _key_labels(aux[1], count)),
}


def register_node(kind, flatten_node, unflatten_node, labels=None):
    """Make instances of ``kind`` tree nodes (JAX's ``register_pytree_node``)."""
    NODE_TYPES[kind] = NodeType(flatten_node, unflatten_node, labels)
    return kind


def _is_namedtuple(kind):
    return issubclass(kind, tuple) and hasattr(kind, "_fields")


def _namedtuple_node(kind):
    return NodeType(lambda t: (list(t), kind._fields), lambda _, children: kind(*children),
                    _field_labels)


def _dataclass_node(kind):
    names = tuple(f.name for f in dataclasses.fields(kind) if f.init)
    return NodeType(lambda d: ([getattr(d, n) for n in names], names),
                    lambda aux, children: kind(**dict(zip(aux, children))), _field_labels)


def node_type(value):
    """The :class:`NodeType` of ``value``'s type, or None for a leaf."""
    kind = type(value)
    found = NODE_TYPES.get(kind)
    if found is None and kind is not type and _is_namedtuple(kind):
        found = _namedtuple_node(kind)
    elif found is None and dataclasses.is_dataclass(kind) and not isinstance(value, type):
        found = _dataclass_node(kind)
    return found


class TreeDef(NamedTuple):
    """A tree's structure (a tuple: made, hashed and compared at C speed on every call of
    a transformed function)."""
    kind: type          # a node's type, type(None), Static, or None for a leaf
    keys: tuple = ()     # the node's aux data: dict keys, field names, () for sequences
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
        if self.kind in (dict, collections.OrderedDict, collections.defaultdict):
            keys = self.keys[1] if self.kind is collections.defaultdict else self.keys
            pairs = ", ".join(f"{key!r}: {child}" for key, child in zip(keys, children))
            return "{" + pairs + "}" if self.kind is dict else f"{self.kind.__name__}({{{pairs}}})"
        if self.kind is list:
            return "[" + ", ".join(children) + "]"
        if self.kind is tuple:
            return "(" + ", ".join(children) + ("," if len(children) == 1 else "") + ")"
        if isinstance(self.keys, tuple) and all(isinstance(k, str) for k in self.keys) and \
                len(self.keys) == len(children):
            fields = ", ".join(f"{k}={child}" for k, child in zip(self.keys, children))
            return f"{self.kind.__name__}({fields})"
        return f"CustomNode({self.kind.__name__}[{self.keys!r}], [{', '.join(children)}])"


LEAF = TreeDef(None)
NONE = TreeDef(type(None))


def flatten(tree, is_static=None, is_leaf=None):
    """``(leaves, treedef)``; containers are nodes (module docstring), ``None`` is empty, all
    else is a leaf, except that leaves for which ``is_static(leaf)`` stay in the treedef.
    Subtrees for which ``is_leaf(subtree)`` holds are leaves (JAX's ``is_leaf``)."""
    leaves = []

    def walk(node):
        if node is None:
            return NONE
        found = None if is_leaf is not None and is_leaf(node) else node_type(node)
        if found is not None:
            children, aux = found.flatten(node)
            return TreeDef(type(node), aux, tuple([walk(child) for child in children]))
        if is_static is not None and is_static(node):
            return TreeDef(Static, (node,))
        leaves.append(node)
        return LEAF

    return leaves, walk(tree)


def _node_type_of_kind(kind):
    found = NODE_TYPES.get(kind)
    if found is None and _is_namedtuple(kind):
        return _namedtuple_node(kind)
    return found or _dataclass_node(kind)


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
        return _node_type_of_kind(node.kind).unflatten(node.keys, children)

    return build(treedef)


def leaf_paths(tree):
    """Readable paths of the leaves in flatten order: ``''``, ``'[0]'``, ``"['w']"``, ``'.x'``."""
    if tree is None:
        return []
    found = node_type(tree)
    if found is None:
        return [""]
    children, aux = found.flatten(tree)
    labels = (found.labels(aux, len(children)) if found.labels else
              [f"[{i}]" for i in range(len(children))])
    return [f"{label}{path}" for label, child in zip(labels, children)
            for path in leaf_paths(child)]
