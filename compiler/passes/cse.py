"""Common subexpression elimination: one node per (op, params, shape, dtype, operands)."""


def eliminate_common_subexpressions(graph):
    seen = {}
    changed = False
    for node in graph.topological_order():
        if graph.op(node) == "input":
            continue
        key = (graph.signature_of(node), tuple(graph.operands(node)))
        if key in seen:
            graph.replace_uses(node, seen[key])
            graph.remove_node(node)
            changed = True
        else:
            seen[key] = node
    return changed
