"""F.scaled_dot_product_attention and nn.MultiheadAttention: PyTorch's values and gradients
from the same weights (masks, causal, batch_first, kdim/vdim, unbatched), central
differences of the attention (first and second order), the compiled training loop, and
PyTorch's errors."""
import numpy as np
import pytest

import symgrad as sg
import symgrad as torch
from symgrad import nn, optim
from symgrad.nn import functional as F
from symgrad.nn.functional_attention import attention

REF = "reference"
pytestmark = pytest.mark.usefixtures("interpreted_eager_backward")
RNG = np.random.default_rng(0)
Q, K, V = (RNG.standard_normal((2, 3, 4, 5)).astype(np.float32) for _ in range(3))
BOOL_MASK = (RNG.random((4, 4)) > 0.3) | np.eye(4, dtype=bool)
FLOAT_MASK = RNG.standard_normal((4, 4)).astype(np.float32)


def array(t):
    return t.detach().numpy()


@pytest.mark.parametrize("options", [{}, dict(is_causal=True), dict(attn_mask=BOOL_MASK),
                                     dict(attn_mask=FLOAT_MASK), dict(scale=0.3)],
                         ids=["plain", "causal", "bool-mask", "float-mask", "scale"])
def test_scaled_dot_product_attention_matches_pytorch(options):
    real = pytest.importorskip("torch")
    mine = [torch.tensor(x, requires_grad=True) for x in (Q, K, V)]
    theirs = [real.tensor(x, requires_grad=True) for x in (Q, K, V)]
    wrap = {"attn_mask": lambda m, lib: lib.tensor(m)}
    out = F.scaled_dot_product_attention(
        *mine, **{k: wrap[k](v, torch) if k in wrap else v for k, v in options.items()})
    real_out = real.nn.functional.scaled_dot_product_attention(
        *theirs, **{k: wrap[k](v, real) if k in wrap else v for k, v in options.items()})
    np.testing.assert_allclose(array(out), array(real_out), rtol=1e-5, atol=1e-6)
    out.square().sum().backward()
    real_out.square().sum().backward()
    for a, b in zip(mine, theirs):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-4, atol=1e-5)


def test_attention_gradients_match_central_differences():
    rng = np.random.default_rng(1)
    q, k, v = (rng.standard_normal((2, 3, 2)) for _ in range(3))
    mask = rng.standard_normal((3, 3))
    sg.check_grad(lambda q, k, v: attention(q, k, v, mask, scale=0.7, causal=True),
                  q, k, v, order=2, backend=REF)


def copy_weights(module, real_module):
    import torch as real
    named = dict(module.named_parameters())
    assert list(named) == [name for name, _ in real_module.named_parameters()]
    with real.no_grad():
        for name, p in real_module.named_parameters():
            p.copy_(real.from_numpy(named[name].detach().numpy()))


@pytest.mark.parametrize("options", [{}, dict(batch_first=True), dict(kdim=3, vdim=3),
                                     dict(bias=False)],
                         ids=["plain", "batch-first", "kdim-vdim", "no-bias"])
