"""The eager PyTorch-style Tensor: autograd semantics as in PyTorch (seeds 000, 002, 004).

Covers symgrad/eager/tensor.py, symgrad/eager/tensor_methods.py (operators and methods),
symgrad/eager/creation.py (tensor, randn, ones_like, ...), symgrad/eager/grad_mode.py
(no_grad), symgrad/eager/tape.py (backward as a compiled gradient graph),
symgrad/eager/custom_function.py and symgrad/autograd.py.
"""
import numpy as np
import pytest

import symgrad as torch
from symgrad.eager import tape

from conftest import half_gradient_function, load_example


def test_sum_backward_gives_ones():
    x = torch.ones(2, 2, requires_grad=True)
    y = x.sum()
    y.backward()
    assert x.grad.tolist() == [[1.0, 1.0], [1.0, 1.0]]
    assert x.is_leaf and not y.is_leaf


def test_backward_with_seed_vector_for_non_scalar_output():
    a = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = torch.tensor([4.0, 5.0, 6.0], requires_grad=True)
    c = a + b
    c.backward(torch.ones_like(c))
    assert a.grad.tolist() == [1.0, 1.0, 1.0] and b.grad.tolist() == [1.0, 1.0, 1.0]


def test_new_leaf_cuts_history():
    """Seed 004's second example: wrapping a result in a new tensor makes a new leaf."""
    a = torch.tensor([1.0, 2.0], requires_grad=True)
    c = torch.tensor(a + 1, requires_grad=True)
    (c * c).sum().backward()
    assert a.grad is None and c.grad.tolist() == [4.0, 6.0]


def test_gradients_accumulate_until_zeroed():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    for expected in ([3.0, 3.0], [6.0, 6.0]):
        (3 * x).sum().backward()
        assert x.grad.tolist() == expected
    x.grad.zero_()
    (x * x).sum().backward()
    assert x.grad.tolist() == [2.0, 4.0]
    x.grad = None
    (x * x).sum().backward()
    assert x.grad.tolist() == [2.0, 4.0]


def test_no_grad_and_data_updates_are_not_tracked():
    w = torch.tensor([1.0, -2.0], requires_grad=True)
    with torch.no_grad():
        doubled = w * 2
    assert doubled.grad_fn is None and not doubled.requires_grad
    w.data -= 0.5 * torch.ones(2)
    assert w.tolist() == [0.5, -2.5] and w.is_leaf and w.grad_fn is None
    (w * w).sum().backward()
    assert w.grad.tolist() == [1.0, -5.0]


def test_in_place_update_of_leaf_requires_no_grad():
    w = torch.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        w -= 1.0
    with torch.no_grad():
        w -= 1.0
    assert w.tolist() == [0.0]


