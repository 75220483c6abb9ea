"""Softmax and log-softmax (symgrad/eager/softmax.py) as Tensor methods, torch functions and
nn.functional, against PyTorch: values, gradients, grad_fn names, the implicit-dim warning."""
import numpy as np
import pytest

import symgrad as sg

torch = pytest.importorskip("torch")
X = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)


def test_softmax_methods_functions_and_functional_backpropagate_as_torch():
    ours, theirs = sg.tensor(X, requires_grad=True), torch.tensor(X, requires_grad=True)
    for t, m in ((ours, sg), (theirs, torch)):
        out = (t.softmax(1)[:, 0].sum() + m.log_softmax(t, dim=0).pow(2).sum()
               + t.log_softmax(-1).sum() + m.softmax(t, 1).max()
               + m.nn.functional.log_softmax(t * 3, dim=1)[0].sum())
        out.backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-5, atol=1e-6)
    assert ours.softmax(1).grad_fn.name() == type(theirs.softmax(1).grad_fn).__name__
    assert ours.log_softmax(1).grad_fn.name() == type(theirs.log_softmax(1).grad_fn).__name__


def test_large_logits_do_not_overflow_and_an_implicit_dim_warns():
    big = sg.tensor([[1000.0, 0.0], [0.0, -1000.0]])
    np.testing.assert_allclose(big.softmax(1).numpy(), [[1.0, 0.0], [1.0, 0.0]])
    np.testing.assert_allclose(big.log_softmax(1).numpy(), [[0.0, -1000.0], [0.0, -1000.0]])
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        sg.nn.functional.softmax(big)
