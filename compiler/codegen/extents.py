"""Extents the generated code reads from its arrays at run time, so that one compiled
function serves every batch size (numba specializes on dtype, rank and layout only).

:func:`name_extents` gives every node shape of an optimized graph, wherever a dimension
equals a dimension of a graph input, an :class:`Extent`: an int for every decision of the
passes and code generators, spelled in generated source as the local that holds it
(``d0 = v2.shape[0]``, defined first in the function). Dimensions of 0 and 1 stay literals:
they decide broadcasting and empty loops.

Why matching by value is safe: source generated for one set of shapes is correct for those
shapes, whatever names it reads them from. Two traces share machine code only when their
generated sources are identical text, and then the text is correct for both. A coincidence
(a batch of 10 beside 10 classes) only makes the texts differ: one more compile, never a
wrong result.

>>> rows = Extent(64, "d0")
>>> f"np.empty(({rows}, 3))", rows + 1, rows == 64
('np.empty((d0, 3))', 65, True)
"""


class Extent(int):
    """An array dimension of known value whose source text is ``text`` (a local's name
    or a product of them): arithmetic on it gives plain ints, formatting gives ``text``."""

    def __new__(cls, value, text):
        extent = super().__new__(cls, value)
        extent.text = text
        return extent

    def __format__(self, spec):
        return self.text if not spec else int(self).__format__(spec)

    def __str__(self):
        return self.text

    def __reduce__(self):
        return Extent, (int(self), self.text)


def extent_product(dims):
    """The number of elements of ``dims`` as an Extent spelled as a product when a
    dimension is read at run time (``d0 * 784``), else as a plain int."""
    value = 1
    for d in dims:
        value *= int(d)
    if not any(isinstance(d, Extent) for d in dims):
        return value
    factors = [str(d) for d in dims if d != 1] or ["1"]
    return Extent(value, " * ".join(factors))


class ExtentNames:
    """The run-time extents of one graph: ``sources`` lists (name, input node, axis), the
    place each name is read from, in definition order."""

    def __init__(self, graph):
        self.sources = []
        by_value = {}
        for node in graph.inputs:
            if not graph.users(node) and node not in graph.outputs:
                continue        # never read: the caller may pass an empty stand-in
            for axis, extent in enumerate(graph[node]["shape"]):
                if extent > 1 and extent not in by_value:
                    name = f"d{len(self.sources)}"
                    by_value[extent] = Extent(extent, name)
                    self.sources.append((name, node, axis))
        self.by_value = by_value

    def shape(self, shape):
        return tuple(self.by_value.get(int(d), int(d)) for d in shape)


def name_extents(graph):
    """Give ``graph``'s node shapes run-time extents (in place; run after the passes, which
    make new nodes with plain shapes). The ExtentNames is kept as ``graph.extents``."""
    names = ExtentNames(graph)
    for node in graph.nodes():
        attrs = graph[node]
        attrs["shape"] = names.shape(attrs["shape"])
    graph.extents = names
    return graph


def extent_definitions(graph, source_of):
    """Lines defining the run-time extents of ``graph`` (named by :func:`name_extents`);
    ``source_of(node, axis)`` is the expression an input's dimension is read from."""
    names = getattr(graph, "extents", None)
    return [f"{name} = {source_of(node, axis)}" for name, node, axis in
            (names.sources if names is not None else ())]
