"""The IR: a Graph is a thin class over a networkx MultiDiGraph.

A node is one op application with attributes ``op``, ``shape``, ``dtype`` and ``params``
(static parameters such as ``axis``). An edge runs from an operand to its user and the edge
key is the argument position, so ``x * x`` is two edges with keys 0 and 1.

>>> g = Graph()
>>> x = g.add_input((3,), "float64")
>>> y = g.add_node("exp", [x], (3,), "float64")
>>> g.outputs = [y]
>>> g.operands(y) == [x]
True
"""
import hashlib
import re

import networkx as nx
import numpy as np

_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")   # in reprs of Python objects


def freeze(value):
    """A hashable, order-stable form of a static param (lists become tuples)."""
    if value is None or type(value) in (int, float, bool, str):
        return value
    if isinstance(value, (list, tuple)):
        return tuple(freeze(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, freeze(v)) for k, v in value.items()))
    if isinstance(value, slice):
        return ("slice", value.start, value.stop, value.step)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Graph):      # a control-flow node's body (symgrad.core.ops.control)
        return ("graph", value.structural_hash())
    return value


class Graph:
    """A static dataflow graph with ordered inputs and outputs."""

    def __init__(self, name="graph"):
        self.nx = nx.MultiDiGraph()
        self.name = name
        self.inputs = []
        self.outputs = []
        self._next_id = 0

    # -- building -----------------------------------------------------------------------
    def add_node(self, op, operands, shape, dtype, params=None, **attrs):
        node = self._next_id
        self._next_id += 1
        # an int subclass stays (the CPU backend's run-time extents: compiler/codegen/extents.py)
        self.nx.add_node(node, op=op, shape=tuple(d if type(d) is not bool and isinstance(d, int)
                                                  else int(d) for d in shape),
                         dtype=np.dtype(dtype).name, params=dict(params or {}), **attrs)
        for position, operand in enumerate(operands):
            self.nx.add_edge(operand, node, key=position)
        return node

    def add_input(self, shape, dtype, name=None, **attrs):
        node = self.add_node("input", [], shape, dtype, {"index": len(self.inputs)},
                             name=name or f"in{len(self.inputs)}", **attrs)
        self.inputs.append(node)
        return node

    def add_constant(self, value, dtype=None, **attrs):
        value = np.asarray(value, dtype=dtype)
        return self.add_node("constant", [], value.shape, value.dtype, {"value": value}, **attrs)

    def name_outputs(self, names):
        """Say what each output is (``loss``, ``new linear1.weight``), for listings and
        pictures; names are not part of the structure (nor of its hash)."""
        self.nx.graph["output_names"] = list(names)
        return self

    @property
    def output_names(self):
        """One name per output, ``output N`` where none was given."""
        names = self.nx.graph.get("output_names") or []
        return [names[i] if i < len(names) else f"output {i}" for i in range(len(self.outputs))]

    # -- reading ------------------------------------------------------------------------
    def __getitem__(self, node):
        return self.nx.nodes[node]

    def __contains__(self, node):
        return node in self.nx

    def __len__(self):
        return self.nx.number_of_nodes()

    def nodes(self):
        return list(self.nx.nodes)

    def op(self, node):
        return self.nx.nodes[node]["op"]

    def operands(self, node):
        """Operands of ``node`` in argument order (edge keys are positions)."""
        # networkx's predecessor dict {source: {key: data}} directly: the passes call this
        # thousands of times per compile, and an in_edges view costs 6x more.
        edges = sorted((key, source) for source, keys in self.nx._pred[node].items() for key in keys)
        return [source for _, source in edges]

    def users(self, node):
        """Distinct nodes that use ``node`` as an operand."""
        return list(dict.fromkeys(self.nx.successors(node)))

    def topological_order(self):
        return list(nx.lexicographical_topological_sort(self.nx))

    def ancestors(self, nodes):
        found = set(nodes)
        for node in nodes:
            found |= nx.ancestors(self.nx, node)
        return found

    # -- editing ------------------------------------------------------------------------
    def replace_uses(self, old, new):
        """Point every use of ``old`` (including graph outputs) at ``new``."""
        for _, user, position in list(self.nx.out_edges(old, keys=True)):
            self.nx.remove_edge(old, user, key=position)
            self.nx.add_edge(new, user, key=position)
        self.outputs = [new if out == old else out for out in self.outputs]

    def remove_node(self, node):
        self.nx.remove_node(node)

    def copy(self):
        other = Graph(self.name)
        other.nx = self.nx.copy()
        other.inputs = list(self.inputs)
        other.outputs = list(self.outputs)
        other._next_id = self._next_id
        return other

    # -- identity -----------------------------------------------------------------------
    def signature_of(self, node, array_values=True):
        """What a node computes, independent of its id: op, shape, dtype, params (an array
        param by its shape and dtype only, unless ``array_values``)."""
        attrs = self.nx.nodes[node]
        params = {k: _array_signature(v, array_values) if isinstance(v, np.ndarray) else freeze(v)
                  for k, v in attrs["params"].items()}
        return (attrs["op"], attrs["shape"], attrs["dtype"], freeze(params))

    def structural_hash(self, array_values=True, shapes=True):
        """A stable hash of ops, params, shapes, dtypes and wiring, the same in every process
        (a param that is a Python object, such as a custom VJP's rule, enters through its
        repr, without the memory address `` at 0x7f...``). Without ``array_values``, graphs
        that differ only in the values of array constants hash alike. Without ``shapes``,
        only ops, ranks, dtypes and wiring count: one program traced at several batch sizes
        hashes alike (the disk cache names entries so; its key also holds the generated
        source, which holds every shape and param the code depends on)."""
        order = self.topological_order()
        position = {node: i for i, node in enumerate(order)}
        digest = hashlib.sha256()
        for node in order:
            operands = tuple(position[o] for o in self.operands(node))
            signature = self.signature_of(node, array_values)
            if not shapes:
                signature = (signature[0], len(signature[1]), signature[2])
            digest.update(_ADDRESS.sub("", repr((signature, operands))).encode())
        digest.update(repr(([position[n] for n in self.inputs],
                            [position[n] for n in self.outputs])).encode())
        return digest.hexdigest()[:20]

    def listing(self, show_sources=False):
        """The graph as text, one equation per node (``show_sources`` adds file:line)."""
        from symgrad.core.listing import format_graph
        return format_graph(self, show_sources)

    def __str__(self):
        return self.listing()

    def __repr__(self):
        return f"<Graph {self.name!r}: {len(self)} nodes, {len(self.inputs)} inputs, " \
               f"{len(self.outputs)} outputs>"


def _array_signature(value, with_values):
    return (value.dtype.str, value.shape, value.tobytes() if with_values else None)
