"""``nn.EmbeddingBag`` / ``F.embedding_bag``: every mode, offsets, 2-D bags, empty bags,
``include_last_offset``, ``padding_idx`` and ``per_sample_weights`` against PyTorch (values and
the weight's gradient), numeric gradients, the layer's repr, and PyTorch's errors."""
import re

import numpy as np
import pytest

import symgrad as sg
from symgrad.nn import functional as F
from layer_checks import real_torch

WEIGHT = np.random.default_rng(0).standard_normal((6, 3)).astype(np.float32)
CASES = [dict(input=[1, 2, 3, 1, 5], offsets=[0, 2, 2], mode="max"),
         dict(input=[1, 2, 3, 1, 5], offsets=[0, 2, 2], mode="mean"),
         dict(input=[1, 2, 3, 1, 5], offsets=[0, 2, 2, 5], include_last_offset=True),
         dict(input=[1, 2, 3, 1, 5], offsets=[0, 3], padding_idx=1),
         dict(input=[1, 2, 3, 1, 5], offsets=[0, 3], padding_idx=1, mode="max"),
         dict(input=[[1, 2], [3, 1]], mode="sum"),
         dict(input=[1, 2, 3, 1], offsets=[0, 2], mode="sum",
              per_sample_weights=[1.0, 2.0, -3.0, 0.5])]


def _bagged(lib, functional, case):
    weight = lib.tensor(WEIGHT, requires_grad=True)
    kwargs = {k: lib.tensor(v) if isinstance(v, list) else v for k, v in case.items()}
    out = functional.embedding_bag(weight=weight, **kwargs)
    (out * lib.arange(out.numel()).reshape(out.shape)).sum().backward()
    return out.detach().numpy(), weight.grad.numpy()


@pytest.mark.parametrize("case", CASES, ids=lambda c: "-".join(map(str, c.values()))[:40])
def test_values_and_gradients_are_pytorchs(case):
    real = real_torch()
    ours, theirs = _bagged(sg, F, case), _bagged(real, real.nn.functional, case)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-6, atol=1e-6)


def test_a_bag_is_an_embedding_reduced():
    bag = sg.nn.EmbeddingBag(6, 3, mode="sum")
    emb = sg.nn.Embedding.from_pretrained(bag.weight.detach())
    ids = sg.tensor([[0, 4, 4], [5, 1, 2]])
    np.testing.assert_allclose(bag(ids).detach().numpy(), emb(ids).sum(1).numpy(), rtol=1e-6)
    assert repr(bag) == "EmbeddingBag(6, 3, mode='sum')"
    assert repr(sg.nn.EmbeddingBag(6, 3, padding_idx=2)) == \
        "EmbeddingBag(6, 3, mode='mean', padding_idx=2)"
    assert not sg.nn.EmbeddingBag(6, 3, padding_idx=2).weight[2].any()


def test_numeric_gradients_first_and_second_order():
    ids, offsets = sg.tensor([1, 2, 3, 1, 5]), sg.tensor([0, 2, 2])
    scale = sg.tensor(np.arange(9.0).reshape(3, 3))

    def loss(table):
        bags = F.embedding_bag(ids, sg.Tensor(table), offsets, mode="mean")
        return (bags * bags * scale).sum()._value
    sg.check_grad(loss, WEIGHT.astype(np.float64), backend="reference", tolerance=1e-4)


@pytest.mark.parametrize("call,error,message", [
    (lambda: F.embedding_bag(sg.tensor([1, 2]), sg.zeros(5, 2)), ValueError,
     "offsets has to be a 1D Tensor but got None"),
    (lambda: F.embedding_bag(sg.tensor([1, 2]), sg.zeros(5, 2), sg.tensor([1])), RuntimeError,
     "offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start from "
     "position 0. However, got 1"),
    (lambda: F.embedding_bag(sg.tensor([1, 7]), sg.zeros(5, 2), sg.tensor([0])), RuntimeError,
     "Index 1 of input takes value 7 which is not in the valid range [0, 5)"),
    (lambda: F.embedding_bag(sg.tensor([1, 2]), sg.zeros(5, 2), sg.tensor([0]), mode="prod"),
     ValueError, "mode has to be one of sum, mean or max"),
    (lambda: F.embedding_bag(sg.tensor([1, 2]), sg.zeros(5, 2), sg.tensor([0]),
                             per_sample_weights=sg.ones(2)), NotImplementedError,
     "per_sample_weights is only supported for mode='sum' (got mode='mean')"),
    (lambda: F.embedding_bag(sg.tensor([[1, 2]]), sg.zeros(5, 2), sg.tensor([0])), ValueError,
     "if input is 2D, then offsets has to be None"),
])
def test_bad_input_gets_pytorchs_errors(call, error, message):
    with pytest.raises(error, match=re.escape(message)):
        call()


class BagClassifier(sg.nn.Module):
    def __init__(self):
        super().__init__()
        self.bag = sg.nn.EmbeddingBag(6, 3, mode="mean")
        self.fc = sg.nn.Linear(3, 2)

    def forward(self, ids, offsets):
        return self.fc(self.bag(ids, offsets))


def test_compiled_training_equals_eager():
    from layer_checks import assert_compiled_equals_eager
    offsets = sg.tensor([0, 2, 2, 4])            # an empty bag among them

    def loss_of(model, ids, labels):
        return F.cross_entropy(model(ids, offsets), labels)
    ids, labels = np.array([1, 2, 3, 1, 5, 0]), np.array([0, 1, 1, 0])
    assert_compiled_equals_eager(BagClassifier, (ids, labels), loss_of)
