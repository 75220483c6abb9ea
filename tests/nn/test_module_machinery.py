"""Module machinery with the new layers: ParameterList/ParameterDict (symgrad/nn/container.py),
buffers (persistent or not) in state_dict, the walks (named_modules, children, apply), train()
and eval() reaching every submodule, frozen parameters left alone by optimizers and by the
compiled gradient graph, and tied weights (one parameter, gradients summed) eagerly, in
sg.train and against PyTorch."""
import numpy as np
import pytest

import symgrad as sg
from symgrad import nn

from layer_checks import (assert_compiled_equals_eager, load_into_torch, real_torch,
                          train_eagerly_and_compiled, value)


def test_parameter_list_and_dict_register_and_print_as_pytorch():
    real = real_torch()
    for m in (nn, real.nn):
        params = m.ParameterList([m.Parameter(sg.ones(3) if m is nn else real.ones(3))])
        params.append(sg.zeros(2, 2) if m is nn else real.zeros(2, 2))    # a Tensor: wrapped
        table = m.ParameterDict({"b": m.Parameter(sg.ones(1) if m is nn else real.ones(1)),
                                 "a": m.Parameter(sg.ones(2) if m is nn else real.ones(2))})
        if m is nn:
            ours = (params, table)
        else:
            theirs = (params, table)
    for a, b in zip(ours, theirs):
        assert repr(a) == repr(b)
        assert [n for n, _ in a.named_parameters()] == [n for n, _ in b.named_parameters()]
    params, table = ours
    assert isinstance(params[1], nn.Parameter) and params[-1].requires_grad and len(params) == 2
    assert list(table) == ["a", "b"] and "a" in table and len(table) == 2
    with pytest.raises(IndexError, match="out of range"):
        params[2]


class Mixture(nn.Module):
    """Weights in a ParameterList and a ParameterDict, a frozen scale, a non-persistent buffer."""

    def __init__(self):
        super().__init__()
        self.experts = nn.ParameterList([nn.Parameter(sg.randn(3, 2)) for _ in range(2)])
        self.gates = nn.ParameterDict({"bias": nn.Parameter(sg.zeros(2))})
        self.scale = nn.Parameter(sg.ones(1), requires_grad=False)
        self.register_buffer("offset", sg.full((2,), 0.5), persistent=False)
        self.register_buffer("steps", sg.zeros((), dtype=sg.int64))

    def forward(self, x):
        self.steps.add_(1)
        mixed = sum(x @ w for w in self.experts) + self.gates["bias"]
        return mixed * self.scale + self.offset


def test_buffers_state_dict_and_frozen_parameters_in_compiled_training():
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    y = np.ones((5, 2), np.float32)
    state = assert_compiled_equals_eager(Mixture, (x, y), lambda m, x, y: ((m(x) - y) ** 2).mean())
    assert list(state) == ["scale", "steps", "experts.0", "experts.1", "gates.bias"]   # torch's
    assert state["scale"].tolist() == [1.0] and state["steps"] == 3      # frozen; counted
    model = Mixture()
    model.load_state_dict({k: sg.tensor(v) for k, v in state.items()})
    assert int(model.steps) == 3


def test_frozen_parameters_get_no_gradient_and_no_update():
    sg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 1))
    model[0].requires_grad_(False)
    frozen = value(model[0].weight).copy()
    opt = sg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

    def step(x):
        opt.zero_grad()
        loss = model(x).pow(2).mean()
        loss.backward()
        opt.step()
        return loss
    sg.train(step, data=(np.random.default_rng(1).standard_normal((6, 3)).astype(np.float32),),
             steps=3, progress=False)
    np.testing.assert_array_equal(value(model[0].weight), frozen)
    assert model[0].weight.grad is None and model[2].weight.grad is not None
    graph = sg.compiled_loops(step)[-1].graph
    carried = [graph[node]["name"] for node in graph.inputs]
    assert "0.weight" in carried and "2.weight.grad" in carried
    assert "0.weight.grad" not in carried                  # no gradient computed for it


