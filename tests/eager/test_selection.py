"""Tensor selection by index (symgrad/eager/selection.py) against PyTorch: argmax/argmin,
max/min along a dim (values and indices, the gradient to the selected element), sort, topk,
gather, index_select; eagerly and inside a compiled training step."""
import numpy as np
import pytest

import symgrad as sg

torch = pytest.importorskip("torch")
X = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)


@pytest.mark.parametrize("select", [
    lambda t, m: t.argmax(1), lambda t, m: t.argmax(), lambda t, m: t.argmin(dim=0, keepdim=True),
    lambda t, m: m.argmax(t, 1), lambda t, m: m.max(t, 1).indices, lambda t, m: m.max(t, 1)[1],
    lambda t, m: t.sort(0).indices, lambda t, m: t.topk(3, dim=1, largest=False).indices,
], ids=["argmax-dim", "argmax", "argmin-keepdim", "torch.argmax", "max.indices", "max[1]",
        "sort.indices", "topk-smallest.indices"])
def test_indices_match_pytorch_with_its_dtype(select):
    ours, theirs = select(sg.tensor(X), sg), select(torch.tensor(X), torch)
    assert ours.tolist() == theirs.tolist()
    assert str(ours.dtype) == str(theirs.dtype) == "torch.int64"


@pytest.mark.parametrize("select", [
    lambda t, m: m.max(t, 1)[0], lambda t, m: t.max(1).values + t.min(0, keepdim=True).values.sum(),
    lambda t, m: t.sort(1, descending=True)[0][:, :2], lambda t, m: t.topk(2, dim=1).values,
    lambda t, m: t.gather(1, m.tensor([[0, 1], [2, 2], [3, 0]])),
    lambda t, m: t.index_select(1, m.tensor([0, 2, 2])), lambda t, m: m.max(t, t * 0.5),
    lambda t, m: t.max() + t.min(),
], ids=["torch.max-dim", "max-min-values", "sort-descending", "topk", "gather", "index_select",
        "max-of-two", "max-min-all"])
def test_selected_values_and_their_gradients_match_pytorch(select):
    ours, theirs = sg.tensor(X, requires_grad=True), torch.tensor(X, requires_grad=True)
    a, b = select(ours, sg), select(theirs, torch)
    (a * a).sum().backward()
    (b * b).sum().backward()
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-6)


def assert_compiled_steps_match_eager(loss_of):
    """Four SGD steps of a linear classifier on X, eagerly and in sg.train, give the same
    history; ``loss_of(logits, labels)`` is (the loss to descend, the value the step returns)."""
    model = sg.nn.Linear(4, 3)
    opt = sg.optim.SGD(model.parameters(), lr=0.1)
    labels = np.array([0, 2, 1], np.int64)

    def step(x, y):
        opt.zero_grad()
        loss, reported = loss_of(model(x), y)
        loss.backward()
        opt.step()
        return reported
    state = {k: v.clone() for k, v in model.state_dict().items()}
    eager = [step(sg.tensor(X), sg.tensor(labels)).item() for _ in range(4)]
    model.load_state_dict(state)
    opt.state.clear()
    history = sg.train(step, data=(X, labels), steps=4, progress=False)
    np.testing.assert_allclose(history, eager, rtol=1e-5)


def test_accuracy_by_argmax_inside_a_compiled_step_matches_the_eager_steps():
    def loss_of(logits, y):
        values, _ = logits.max(1)
        loss = sg.nn.functional.cross_entropy(logits, y) + 0.1 * values.sum()
        return loss, loss + 0.0 * (logits.argmax(1) == y).float().mean()
    assert_compiled_steps_match_eager(loss_of)


def test_indexing_by_integer_tensors_lists_and_ranges_backpropagates_as_torch(monkeypatch):
    from symgrad.core.bounded_cache import BoundedCache
    from symgrad.eager import tape
    monkeypatch.setattr(tape, "_COMPILED", BoundedCache(tape.TAPE_CACHE_SIZE, tape.log_evicted_backward))
    for step in range(3):        # new indices every step: one tape structure
        rows = np.random.default_rng(step).integers(0, 3, 5)          # repeated rows
        labels = np.random.default_rng(step + 9).integers(0, 4, 3)
        ours, theirs = sg.tensor(X, requires_grad=True), torch.tensor(X, requires_grad=True)
        for t, m in ((ours, sg), (theirs, torch)):
            out = (t[m.tensor(rows)].sum() * 2 + (t[range(3), m.tensor(labels)] ** 2).sum()
                   + t[[0, 2], 1:].sum() + t[:, m.tensor([3, 1])].pow(2).sum())
            out.backward()
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-6)
    assert len(tape._COMPILED) == 1
    # boolean masks select too (tests/eager/test_masks_and_in_place.py)
    np.testing.assert_array_equal(sg.tensor(X)[sg.tensor(X > 0)].numpy(), X[X > 0])


def test_cross_entropy_by_indexing_the_labels_inside_a_compiled_step_matches_eager():
    def loss_of(logits, y):
        loss = -sg.nn.functional.log_softmax(logits, dim=1)[range(3), y].mean()
        return loss, loss
    assert_compiled_steps_match_eager(loss_of)
