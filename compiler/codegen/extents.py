"""Extents the generated code reads from its arrays at run time, so that one compiled
function serves every batch size (numba specializes on dtype, rank and layout only).

:func:`name_extents` gives every node shape of a graph, wherever a dimension equals a
dimension of a graph input (or the product of a leading one and another: samples times
channels), an :class:`Extent`: an int for every decision of the passes and code generators,
spelled in generated source as the local that holds it (``d0 = v2.shape[0]``, defined first
in the function) or as a product of such locals. Dimensions of 0 and 1 stay literals: they
decide broadcasting and empty loops.

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

    def __mul__(self, other):
        """A product stays read at run time (a batch's rows times a feature count); it is
        spelled in parentheses, so that ``n // (d0 * 16)`` keeps its meaning."""
        if isinstance(other, bool) or not isinstance(other, int):
            return int(self) * other
        if other == 1:
            return self
        if self == 1:
            return other
        return Extent(int(self) * int(other), f"({_factor(self)} * {_factor(other)})")

    __rmul__ = __mul__


def _factor(extent):
    text = str(extent)
    return text[1:-1] if text.startswith("(") and text.endswith(")") else text


def extent_product(dims):
    """The number of elements of ``dims``: an Extent spelled as a product when a dimension
    is read at run time (``(d0 * 784)``), else a plain int."""
    value = 1
    for d in dims:
        value = value * d
    return value


class ExtentNames:
    """The run-time extents of one graph: ``by_value`` maps an input's dimension to its
    Extent, named in order of first appearance."""

    def __init__(self, graph):
        by_value, self.leading = {}, []
        for node in graph.inputs:
            for axis, extent in enumerate(graph[node]["shape"]):
                if extent > 1 and extent not in by_value:
                    by_value[extent] = Extent(extent, f"d{len(by_value)}")
                if extent > 1 and axis == 0:
                    self.leading.append(by_value[extent])
        self.by_value = by_value

    def extent(self, value):
        """``value`` as an input's extent, or as the product of a leading extent (a batch's
        rows) and another (a batched product's rows: samples times channels), else as is."""
        if value in self.by_value or value <= 1:
            return self.by_value.get(value, value)
        for rows in self.leading:
            if value % rows == 0 and value // rows in self.by_value:
                return rows * self.by_value[value // rows]
        return value

    def shape(self, shape):
        return tuple(d if isinstance(d, Extent) else self.extent(int(d)) for d in shape)


def name_extents(graph):
    """Give ``graph``'s node shapes run-time extents (in place). Run before the passes, the
    shapes they compute from these stay read at run time (products: a batched product's
    rows); run after them, dimensions of new nodes equal to an input's get its name. The
    ExtentNames is kept as ``graph.extents``."""
    names = getattr(graph, "extents", None) or ExtentNames(graph)
    for node in graph.nodes():
        attrs = graph[node]
        attrs["shape"] = names.shape(attrs["shape"])
    graph.extents = names
    return graph


def extent_definitions(graph, source_of):
    """Lines defining the run-time extents of ``graph`` (named by :func:`name_extents`);
    ``source_of(node, axis)`` is the expression an input's dimension is read from. Each is
    read from an input the code reads (one it never reads may be given as an empty
    stand-in); an extent only such an input has is spelled as its value."""
    names = getattr(graph, "extents", None)
    places = {}
    for node in graph.inputs:
        if graph.users(node) or node in graph.outputs:
            for axis, extent in enumerate(graph[node]["shape"]):
                places.setdefault(int(extent), (node, axis))
    lines = []
    for value, extent in (names.by_value.items() if names is not None else ()):
        place = places.get(value)
        lines.append(f"{extent} = {source_of(*place) if place else value}")
    return lines
