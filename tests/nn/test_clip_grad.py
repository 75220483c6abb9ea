"""nn.utils.clip_grad_norm_ / clip_grad_value_: against PyTorch, errors, and inside
sg.train's compiled step (equal to the eager loop)."""
import math

import numpy as np
import pytest

import symgrad as torch
from symgrad import nn, optim
from tests.optim.training_cases import assert_train_matches_eager


def gradients(seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape).astype(np.float32) for shape in ((3, 4), (4,), (2,))]


@pytest.mark.parametrize("max_norm,norm_type", [(1.0, 2.0), (100.0, 2.0), (0.5, 1), (0.5, 3.0),
                                                (0.5, math.inf), (2.0, 0)])
def test_clip_grad_norm_matches_pytorch(max_norm, norm_type):
    real = pytest.importorskip("torch")
    arrays = gradients()
    ours = [nn.Parameter(np.zeros_like(g)) for g in arrays]
    theirs = [real.zeros(g.shape, requires_grad=True) for g in arrays]
    for o, t, g in zip(ours, theirs, arrays):
        o.grad, t.grad = torch.tensor(g.copy()), real.tensor(g.copy())
    total = nn.utils.clip_grad_norm_(ours, max_norm, norm_type)
    expected = real.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    np.testing.assert_allclose(total.item(), expected.item(), rtol=1e-6)
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(o.grad.numpy(), t.grad.numpy(), rtol=1e-6, atol=1e-7)


def test_clip_grad_value_matches_pytorch_and_keeps_the_gradient_objects():
    real = pytest.importorskip("torch")
    arrays = gradients(1)
    ours = [nn.Parameter(np.zeros_like(g)) for g in arrays]
    theirs = [real.zeros(g.shape, requires_grad=True) for g in arrays]
    for o, t, g in zip(ours, theirs, arrays):
        o.grad, t.grad = torch.tensor(g.copy()), real.tensor(g.copy())
    before = [o.grad for o in ours]
    assert nn.utils.clip_grad_value_(ours, 0.3) is None
    real.nn.utils.clip_grad_value_(theirs, 0.3)
    for o, t, grad in zip(ours, theirs, before):
        assert o.grad is grad
        np.testing.assert_array_equal(o.grad.numpy(), t.grad.numpy())


def test_parameters_without_gradients_and_a_single_tensor():
    w = nn.Parameter(np.ones(2, np.float32))
    assert nn.utils.clip_grad_norm_([w], 1.0).item() == 0.0
    w.grad = torch.tensor([3.0, 4.0])
    assert nn.utils.clip_grad_norm_(w, 1.0).item() == pytest.approx(5.0)
    np.testing.assert_allclose(w.grad.numpy(), [0.6, 0.8], rtol=1e-5)


@pytest.mark.filterwarnings("ignore:invalid value encountered")
def test_non_finite_norm_is_an_error_when_asked():
    w = nn.Parameter(np.ones(2, np.float32))
    w.grad = torch.tensor([math.inf, 1.0])
    with pytest.raises(RuntimeError, match="total norm of order 2.0 for gradients from "
                                           "`parameters` is non-finite"):
        nn.utils.clip_grad_norm_([w], 1.0, error_if_nonfinite=True)
    assert nn.utils.clip_grad_norm_([w], 1.0).item() == math.inf


def test_clipping_inside_the_compiled_step_equals_the_eager_loop():
    def clip(model):
        nn.utils.clip_grad_norm_(model.parameters(), 0.5)
        nn.utils.clip_grad_value_(model.parameters(), 0.1)
    assert_train_matches_eager(lambda m: optim.SGD(m.parameters(), lr=0.1, momentum=0.9),
                               after_backward=clip)
