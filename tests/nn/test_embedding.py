"""nn.Embedding and F.embedding (symgrad/nn/sparse.py, functional_sparse.py): lookups and
their accumulated gradients against PyTorch, padding_idx, max_norm, the index errors, and a
compiled training loop equal to the eager one."""
import numpy as np
import pytest

import symgrad as sg
from symgrad import nn
from symgrad.nn import functional as F

from layer_checks import (assert_compiled_equals_eager, load_into_torch, real_torch, to_torch,
                          value)

IDS = np.array([[0, 4, 4, 2], [9, 1, 0, 4]], np.int64)


def test_lookup_and_repeated_indices_accumulate_as_pytorch():
    real = real_torch()
    sg.manual_seed(0)
    ours = nn.Embedding(10, 3, padding_idx=0)
    theirs = load_into_torch(real, ours, real.nn.Embedding(10, 3, padding_idx=0))
    weights = np.random.default_rng(1).standard_normal((2, 4, 3)).astype(np.float32)
    out, expected = ours(sg.tensor(IDS)), theirs(to_torch(real, IDS))
    np.testing.assert_allclose(value(out), value(expected))
    (out * sg.tensor(weights)).sum().backward()
    (expected * to_torch(real, weights)).sum().backward()
    np.testing.assert_allclose(value(ours.weight.grad), value(theirs.weight.grad), rtol=1e-6)
    assert not ours.weight.grad.numpy()[0].any()           # padding_idx: no gradient
    assert out.grad_fn.name() == "EmbeddingBackward0"


def test_initialization_repr_and_padding_row():
    sg.manual_seed(0)
    emb = nn.Embedding(6, 4, padding_idx=-1)
    assert emb.padding_idx == 5 and not value(emb.weight)[5].any()
    assert abs(value(nn.Embedding(400, 50).weight).std() - 1) < 0.02      # N(0, 1)
    assert repr(emb) == "Embedding(6, 4, padding_idx=5)"
    assert repr(nn.Embedding(3, 2, max_norm=1.0)) == "Embedding(3, 2, max_norm=1.0)"
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
        nn.Embedding(3, 2, padding_idx=3)


def test_max_norm_renormalizes_the_looked_up_rows_as_pytorch():
    real = real_torch()
    sg.manual_seed(2)
    ours = nn.Embedding(5, 4, max_norm=1.0)
    theirs = load_into_torch(real, ours, real.nn.Embedding(5, 4, max_norm=1.0))
    ids = np.array([1, 3, 3], np.int64)
    np.testing.assert_allclose(value(ours(sg.tensor(ids))), value(theirs(to_torch(real, ids))),
                               rtol=1e-6)
    np.testing.assert_allclose(value(ours.weight), value(theirs.weight), rtol=1e-6)


def test_from_pretrained_is_frozen_by_default():
    table = sg.tensor(np.arange(6.0).reshape(3, 2))
    emb = nn.Embedding.from_pretrained(table)
    assert not emb.weight.requires_grad
    assert F.embedding(sg.tensor([2]), table).tolist() == [[4.0, 5.0]]
    assert nn.Embedding.from_pretrained(table, freeze=False).weight.requires_grad


def test_bad_indices_name_the_layer():
    emb = nn.Embedding(10, 3)
    with pytest.raises(IndexError, match=r"index out of range in self: Embedding\(10, 3\) got "
                                         r"index 10"):
        emb(sg.tensor([1, 10]))
    with pytest.raises(IndexError, match="index out of range in self"):
        emb(sg.tensor([-1]))
    with pytest.raises(RuntimeError, match="Expected tensor for argument #1 'indices' to have "
                                           "one of the following scalar types: Long, Int"):
        emb(sg.tensor([1.0]))
    with pytest.raises(IndexError, match=r"embedding\(\) got index 3"):
        F.embedding(sg.tensor([3]), sg.ones(3, 2))


class TinyLanguageModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(10, 4, padding_idx=0)
        self.head = nn.Linear(4, 10)

    def forward(self, ids):
        return self.head(self.emb(ids))


def next_token_loss(model, ids, targets):
    logits = model(ids)
    return F.cross_entropy(logits.reshape(-1, 10), targets.reshape(-1))


def test_compiled_training_equals_eager_and_padding_row_stays():
    targets = np.roll(IDS, 1, axis=1)
    state = assert_compiled_equals_eager(TinyLanguageModel, (IDS, targets), next_token_loss)
    assert not state["emb.weight"][0].any()


def test_index_out_of_range_inside_a_compiled_step_raises():
    model = TinyLanguageModel()
    opt = sg.optim.SGD(model.parameters(), lr=0.1)

    def step(ids, targets):
        opt.zero_grad()
        loss = next_token_loss(model, ids, targets)
        loss.backward()
        opt.step()
        return loss
    bad = np.stack([IDS[0], IDS[0] * 3])               # 12 is out of range, in the 2nd batch
    with pytest.raises(IndexError):
        sg.train(step, data=(bad, bad % 10), epochs=1, batch_size=1, progress=False)
