"""Lowerings of the control-flow nodes (symgrad.core.ops.control): each body or branch, a
Graph of its own, is optimized and lowered into a helper ``@numba.njit`` function of the
module, and the node becomes a native ``for`` loop, ``while`` loop or ``if`` chain calling
it; the carries are rebound to the tuple each call returns."""
from ..passes import optimize_for_codegen
from .function_source import function_source
from .lowering_state import Variable
from .sources import lower_constant


def lower_body(lowering, body, name):
    """Define the helper function ``name`` computing the Graph ``body``; returns the names
    of the outer variables to pass after its inputs (its array constants)."""
    optimized = optimize_for_codegen(body, run_time_extents=True)
    inner = lowering.lower_subgraph(optimized.graph, optimized.plan, function_name=name)
    function = function_source(inner, name, scalar_outputs=True)
    lowering.helpers.extend(inner.helpers)
    lowering.helpers.append(function.text() + "\n\n")
    lowering.runtime |= inner.runtime
    constants = []
    for node in inner.passed_constants:
        outer = lowering.graph.add_constant(optimized.graph[node]["params"]["value"])
        lower_constant(lowering, outer)
        constants.append(lowering.var(outer).name)
    return constants


def _call(lowering, node, key, arguments):
    """``name(arguments..., constants...)`` for the body held in param ``key``."""
    name = f"{lowering.function_name}_{key}{node}"
    constants = lower_body(lowering, lowering.attrs(node)["params"][key], name)
    return f"{name}({', '.join(list(arguments) + constants)})"


def _carries(lowering, node, operands):
    """Locals holding the carries, initialized from ``operands``' variables."""
    names = []
    for j, variable in enumerate(operands):
        name = f"c{node}_{j}"
        value = variable.name if variable.kind == "scalar" else f"np.ascontiguousarray({variable.name})"
        lowering.out.line(f"{name} = {value}")
        names.append(name)
    return names


def _rebind(lowering, node, names, start=0):
    for j, name in enumerate(names):
        lowering.out.line(f"{name} = r{node}[{start + j}]")


def _define_results(lowering, node, names):
    """The ``result`` nodes of ``node`` read the locals ``names`` (one per result index)."""
    graph = lowering.graph
    for user in graph.users(node):
        index = graph[user]["params"]["index"]
        kind = "scalar" if graph[user]["shape"] == () else "C"
        lowering.vars[user] = Variable(names[index], kind, aliases_argument=True)


def lower_scan(lowering, node):
    params = lowering.attrs(node)["params"]
    carries, xs, length = params["carries"], params["xs"], params["length"]
    operands = lowering.operand_vars(node)
    body = params["body"]
    names = _carries(lowering, node, operands[:carries])
    stacked = []
    for k, output in enumerate(body.outputs[carries:]):
        name = f"y{node}_{k}"
        lowering.buffer(name, (length,) + body[output]["shape"], body[output]["dtype"])
        stacked.append(name)
    i = f"i{node}"
    rows = [f"{v.name}[{i}]" for v in operands[carries:carries + xs]]
    call = _call(lowering, node, "body", names + rows + [v.name for v in operands[carries + xs:]])
    lowering.out.open(f"for step{node} in range({length}):")
    lowering.out.line(f"{i} = {length - 1} - step{node}" if params["reverse"] else f"{i} = step{node}")
    lowering.out.line(f"r{node} = {call}")
    _rebind(lowering, node, names)
    for k, name in enumerate(stacked):
        lowering.out.line(f"{name}[{i}] = r{node}[{carries + k}]")
    lowering.out.close()
    _define_results(lowering, node, names + stacked)


def lower_while(lowering, node):
    params = lowering.attrs(node)["params"]
    carries, bound = params["carries"], params["max_trips"]
    operands = lowering.operand_vars(node)
    names = _carries(lowering, node, operands[:carries])
    arguments = names + [v.name for v in operands[carries:]]
    test, call = _call(lowering, node, "cond", arguments), _call(lowering, node, "body", arguments)
    if bound is None:
        lowering.out.open("while True:")
    else:
        lowering.out.line(f"trips{node} = 0")
        lowering.out.open(f"while trips{node} < {bound}:")
        lowering.out.line(f"trips{node} += 1")
    lowering.out.open(f"if not {test}[0]:")
    lowering.out.line("break")
    lowering.out.close()
    lowering.out.line(f"r{node} = {call}")
    _rebind(lowering, node, names)
    lowering.out.close()
    _define_results(lowering, node, names)


def lower_switch(lowering, node):
    branches = lowering.attrs(node)["params"]["branches"]
    index, *operands = lowering.operand_vars(node)
    arguments = [v.name for v in operands]
    lowering.out.line(f"k{node} = min(max({index.name}, 0), {len(branches) - 1})")
    for k, branch in enumerate(branches):
        name = f"{lowering.function_name}_branch{node}_{k}"
        constants = lower_body(lowering, branch, name)
        last = k == len(branches) - 1
        if not (last and k == 0):
            lowering.out.open("else:" if last else f"{'if' if k == 0 else 'elif'} k{node} == {k}:")
        lowering.out.line(f"r{node} = {name}({', '.join(arguments + constants)})")
        if not (last and k == 0):
            lowering.out.close()
    names = [f"o{node}_{j}" for j in range(len(branches[0].outputs))]
    _rebind(lowering, node, names)
    _define_results(lowering, node, names)


def lower_result(lowering, node):
    """Defined by its control-flow node's lowering (``_define_results``)."""


CONTROL_FLOW_LOWERINGS = {"scan": lower_scan, "while": lower_while, "switch": lower_switch,
                          "result": lower_result}
