"""The state of one CPU code generation (:class:`Lowering`) and how the generated code refers
to a node's value (:class:`Variable`): 0-d values live in scalar locals; arrays carry a
layout kind ("C", "F" or "A") so views (transposes, slices) reach BLAS and loops without
copies. Constants and buffers are made once in a prologue and the body only writes into
them, so a loop around the body (symgrad.compiler.cpu.training_loop) allocates nothing.
"""
from .product_epilogues import plan_product_epilogues
from ..codegen.source import SourceWriter, copy_lines, shape_text
from .threads import parallel_nests
from ..passes.gemm_update import plan_gemm_updates
from ..passes.memory import memory_source


class Variable:
    """How the generated code refers to a node's value."""

    def __init__(self, name, kind, aliases_argument=False):
        self.name = name
        self.kind = kind                      # "scalar", "C", "F" or "A"
        # the memory belongs to an argument (an input, a constant, a workspace): a
        # returned value is copied out of it
        self.aliases_argument = aliases_argument
        self.uniform = None                   # a scalar local when all elements are equal


class Lowering:
    """State of one code generation: the graph, its fusion plan, the variables made so far.

    ``in_place`` maps an output node to the input node whose buffer it may overwrite (see
    symgrad.compiler.passes.memory); ``gemm_updates`` are the nests a GEMM call computes into such a
    buffer (symgrad.compiler.passes.gemm_update); ``runtime`` names the symgrad.compiler.cpu.runtime modules the
    code calls. With a ``workspace`` (symgrad.compiler.cpu.workspace.WorkspacePlan) the
    buffers of values the function does not return are carved from it."""

    def __init__(self, graph, plan, in_place=None, workspace=None, function_name="run",
                 lower_subgraph=None):
        self.graph = graph
        self.function_name = function_name
        self.lower_subgraph = lower_subgraph   # (graph, plan, function_name=) -> Lowering
        self.helpers = []        # sources of the functions it calls (loop bodies, branches)
        self.outlined = None     # its outlined loop nests (symgrad.compiler.cpu.outline)
        self.plan = plan
        self.prologue = SourceWriter()
        self.out = SourceWriter()
        self.vars = {}
        self.arguments = []      # (variable name, node) in call order
        self.passed_constants = []
        self.in_place = in_place or {}
        self.workspace = workspace
        self.returned = {memory_source(graph, node) for node in graph.outputs}
        self.gemm_updates = plan_gemm_updates(graph, plan, self.in_place)
        self.folded_products = {update.product for update in self.gemm_updates.values()}
        self.runtime = set()
        self.parallel = False    # some loop runs on numba's threads (numba.prange)
        self.parallel_nests = parallel_nests(graph, plan, self.gemm_updates)
        self.epilogues = plan_product_epilogues(self)      # nest root -> product
        self.delayed_products = set(self.epilogues.values())

    def attrs(self, node):
        return self.graph[node]

    def var(self, node):
        return self.vars[node]

    def operand_vars(self, node):
        return [self.vars[o] for o in self.graph.operands(node)]

    def define(self, node, kind, aliases_argument=False):
        self.vars[node] = Variable(f"v{node}", kind, aliases_argument)
        return self.vars[node].name

    def allocate(self, node):
        """The C-ordered buffer that holds ``node``, made once in the prologue (or the input
        buffer it overwrites in place)."""
        if node in self.in_place:
            self.vars[node] = Variable(self.vars[self.in_place[node]].name, "C")
            return self.vars[node].name
        name = self.define(node, "C")
        attrs = self.attrs(node)
        if self.buffer(name, attrs["shape"], attrs["dtype"], returned=node in self.returned):
            self.vars[node].aliases_argument = True
        return name

    def buffer(self, name, shape, dtype, returned=False):
        """Make buffer ``name`` in the prologue; True when it is carved from the workspace
        (a ``returned`` one never is)."""
        carve = None if returned or self.workspace is None else \
            self.workspace.carve_line(name, shape, dtype)
        if carve is None:
            self.prologue.line(f"{name} = np.empty({shape_text(shape)}, np.{numba_dtype(dtype)})")
            return False
        self.runtime.add("workspace")
        self.prologue.line(carve)
        return True

    def contiguous(self, operand):
        """A C-ordered name for ``operand``: itself, or a copy into a buffer of its own."""
        variable = self.vars[operand]
        if variable.kind == "C":
            return variable.name
        copy = f"c{operand}"
        if copy not in self.prologue.names:
            self.buffer(copy, self.attrs(operand)["shape"], self.attrs(operand)["dtype"])
            self.prologue.names.add(copy)
            copy_lines(self.out, copy, variable.name, self.attrs(operand)["shape"])
        return copy


def numba_dtype(name):
    return "bool_" if name == "bool" else name
