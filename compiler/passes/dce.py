"""Dead code elimination: drop nodes no output depends on (graph inputs always stay)."""


def eliminate_dead_code(graph):
    live = graph.ancestors(graph.outputs) | set(graph.inputs)
    dead = [node for node in graph.nodes() if node not in live]
    for node in dead:
        graph.remove_node(node)
    return bool(dead)