def test_walks_and_modes_reach_every_submodule_as_pytorch():
    real = real_torch()

    def build(m):
        return m.Sequential(m.Conv1d(2, 2, 1), m.ModuleList([m.Dropout(), m.BatchNorm1d(2)]),
                            m.ModuleDict({"norm": m.LayerNorm(3), "act": m.GELU()}))
    ours, theirs = build(nn), build(real.nn)
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
    assert [type(c).__name__ for c in ours.children()] == \
        [type(c).__name__ for c in theirs.children()]
    assert [type(m).__name__ for m in ours.modules()] == [type(m).__name__ for m in theirs.modules()]
    assert repr(ours) == repr(theirs)
    ours.eval()
    assert not any(m.training for m in ours.modules())
    ours.train()
    assert all(m.training for m in ours.modules())
    visited = []
    ours.apply(lambda m: visited.append(type(m).__name__))
    assert visited[-1] == "Sequential" and "LayerNorm" in visited
    ours.requires_grad_(False)
    assert not any(p.requires_grad for p in ours.parameters())


def tied_language_model(m):
    """The class of a model whose head is tied to its embedding, built from ``m`` (symgrad's
    nn or PyTorch's)."""
    class TiedLanguageModel(m.Module):
        def __init__(self):
            super().__init__()
            self.emb = m.Embedding(7, 4)
            self.norm = m.LayerNorm(4)
            self.head = m.Linear(4, 7, bias=False)
            self.head.weight = self.emb.weight                   # tied

        def forward(self, ids):
            return self.head(self.norm(self.emb(ids)))
    return TiedLanguageModel


TiedLanguageModel = tied_language_model(nn)


def tied_loss(model, ids, targets):
    return nn.functional.cross_entropy(model(ids).reshape(-1, 7), targets.reshape(-1))


IDS = np.array([[1, 3, 5, 3], [0, 6, 2, 2]], np.int64)


def test_tied_weights_are_one_parameter_with_summed_gradients_as_pytorch():
    real = real_torch()
    sg.manual_seed(0)
    ours = TiedLanguageModel()
    assert [n for n, _ in ours.named_parameters()] == ["emb.weight", "norm.weight", "norm.bias"]
    theirs = tied_language_model(real.nn)()
    load_into_torch(real, ours, theirs)
    assert theirs.head.weight is theirs.emb.weight
    targets = np.roll(IDS, 1, 1)
    tied_loss(ours, sg.tensor(IDS), sg.tensor(targets)).backward()
    real.nn.functional.cross_entropy(theirs(real.tensor(IDS)).reshape(-1, 7),
                                     real.tensor(targets).reshape(-1)).backward()
    np.testing.assert_allclose(value(ours.emb.weight.grad), value(theirs.emb.weight.grad),
                               rtol=1e-5, atol=1e-6)


def test_tied_weights_train_compiled_as_eagerly():
    (_, eager), (_, compiled) = train_eagerly_and_compiled(
        TiedLanguageModel, (IDS, np.roll(IDS, 1, 1)), tied_loss)
    for key in eager:
        np.testing.assert_allclose(compiled[key], eager[key], rtol=1e-5, atol=1e-6)
    assert "head.weight" in eager            # state_dict lists the tied weight under both names
    np.testing.assert_array_equal(compiled["head.weight"], compiled["emb.weight"])


def test_container_methods_and_reprs_as_pytorch():
    real = real_torch()

    def build(m):
        blocks = m.ModuleList([m.Linear(2, 2) for _ in range(3)] + [m.ReLU(), m.Linear(2, 3)])
        blocks.insert(1, m.Tanh())
        blocks.pop(0)
        del blocks[0]
        blocks += [m.GELU(), m.GELU()]
        blocks = blocks + m.ModuleList([m.Identity()])
        layers = m.ModuleDict({"a": m.ReLU()})
        layers.update({"b": m.Tanh()})
        layers.pop("a")
        chain = m.Sequential(m.ReLU()).extend([m.Tanh()])
        chain.insert(0, m.GELU())
        chain.pop(1)
        return blocks, layers, chain, m.ModuleList()
    for ours, theirs in zip(build(nn), build(real.nn)):
        assert repr(ours) == repr(theirs)
        assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
