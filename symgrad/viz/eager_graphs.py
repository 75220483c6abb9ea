"""Graphs of what a PyTorch-style program has in hand: a Tensor's recorded computation, and
an ``nn.Module`` traced on an example input.

``tensor_graph(loss, params)`` replays the tape behind ``loss`` (the eager ops that made it)
into a Graph and differentiates it, as torchviz's ``make_dot(loss, params)`` draws a backward
graph, but with the gradient graph symgrad actually runs: forward nodes, gradient nodes, and
one output per leaf, named ``grad linear1.weight``. ``module_graph(model, x)`` traces
``model(x)`` with the parameters and buffers as named inputs; nodes made inside a submodule
carry its dotted name (clusters in the pictures).
"""
import inspect

import numpy as np

import symgrad.core.reverse_mode as reverse_mode
from symgrad.core.graph import Graph
from symgrad.core.tracing import Tracer, constant

def is_tensor(obj):
    from symgrad.eager.tensor import Tensor
    return isinstance(obj, Tensor)


def is_module(obj):
    from symgrad.nn.module import Module
    return isinstance(obj, Module)


def tensor_graph(root, params=None, name=None):
    """The forward and gradient graph behind the tensor ``root``: its tape replayed, then
    differentiated with respect to every leaf that requires grad. ``params`` (such as
    ``dict(model.named_parameters())``) names leaves; the others are ``leaf0``, ``input1``..."""
    from symgrad.eager.grad_mode import no_grad
    from symgrad.eager.tape import Tape
    if root.grad_fn is None:
        raise ValueError("sg.viz.export of a tensor draws the computation recorded behind it, "
                         "but this tensor has none (it is a leaf, or was made under no_grad "
                         "or from tensors that do not require grad)")
    names = {id(tensor): key for key, tensor in (params or {}).items()}
    tape = Tape(root)
    made = {id(node.output) for node in tape.nodes}
    name = name or ("loss" if root.numel() == 1 else "output")
    graph = Graph(name)
    values, leaves, counts = {}, [], {}
    for tensor in tape.tensors:
        if id(tensor) not in made:
            kind = "leaf" if tensor.requires_grad else "input"
            counts[kind] = counts.get(kind, -1) + 1
            label = names.get(id(tensor)) or f"{kind}{counts[kind]}"
            node = graph.add_input(tensor.shape, tensor.dtype, name=label,
                                   parameter=bool(tensor.requires_grad))
            values[id(tensor)] = Tracer(graph, node)
            leaves.append((tensor, label))
    with no_grad():
        for node, refs in zip(tape.nodes, tape.refs):
            # other operands as the eager op took them (a Python scalar stays weakly typed)
            args = [values[id(arg)] if ref[0] == "t" else arg for arg, ref in zip(node.args, refs)]
            out = node.replay(args, values.get(id(node.output)))
            values[id(node.output)] = out if isinstance(out, Tracer) else constant(graph, out)
        order = list(names.values())         # gradients in the order of params, then the rest
        wrt = sorted(((values[id(t)], label) for t, label in leaves if t.requires_grad),
                     key=lambda leaf: order.index(leaf[1]) if leaf[1] in order else len(order))
        seed = constant(graph, np.ones(root.shape, root.dtype))
        grads = reverse_mode.backward(graph, {values[id(root)].node: seed},
                                      [tracer.node for tracer, _ in wrt])
    graph.outputs = [values[id(root)].node] + [g.node for g in grads]
    return graph.name_outputs([name] + [f"grad {label}" for _, label in wrt])


def module_graph(model, args):
    """``model(*args)`` traced: parameters and buffers are inputs named as in
    ``named_parameters()``, the arguments are named as ``forward``'s."""
    from symgrad.eager.tensor import Tensor
    from symgrad.training.state import TensorSlot, traced_slots
    if not args:
        raise TypeError(f"sg.viz.export({type(model).__name__}, path, *example_inputs): a module "
                        "is traced on example inputs; give one for each argument of forward")
    graph = Graph(type(model).__name__)
    named = list(model.named_parameters()) + list(model.named_buffers())
    slots = [TensorSlot(tensor, key) for key, tensor in named]
    arguments = _argument_names(model, len(args))
    with traced_slots(graph, slots):
        for slot in slots:
            graph[slot.get().node]["parameter"] = slot.tensor.requires_grad
        inputs = [Tensor(Tracer(graph, graph.add_input(a.shape, a.dtype, name=label)))
                  for a, label in zip(map(_array, args), arguments)]
        out = model(*inputs)
    outputs = out if isinstance(out, (tuple, list)) else [out]
    graph.outputs = [getattr(o, "_value", o).node for o in outputs]
    return graph.name_outputs(["output"] if len(outputs) == 1 else
                              [f"output {k}" for k in range(len(outputs))])


def _array(value):
    return np.asarray(getattr(value, "_value", value))


def _argument_names(model, count):
    try:
        parameters = list(inspect.signature(model.forward).parameters)
    except (TypeError, ValueError):
        parameters = []
    names = [p for p in parameters if p not in ("args", "kwargs")][:count]
    return names + [f"input{k}" for k in range(len(names), count)]
