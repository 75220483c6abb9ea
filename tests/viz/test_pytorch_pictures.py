"""Pictures of what a PyTorch-style program has (symgrad/viz/eager_graphs.py): a Tensor's
recorded computation with its gradient graph, a module traced on an example input, and the
names on them (parameters, arguments, outputs, the learning rate)."""
import numpy as np
import pytest

import symgrad as sg
import symgrad as torch
from symgrad.viz import eager_graphs, style


class TwoLayerNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.linear1 = torch.nn.Linear(5, 4)
        self.linear2 = torch.nn.Linear(4, 2)

    def forward(self, x):
        return self.linear2(self.linear1(x).clamp(min=0))


@pytest.fixture
def model_and_data():
    torch.manual_seed(0)
    return TwoLayerNet(), torch.randn(6, 5), torch.randn(6, 2)


def labels(graph):
    return {node: style.node_label(graph, node) for node in graph.nodes()}


def test_a_loss_tensor_draws_its_forward_and_gradient_graph(model_and_data):
    model, x, y = model_and_data
    loss = torch.nn.MSELoss()(model(x), y)
    params = dict(model.named_parameters())
    graph = eager_graphs.tensor_graph(loss, params)
    assert graph.output_names == ["loss"] + [f"grad {name}" for name in params]
    inputs = {graph[n]["name"]: n for n in graph.inputs}
    assert set(params) < set(inputs) and style.is_gradient_graph(graph)
    values = [params[name].detach().numpy() if name in params else
              (x if graph[n]["shape"] == (6, 5) else y).numpy() for name, n in inputs.items()]
    loss_value, *grads = sg.evaluate(graph, values)
    loss.backward()
    np.testing.assert_allclose(loss_value, loss.item(), rtol=1e-6)
    for grad, (name, param) in zip(grads, params.items()):
        np.testing.assert_allclose(grad, param.grad.numpy(), rtol=1e-5, atol=1e-7)
    text = sg.viz.to_dot(graph)
    assert "→ grad linear1.weight" in text and "→ loss" in text and "float64" not in text


def test_export_of_a_tensor_and_of_a_module(tmp_path, model_and_data):
    model, x, y = model_and_data
    loss = ((model(x) - y) ** 2).sum()
    drawn = sg.viz.export(loss, tmp_path / "g.svg", renderer="builtin",
                          params=dict(model.named_parameters()))
    assert "linear2.bias" in (tmp_path / "g.svg").read_text() and drawn.format == "svg"
    sg.viz.export(model, tmp_path / "m.svg", x, renderer="builtin")
    picture = (tmp_path / "m.svg").read_text()
    for text in ("linear1.weight", "linear2.bias", ">x<", "class=\"cluster module\"", "→ output"):
        assert text in picture, text
    graph = eager_graphs.module_graph(model, (x,))
    assert {graph[n].get("module") for n in graph.nodes()} >= {"linear1", "linear2"}
    weights = [dict(model.named_parameters())[graph[n]["name"]].detach().numpy()
               for n in graph.inputs[:-1]]
    (out,) = sg.evaluate(graph, weights + [x.numpy()])
    np.testing.assert_allclose(out, model(x).detach().numpy(), rtol=1e-6)


def test_a_leaf_or_a_module_without_input_is_refused(model_and_data):
    model, x, _ = model_and_data
    with pytest.raises(ValueError, match="has none"):
        eager_graphs.tensor_graph(x)
    with pytest.raises(TypeError, match="example inputs"):
        eager_graphs.module_graph(model, ())


def test_training_step_pictures_name_arguments_outputs_and_the_learning_rate():
    def loss(w1, w2, x, y):
        return np.sum((np.maximum(x @ w1, 0) @ w2 - y) ** 2)

    def sgd_step(params, x, y):
        value, (g1, g2) = sg.value_and_grad(loss, argnums=(0, 1))(*params, x, y)
        return (params[0] - 1e-4 * g1, params[1] - 1e-4 * g2), value

    rng = np.random.default_rng(0)
    x, y, w1, w2 = (rng.standard_normal(s) for s in ((4, 3), (4, 2), (3, 5), (5, 2)))
    sg.train(sgd_step, (w1, w2), data=(x, y), steps=2, progress=False)
    graph = sg.compiled_loops(sgd_step)[-1].graph
    assert graph.output_names == ["loss", "new params[0]", "new params[1]"]
    drawn = style.without_argument_copies(graph)
    assert all(drawn.op(n) != "identity" for n in drawn.nodes())
    shown = labels(drawn)
    assert [shown[n][0] for n in drawn.inputs[:2]] == ["w1", "w2"]      # not params[0]
    assert any(lines[0] == "0.0001" for lines in shown.values())         # the learning rate
    assert any("→ new params[1]" in lines for lines in shown.values())


def test_a_pytorch_training_step_names_its_state(model_and_data):
    model, x, y = model_and_data
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)

    def step(x, y):
        optimizer.zero_grad()
        loss = ((model(x) - y) ** 2).sum()
        loss.backward()
        optimizer.step()
        return loss
    sg.train(step, data=(x, y), steps=2, progress=False)
    graph = sg.compiled_loops(step)[-1].graph
    assert graph.output_names[0] == "loss" and "new linear1.weight" in graph.output_names


def test_graphs_compiled_functions_and_exports_display_in_notebooks(tmp_path):
    from xml.etree import ElementTree
    graph = sg.grad(lambda w: np.sum(np.tanh(w) ** 2)).trace(np.ones(3))
    bundle = graph._repr_mimebundle_()
    assert bundle["text/plain"] == repr(graph)
    assert ElementTree.fromstring(bundle["image/svg+xml"].split("?>", 1)[1]).tag.endswith("svg")
    assert graph._repr_svg_() == bundle["image/svg+xml"]
    compiled = sg.jit(lambda x: np.tanh(x).sum()).compiled(np.zeros(3))
    assert "fused loop nest" in sg.viz.notebook.svg_of(compiled) or "tanh" in \
        sg.viz.notebook.svg_of(compiled)
    exported = sg.viz.export(graph, tmp_path / "g.svg", renderer="builtin")
    assert exported._repr_svg_() == (tmp_path / "g.svg").read_text()
    text_only = sg.viz.export(graph, tmp_path / "g.txt")._repr_mimebundle_()
    assert set(text_only) == {"text/plain"}


def test_ipython_shows_compiled_functions_by_their_graph():
    pytest.importorskip("IPython")
    from IPython.testing.globalipapp import start_ipython
    shell = start_ipython()
    sg.viz.notebook.install()
    compiled = sg.jit(lambda x: np.exp(x).sum()).compiled(np.zeros(2))
    formatter = shell.display_formatter.formatters["image/svg+xml"]     # off in a terminal
    svg = formatter.lookup(compiled)(compiled)
    assert svg.startswith("<?xml") and "exp" in svg
