"""nn.RNN / LSTM / GRU (symgrad/nn/rnn.py) and their cells (symgrad/nn/rnn_cells.py):
PyTorch's parameters, initialization, outputs and gradients from the same weights, central
differences of the recurrence (first and second order), the compiled training loop against
the eager one, and PyTorch's errors."""
import numpy as np
import pytest

import symgrad as sg
import symgrad as torch
from symgrad import nn, optim
from symgrad.nn.functional_rnn import recurrent_layer

REF = "reference"
pytestmark = pytest.mark.usefixtures("interpreted_eager_backward")
CONFIGS = [("RNN", {}), ("RNN", dict(nonlinearity="relu", bias=False)),
           ("LSTM", dict(num_layers=2, batch_first=True)),
           ("GRU", dict(num_layers=2, bidirectional=True)),
           ("LSTM", dict(bidirectional=True))]


def load_into(real_module, module):
    """``module``'s parameters copied into the PyTorch ``real_module`` (names checked)."""
    import torch as real
    named = dict(module.named_parameters())
    assert list(named) == [name for name, _ in real_module.named_parameters()]
    with real.no_grad():
        for name, p in real_module.named_parameters():
            p.copy_(real.from_numpy(named[name].detach().numpy()))


def array(t):
    return t.detach().numpy()


@pytest.mark.parametrize("kind,options", CONFIGS)
def test_outputs_and_gradients_match_pytorch_from_the_same_weights(kind, options):
    real = pytest.importorskip("torch")
    torch.manual_seed(0)
    module, real_module = getattr(nn, kind)(3, 4, **options), getattr(real.nn, kind)(3, 4, **options)
    load_into(real_module, module)
    x = np.random.default_rng(0).standard_normal((5, 2, 3)).astype(np.float32)
    h0 = np.random.default_rng(1).standard_normal(
        (module.num_layers * (2 if module.bidirectional else 1), 2, 4)).astype(np.float32)
    if module.batch_first:
        x = x.transpose(1, 0, 2).copy()
    mine, theirs = torch.tensor(x, requires_grad=True), real.tensor(x, requires_grad=True)
    hx = (torch.tensor(h0), torch.tensor(h0)) if kind == "LSTM" else torch.tensor(h0)
    real_hx = (real.tensor(h0), real.tensor(h0)) if kind == "LSTM" else real.tensor(h0)
    (out, state), (real_out, real_state) = module(mine, hx), real_module(theirs, real_hx)
    np.testing.assert_allclose(array(out), array(real_out), rtol=1e-5, atol=1e-6)
    states = state if kind == "LSTM" else (state,)
    real_states = real_state if kind == "LSTM" else (real_state,)
    for a, b in zip(states, real_states):
        np.testing.assert_allclose(array(a), array(b), rtol=1e-5, atol=1e-6)
    (out.square().sum() + states[0].sum()).backward()
    (real_out.square().sum() + real_states[0].sum()).backward()
    np.testing.assert_allclose(mine.grad.numpy(), theirs.grad.numpy(), rtol=1e-4, atol=1e-5)
    for (name, p), q in zip(module.named_parameters(), real_module.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-4, atol=1e-5,
                                   err_msg=name)


