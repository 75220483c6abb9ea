"""The source of one generated ``@numba.njit`` function from a Lowering: its options, its
signature (inputs, then array constants, then workspaces) and its body (symgrad.compiler.cpu.module puts it
in a module; loop bodies become such functions too, symgrad.compiler.cpu.control_flow)."""
from ..codegen.extents import extent_definitions
from ..codegen.source import SourceWriter
from .collectives import uses_collectives
from .threads import NJIT_PARALLEL

# numpy's error model: a float division by zero gives inf or nan, as in numpy, instead of a
# Python ZeroDivisionError check whose branch keeps LLVM from vectorizing any loop that divides
# (the fused Adam update ran several times slower with it).
NJIT_OPTIONS = 'cache=True, fastmath={"nsz", "contract", "arcp"}, error_model="numpy"'


def njit_options(lowering):
    """The generated function's ``numba.njit`` arguments; ``parallel=`` only when a loop
    runs on numba's threads (it costs compile time)."""
    options = NJIT_OPTIONS
    if uses_collectives(lowering):          # numba cannot cache calls into MPI
        options = options.replace("cache=True", "cache=False")
    return options if not lowering.parallel else f"{options}, {NJIT_PARALLEL}"


def signature(lowering):
    """Argument names: graph inputs in their order, then array constants."""
    by_node = {node: name for name, node in lowering.arguments}
    inputs = [by_node[node] for node in lowering.graph.inputs]
    constants = [by_node[node] for node in lowering.passed_constants]
    return inputs, constants


def function_source(lowering, function_name, scalar_outputs=False):
    """The ``@numba.njit`` function computing the lowered graph, returning its outputs as a
    tuple: a SourceWriter. With ``scalar_outputs`` (a loop body's, whose carries are typed
    alike on every iteration) a 0-d output is always a scalar, never a 0-d array."""
    graph = lowering.graph
    results = []
    for node in graph.outputs:
        variable = lowering.var(node)
        if scalar_outputs and graph[node]["shape"] == () and variable.kind != "scalar":
            results.append(f"{variable.name}.reshape(1)[0]")
            continue
        copy = variable.kind != "scalar" and (variable.aliases_argument or variable.kind != "C")
        results.append(f"np.ascontiguousarray({variable.name}).copy()" if copy else variable.name)
    lowering.out.line(f"return ({''.join(r + ', ' for r in results)})")
    inputs, constants = signature(lowering)
    function = SourceWriter()
    function.line(f"@numba.njit({njit_options(lowering)})")
    workspace = lowering.workspace
    workspaces = workspace.arguments() if workspace is not None else []
    function.open(f"def {function_name}({', '.join(inputs + constants + workspaces)}):")
    for line in extent_definitions(graph, lambda node, axis: f"{lowering.var(node).name}.shape[{axis}]"):
        function.line(line)
    for line in workspace.opening_lines() if workspace is not None else ():
        function.line(line)
    function.extend(lowering.prologue)
    function.extend(lowering.out)
    return function