def test_multihead_attention_matches_pytorch_with_masks(options):
    real = pytest.importorskip("torch")
    module, real_module = nn.MultiheadAttention(8, 2, **options), \
        real.nn.MultiheadAttention(8, 2, **options)
    copy_weights(module, real_module)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((5, 2, 8)).astype(np.float32)
    y = rng.standard_normal((6, 2, options.get("kdim", 8))).astype(np.float32)
    if options.get("batch_first"):
        x, y = x.transpose(1, 0, 2).copy(), y.transpose(1, 0, 2).copy()
    padding = np.zeros((2, 6), bool)
    padding[0, 4:] = True
    masked = rng.random((5, 6)) > 0.8
    mine, theirs = torch.tensor(x, requires_grad=True), real.tensor(x, requires_grad=True)
    out, weights = module(mine, torch.tensor(y), torch.tensor(y),
                          key_padding_mask=torch.tensor(padding), attn_mask=torch.tensor(masked))
    real_out, real_weights = real_module(theirs, real.tensor(y), real.tensor(y),
                                         key_padding_mask=real.tensor(padding),
                                         attn_mask=real.tensor(masked))
    np.testing.assert_allclose(array(out), array(real_out), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(array(weights), array(real_weights), rtol=1e-5, atol=1e-6)
    out.square().sum().backward()
    real_out.square().sum().backward()
    np.testing.assert_allclose(mine.grad.numpy(), theirs.grad.numpy(), rtol=1e-4, atol=1e-5)
    for (name, p), q in zip(module.named_parameters(), real_module.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-4, atol=1e-5,
                                   err_msg=name)
    rows = x[0] if options.get("batch_first") else x[:, 0]
    out, weights = module(*[torch.tensor(rows)] * 3, average_attn_weights=False,
                          need_weights=True) if "kdim" not in options else (None, None)
    if out is not None:
        real_out, real_weights = real_module(*[real.tensor(rows)] * 3, average_attn_weights=False)
        np.testing.assert_allclose(array(out), array(real_out), rtol=1e-5, atol=1e-6)
        assert weights.shape == real_weights.shape == (2, 5, 5)


def test_multihead_attention_parameters_and_initialization_follow_pytorch():
    torch.manual_seed(0)
    module = nn.MultiheadAttention(8, 2)
    assert [n for n, _ in module.named_parameters()] == [
        "in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"]
    bound = np.sqrt(6 / (8 + 24))                   # xavier_uniform of (24, 8)
    weight = module.in_proj_weight.detach().numpy()
    assert np.abs(weight).max() <= bound and weight.std() > bound / 3
    assert not module.in_proj_bias.detach().numpy().any()
    assert not module.out_proj.bias.detach().numpy().any()
    assert "NonDynamicallyQuantizableLinear(in_features=8, out_features=8" in repr(module)
    assert module(torch.randn(3, 1, 8), torch.randn(3, 1, 8), torch.randn(3, 1, 8),
                  need_weights=False)[1] is None


def test_compiled_training_loop_matches_eager_attention_steps():
    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.attention = nn.MultiheadAttention(4, 2, batch_first=True)

        def forward(self, x):
            causal = torch.ones(3, 3).tril() == 0
            out, _ = self.attention(x, x, x, attn_mask=causal, need_weights=False)
            return out.sum()

    def step_of(model):
        optimizer = optim.SGD(model.parameters(), lr=0.01)

        def step(x):
            optimizer.zero_grad()
            loss = model(x).square() * 0.01
            loss.backward()
            optimizer.step()
            return loss
        return step
    x = np.random.default_rng(3).standard_normal((4, 3, 4)).astype(np.float32)
    torch.manual_seed(0)
    compiled, eager = Model(), Model()
    eager.load_state_dict(compiled.state_dict())
    history = sg.train(step_of(compiled), data=(x,), epochs=2, batch_size=2, progress=False)
    step = step_of(eager)
    expected = [step(torch.tensor(x[i:i + 2])).item() for _ in range(2) for i in (0, 2)]
    np.testing.assert_allclose(history, expected, rtol=1e-5)


def test_bad_input_gets_pytorchs_errors():
    q = torch.randn(2, 3, 4)
    with pytest.raises(RuntimeError, match="Explicit attn_mask should not be set when "
                                           "is_causal=True"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=torch.ones(3, 3) > 0, is_causal=True)
    with pytest.raises(RuntimeError, match=r"attn_mask of shape \(2, 2\) cannot be broadcast"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=torch.ones(2, 2) > 0)
    with pytest.raises(RuntimeError, match="query and key need the same last dimension"):
        F.scaled_dot_product_attention(q, torch.randn(2, 3, 5), torch.randn(2, 3, 5))
    with pytest.raises(AssertionError, match="embed_dim must be divisible by num_heads"):
        nn.MultiheadAttention(6, 4)
    module = nn.MultiheadAttention(4, 2)
    with pytest.raises(AssertionError, match="was expecting embedding dimension of 4, but got 3"):
        module(torch.randn(2, 1, 3), torch.randn(2, 1, 3), torch.randn(2, 1, 3))
    with pytest.raises(RuntimeError, match=r"The shape of the 2D attn_mask is torch.Size\(\[3, 3\]\)"
                                           r", but should be \(2, 2\)."):
        module(q[:, :1], q[:, :1], q[:, :1], attn_mask=torch.ones(3, 3) > 0)
    with pytest.raises(AssertionError, match=r"expecting key_padding_mask shape of \(1, 2\)"):
        module(q[:, :1], q[:, :1], q[:, :1], key_padding_mask=torch.ones(2, 1) > 0)