def test_second_backward_needs_retain_graph():
    x = torch.tensor([2.0], requires_grad=True)
    y = (x * x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.tolist() == [24.0]
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_non_scalar_backward_without_gradient_is_pytorchs_error():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
        (x * 2).backward()


def test_backward_on_tensor_without_grad_is_an_error():
    with pytest.raises(RuntimeError, match="does not require grad"):
        torch.tensor([1.0]).sum().backward()


def test_modifying_a_saved_tensor_in_place_is_detected():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    y = (h * h).sum()
    with torch.no_grad():
        h.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_grad_fn_names_and_next_functions():
    x = torch.randn(3, 4)
    w = torch.randn(4, 2, requires_grad=True)
    loss = (x.mm(w).clamp(min=0) - 1).pow(2).mean()
    names = []
    node = loss.grad_fn
    while node is not None and hasattr(node, "next_functions"):
        names.append(node.name())
        node = next((f for f, _ in node.next_functions if f is not None), None)
    assert names == ["MeanBackward0", "PowBackward0", "SubBackward0", "ClampMinBackward0",
                     "MmBackward0", "AccumulateGrad"]
    assert loss.grad_fn.next_functions[0][0].next_functions[0][0].name() == "SubBackward0"
    mm = loss.grad_fn.next_functions[0][0].next_functions[0][0].next_functions[0][0].next_functions[0][0]
    assert mm.next_functions[0][0] is None      # x does not require grad, as in PyTorch
    assert "grad_fn=<MeanBackward0>" in repr(loss)
    assert "requires_grad=True" in repr(w)


def test_eager_loop_compiles_its_backward_once():
    torch.manual_seed(0)
    x, y = torch.randn(8, 5), torch.randn(8, 2)
    w = torch.randn(5, 2, requires_grad=True)
    before = len(tape._COMPILED)
    for _ in range(5):
        loss = (x.mm(w) - y).pow(2).sum()
        loss.backward()
        with torch.no_grad():
            w -= 0.01 * w.grad
            w.grad.zero_()
    assert len(tape._COMPILED) - before == 1


def test_eager_gradient_matches_symgrad_grad():
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((6, 4)), rng.standard_normal((4, 3))
    expected = torch.grad(lambda w: np.sum(np.tanh(x @ w) ** 2))(w)
    weight = torch.tensor(w, requires_grad=True)
    (torch.from_numpy(x).mm(weight).tanh() ** 2).sum().backward()
    np.testing.assert_allclose(weight.grad.numpy(), expected, rtol=1e-10)


def test_setitem_on_tracked_tensor_is_differentiable():
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 1
    y[0] = 10.0
    (y * y).sum().backward()
    assert x.grad.tolist() == [0.0, 4.0, 6.0]


def test_autograd_grad_returns_without_accumulating():
    x = torch.tensor([3.0], requires_grad=True)
    (gx,) = torch.autograd.grad((x * x).sum(), x)
    assert gx.tolist() == [6.0] and x.grad is None


MyReLU = load_example("w5_myrelu").MyReLU


HalfGradient = half_gradient_function()


def test_custom_function_backward_is_used():
    x = torch.tensor([-1.0, 2.0, -3.0, 4.0], requires_grad=True)
    MyReLU.apply(x * 2).sum().backward()
    assert x.grad.tolist() == [0.0, 2.0, 0.0, 2.0]
    z = torch.tensor([1.0, 1.0], requires_grad=True)
    HalfGradient.apply(z * 3).sum().backward()
    assert z.grad.tolist() == [1.5, 1.5]
    assert HalfGradient.apply(z * 3).grad_fn.name() == "HalfGradientBackward"


def test_against_pytorch_when_installed():
    real = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    x, y, w1, w2 = (rng.standard_normal(s).astype(np.float32) for s in ((16, 8), (16, 3), (8, 5), (5, 3)))
    grads = []
    for library in (torch, real):
        a, b = library.tensor(w1, requires_grad=True), library.tensor(w2, requires_grad=True)
        xs, ys = library.tensor(x), library.tensor(y)
        loss = (xs.mm(a).clamp(min=0).mm(b) - ys).pow(2).sum()
        loss.backward()
        grads.append((a.grad.detach().numpy(), b.grad.detach().numpy(), float(loss.item())))
    for ours, theirs in zip(*grads):
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-4)


def test_indexing_a_tensor_records_a_differentiable_slice():
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    assert x[1].tolist() == [3.0, 4.0] and x[:, 0].tolist() == [1.0, 3.0]
    (x[0] * x[1]).sum().backward()
    assert x.grad.tolist() == [[3.0, 4.0], [1.0, 2.0]]
    assert torch.randn(3, 4)[0].shape == (4,)


def test_in_place_updates_write_the_same_buffer_keep_the_dtype_and_broadcast():
    w = torch.tensor(np.ones((2, 3), np.float32))
    buffer, version = w.numpy(), w._version
    w.sub_(np.array([1.0, 2.0, 3.0]))                 # a float64 row: broadcast, cast
    w.add_(torch.tensor(np.full((2, 3), 0.5, np.float32)), alpha=2)
    w.mul_(2.0)
    w.div_(4)
    expected = (1 - np.array([1.0, 2.0, 3.0]) + 2 * 0.5) * 2.0 / 4
    np.testing.assert_allclose(w.numpy(), np.broadcast_to(expected, (2, 3)))
    assert w.dtype == np.float32 and np.shares_memory(w.numpy(), buffer)
    assert w._version == version + 4
    with pytest.raises((ValueError, RuntimeError)):
        w.add_(np.ones(4))
    np.testing.assert_allclose(w.numpy(), np.broadcast_to(expected, (2, 3)))


def test_backward_accumulates_into_an_existing_grad_in_place():
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    grad = w.grad
    buffer = grad.numpy()
    (3 * w).sum().backward()
    assert w.grad is grad and np.shares_memory(w.grad.numpy(), buffer)
    np.testing.assert_allclose(w.grad.numpy(), [2.0 + 3.0, 4.0 + 3.0])
