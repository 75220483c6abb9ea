"""symgrad/eager/joining.py: torch.cat / stack, split / chunk / unbind, transpose, expand, contiguous and masked_fill:
values and gradients against PyTorch, inside the compiled loop, and PyTorch's errors."""
import numpy as np
import pytest

import symgrad as sg
import symgrad as torch
from symgrad import optim

pytestmark = pytest.mark.usefixtures("interpreted_eager_backward")
X = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)


def joined(lib, x):
    """Every function of the family on ``x``, summed with weights into one scalar."""
    pieces = [lib.cat([x, 2 * x], dim=1), lib.stack([x, x * x], dim=-1),
              *x.split([1, 3], dim=1), *x.split(2), *x.chunk(3, dim=1), *x.unbind(1),
              x.transpose(0, 1).contiguous(), x[:1].expand(5, -1, -1), x.expand_as(x),
              x.masked_fill(x > 0.5, float("-inf")).softmax(-1),
              x.masked_fill(x < 0, lib.tensor(2.0))]
    return sum((p * (k + 1)).square().sum() for k, p in enumerate(pieces))


def test_values_and_gradients_match_pytorch():
    real = pytest.importorskip("torch")
    mine, theirs = torch.tensor(X, requires_grad=True), real.tensor(X, requires_grad=True)
    total, real_total = joined(torch, mine), joined(real, theirs)
    np.testing.assert_allclose(total.item(), real_total.item(), rtol=1e-5)
    total.backward()
    real_total.backward()
    np.testing.assert_allclose(mine.grad.numpy(), theirs.grad.numpy(), rtol=1e-5, atol=1e-5)
    assert [p.shape for p in mine.chunk(3, 0)] == [tuple(p.shape) for p in theirs.chunk(3, 0)]
    assert torch.cat([mine, mine]).grad_fn.name() == "CatBackward0"
    assert mine.masked_fill(mine > 0, 0.0).grad_fn.name() == "MaskedFillBackward0"


def test_functions_promote_like_pytorch_and_work_on_lists_of_tensors():
    joined_ints = torch.cat([torch.tensor([1, 2]), torch.tensor([0.5])])
    assert joined_ints.dtype == torch.float32 and joined_ints.tolist() == [1.0, 2.0, 0.5]
    assert torch.stack((torch.ones(2), torch.zeros(2)), 1).tolist() == [[1, 0], [1, 0]]
    assert torch.transpose(torch.ones(2, 3), 0, 1).shape == (3, 2)
    assert isinstance(torch.stack([np.ones(2), np.ones(2)]), np.ndarray)   # numpy's stack


def test_compiled_training_loop_matches_eager_steps():
    def step_of(weight):
        optimizer = optim.SGD([weight], lr=0.1)

        def step(x):
            optimizer.zero_grad()
            a, b = (x @ weight).chunk(2, dim=1)
            scores = torch.cat([a, b.transpose(0, 1).contiguous().transpose(0, 1)], 1)
            loss = scores.masked_fill(scores > 1, 0.0).square().mean()
            loss.backward()
            optimizer.step()
            return loss
        return step
    compiled = torch.tensor(X, requires_grad=True)
    eager = torch.tensor(X, requires_grad=True)
    data = np.random.default_rng(1).standard_normal((4, 3)).astype(np.float32)
    history = sg.train(step_of(compiled), data=(data,), epochs=2, batch_size=2, progress=False)
    step = step_of(eager)
    expected = [step(torch.tensor(data[i:i + 2])).item() for _ in range(2) for i in (0, 2)]
    np.testing.assert_allclose(history, expected, rtol=1e-5)
    np.testing.assert_allclose(compiled.detach().numpy(), eager.detach().numpy(), rtol=1e-5)


def test_bad_input_gets_pytorchs_errors():
    x = torch.ones(2, 3)
    with pytest.raises(RuntimeError, match="Sizes of tensors must match except in dimension 0. "
                                           "Expected size 3 but got size 2 for tensor number 1"):
        torch.cat([x, torch.ones(2, 2)])
    with pytest.raises(RuntimeError, match="expected a non-empty list of Tensors"):
        torch.cat([])
    with pytest.raises(RuntimeError, match=r"stack expects each tensor to be equal size, but got "
                                           r"\[2, 3\] at entry 0 and \[3\] at entry 1"):
        torch.stack([x, torch.ones(3)])
    with pytest.raises(RuntimeError, match="split_with_sizes expects split_sizes to sum exactly "
                                           "to 3"):
        x.split([1, 1], dim=1)
    with pytest.raises(RuntimeError, match="masked_fill_ only supports boolean masks"):
        x.masked_fill(torch.ones(2, 3), 0.0)
    with pytest.raises(RuntimeError, match="The expanded size of the tensor \\(4\\) must match "
                                           "the existing size \\(3\\)"):
        x.expand(2, 4)
    with pytest.raises(IndexError, match="Dimension out of range"):
        x.transpose(0, 2)