@pytest.mark.parametrize("kind", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cells_match_pytorch_batched_and_unbatched(kind):
    real = pytest.importorskip("torch")
    cell, real_cell = getattr(nn, kind)(3, 4), getattr(real.nn, kind)(3, 4)
    load_into(real_cell, cell)
    x = np.random.default_rng(0).standard_normal((2, 3)).astype(np.float32)
    for rows in (x, x[0]):
        mine, theirs = cell(torch.tensor(rows)), real_cell(real.tensor(rows))
        mine, theirs = (mine, theirs) if kind == "LSTMCell" else ((mine,), (theirs,))
        for a, b in zip(mine, theirs):
            np.testing.assert_allclose(array(a), array(b), rtol=1e-5, atol=1e-6)


def test_unbatched_input_and_initialization_follow_pytorch():
    torch.manual_seed(0)
    gru = nn.GRU(3, 5, num_layers=2)
    assert [n for n, _ in gru.named_parameters()] == [
        f"{kind}_l{layer}" for layer in (0, 1)
        for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
    assert gru.weight_ih_l0.shape == (15, 3) and gru.weight_ih_l1.shape == (15, 5)
    bound = 1 / np.sqrt(5)
    values = np.concatenate([p.detach().numpy().ravel() for p in gru.parameters()])
    assert values.min() >= -bound and values.max() <= bound and values.std() > bound / 3
    out, h_n = gru(torch.randn(7, 3))
    assert out.shape == (7, 5) and h_n.shape == (2, 5)
    assert repr(nn.LSTM(2, 3, bias=False, dropout=0.5, num_layers=2, bidirectional=True)) == \
        "LSTM(2, 3, num_layers=2, bias=False, dropout=0.5, bidirectional=True)"


@pytest.mark.parametrize("mode", ["LSTM", "GRU", "RNN_TANH"])
def test_recurrence_gradients_match_central_differences(mode):
    rng = np.random.default_rng(0)
    gates = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1}[mode] * 2
    x, h = rng.standard_normal((3, 2, 2)), rng.standard_normal((2, 2))
    c = rng.standard_normal((2, 2)) if mode == "LSTM" else None
    weights = [rng.standard_normal(s) * 0.5 for s in ((gates, 2), (gates, 2), (gates,), (gates,))]

    def layer(x, h, w_ih, w_hh, b_ih, b_hh):
        return recurrent_layer(x, h, c, w_ih, w_hh, b_ih, b_hh, mode=mode, reverse=True)
    sg.check_grad(layer, x, h, *weights, order=2, backend=REF)


def test_compiled_training_loop_matches_the_eager_lstm_steps():
    class Tagger(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(3, 4, num_layers=2, batch_first=True)
            self.head = nn.Linear(4, 2)

        def forward(self, x):
            out, (h, c) = self.lstm(x)
            return self.head(out[:, -1]) + c[-1].sum()

    def step_of(model):
        optimizer = optim.Adam(model.parameters(), lr=0.01)

        def step(x, y):
            optimizer.zero_grad()
            loss = nn.functional.mse_loss(model(x), y)
            loss.backward()
            optimizer.step()
            return loss
        return step
    rng = np.random.default_rng(0)
    # two layers over two time steps: the unrolled recurrence's compile grows with steps x layers
    x = rng.standard_normal((8, 2, 3)).astype(np.float32)
    y = rng.standard_normal((8, 2)).astype(np.float32)
    torch.manual_seed(0)
    compiled, eager = Tagger(), Tagger()
    eager.load_state_dict(compiled.state_dict())
    history = sg.train(step_of(compiled), data=(x, y), epochs=2, batch_size=4, progress=False)
    step = step_of(eager)
    expected = [step(torch.tensor(x[i:i + 4]), torch.tensor(y[i:i + 4])).item()
                for _ in range(2) for i in (0, 4)]
    np.testing.assert_allclose(history, expected, rtol=1e-5)
    for name, p in eager.state_dict().items():
        np.testing.assert_allclose(compiled.state_dict()[name].numpy(), p.numpy(), rtol=1e-4,
                                   atol=1e-6, err_msg=name)


def test_bad_input_gets_pytorchs_errors():
    lstm = nn.LSTM(3, 4, num_layers=2)
    with pytest.raises(RuntimeError, match="input.size\\(-1\\) must be equal to input_size. "
                                           "Expected 3, got 5"):
        lstm(torch.randn(2, 1, 5))
    with pytest.raises(ValueError, match="LSTM: Expected input to be 2D or 3D, got 4D instead"):
        lstm(torch.randn(2, 1, 1, 3))
    with pytest.raises(RuntimeError, match=r"Expected hidden\[0\] size \(2, 1, 4\), got \[1, 1, 4\]"):
        lstm(torch.randn(2, 1, 3), (torch.zeros(1, 1, 4), torch.zeros(2, 1, 4)))
    with pytest.raises(RuntimeError, match="For unbatched 2-D input, hx should also be 2-D"):
        nn.GRU(3, 4)(torch.randn(2, 3), torch.zeros(1, 1, 4))
    with pytest.raises(RuntimeError, match="input must have the type torch.float32, got type "
                                           "torch.float64"):
        nn.RNN(3, 4)(torch.randn(2, 1, 3, dtype=torch.float64))
    with pytest.raises(ValueError, match="hidden_size must be greater than zero"):
        nn.GRU(3, 0)
    with pytest.raises(RuntimeError, match="input has inconsistent input_size: got 2 expected 3"):
        nn.GRUCell(3, 4)(torch.randn(1, 2))
