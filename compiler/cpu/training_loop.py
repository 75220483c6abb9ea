"""A whole training loop as one ``@numba.njit`` function around a step graph's body.

The step graph's inputs are the carried state (parameters, optimizer state) followed by one
batch array per data array; its outputs are the loss followed by the new state, in the
state's order. The loop selects each step's batch from the data arrays, runs the body,
records the loss and carries the state: array state is updated in its own buffer; scalar
state lives in locals, read from and written back to one-element arrays ("cells"), and
``progress[0]`` counts finished steps, so an interrupted run leaves consistent state.

Batching modes: ``"full"`` (the data arrays are the batch), ``"sample"`` (step ``k`` takes
row ``order[k]``, without a batch axis) and ``"batch"`` (step ``k`` gathers rows
``order[k*B:(k+1)*B]`` into a buffer made once).
"""
from .lowering import lower_graph
from .function_source import njit_options, signature
from .module import assemble
from ..codegen.extents import extent_definitions
from ..codegen.source import SourceWriter, copy_lines


def _select_batch(function, batch_names, batch_shapes, batching):
    """Lines that make each batch input name refer to this step's rows of its data array
    (gathered with explicit loops: see symgrad.compiler.codegen.source.copy_lines for why)."""
    for k, (name, shape) in enumerate(zip(batch_names, batch_shapes)):
        data = f"data{k}"
        if batching == "sample":
            function.line(f"{name} = {data}[order[step]]")
        elif batching == "batch":
            function.open("for row in range(batch_size):")
            function.line("sample = order[step * batch_size + row]")
            for axis, extent in enumerate(shape[1:]):
                function.open(f"for k{axis} in range({extent}):")
            inner = "".join(f", k{axis}" for axis in range(len(shape) - 1))
            function.line(f"{name}[row{inner}] = {data}[sample{inner}]")
            for _ in shape:
                function.close()


def _extent_source(lowering, graph, state_count, batching):
    """Where the loop reads an input's extent: a state array or a whole-data batch from
    itself; a sample from its data array's row; a minibatch's rows are ``batch_size``."""
    batch_inputs = {node: k for k, node in enumerate(graph.inputs[state_count:])}

    def source(node, axis):
        if node not in batch_inputs or batching == "full":
            return f"{lowering.var(node).name}.shape[{axis}]"
        if batching == "sample":
            return f"data{batch_inputs[node]}.shape[{axis + 1}]"
        return "batch_size" if axis == 0 else f"data{batch_inputs[node]}.shape[{axis}]"
    return source


def _carry_state(function, lowering, state_names, graph, in_place):
    """Write each new state value where the next step reads the state."""
    for name, node in zip(state_names, graph.outputs[1:]):
        variable = lowering.var(node)
        if node in in_place or variable.name == name:
            continue
        if variable.kind == "scalar":
            function.line(f"{name} = {variable.name}")
        else:
            copy_lines(function, name, variable.name, graph[node]["shape"])


def generate_loop(graph, plan, in_place, state_count, batching, function_name="train_loop"):
    """The GeneratedModule defining ``function_name(state..., data..., order, batch_size,
    start, count, history, progress, constants...)``; scalar state is passed as a
    one-element array."""
    lowering = lower_graph(graph, plan, in_place)
    inputs, constants = signature(lowering)
    state_names, batch_names = inputs[:state_count], inputs[state_count:]
    data_names = batch_names if batching == "full" else [f"data{k}" for k in range(len(batch_names))]
    scalars = [name for name, node in zip(state_names, graph.inputs) if graph[node]["shape"] == ()]
    parameters = [f"cell_{name}" if name in scalars else name for name in state_names]
    function = SourceWriter()
    function.line(f"@numba.njit({njit_options(lowering)})")
    arguments = parameters + data_names + ["order", "batch_size", "start", "count", "history",
                                           "progress"]
    function.open(f"def {function_name}({', '.join(arguments + constants)}):")
    for name in scalars:
        function.line(f"{name} = cell_{name}[0]")
    for line in extent_definitions(graph, _extent_source(lowering, graph, state_count, batching)):
        function.line(line)
    if batching == "batch":
        for node in graph.inputs[state_count:]:
            lowering.buffer(lowering.var(node).name, graph[node]["shape"], graph[node]["dtype"])
    function.extend(lowering.prologue)
    function.open("for step in range(start, start + count):")
    _select_batch(function, batch_names, [graph[n]["shape"] for n in graph.inputs[state_count:]],
                  batching)
    function.extend(lowering.out)
    function.line(f"history[step] = {lowering.var(graph.outputs[0]).name}")
    _carry_state(function, lowering, state_names, graph, in_place)
    for name in scalars:
        function.line(f"cell_{name}[0] = {name}")
    function.line("progress[0] = step + 1")
    function.close()
    return assemble(lowering, function)
