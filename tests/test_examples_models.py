"""W7 (examples/w7_char_gpt.py) and W8 (examples/w8_char_lstm.py) at a tiny size: the eager
loop, the compiled sg.train loop and PyTorch running the example's own model code (its
``import symgrad as torch`` lines pointed at torch) from the same initial weights give the
same losses."""
import pathlib
import sys

import numpy as np
import pytest

import symgrad as torch
from conftest import load_example

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"
STEPS, BATCH = 3, 4
sys.path.insert(0, str(EXAMPLES))      # W8 imports W7's data helpers, as the programs do
from pytorch_twin import load_with_pytorch  # noqa: E402


def same_start(example, config):
    """Two models of ``config`` with one set of initial weights, and those weights."""
    torch.manual_seed(0)
    first = example.MODEL(config)
    state = {k: v.detach().clone() for k, v in first.state_dict().items()}
    second = example.MODEL(config)
    second.load_state_dict(state)
    return first, second, state


def tiny(name, **sizes):
    example = load_example(name)
    example.MODEL = getattr(example, MODELS[name][0])
    data, chars = example.encode(example.load_text())
    config = getattr(example, MODELS[name][1])(vocab_size=len(chars), **sizes)
    x, y = example.batches(data, STEPS, BATCH, config.block_size)
    return example, config, x, y


MODELS = {"w7_char_gpt": ("GPT", "GPTConfig"), "w8_char_lstm": ("CharLSTM", "LSTMConfig")}
SIZES = {"w7_char_gpt": dict(n_layer=2, n_head=2, n_embd=16, block_size=8),
         "w8_char_lstm": dict(n_embd=8, hidden_size=8, num_layers=2, block_size=5)}
TINIEST = {"w7_char_gpt": dict(n_layer=1, n_head=1, n_embd=8, block_size=4),
           "w8_char_lstm": dict(n_embd=4, hidden_size=4, num_layers=1, block_size=3)}


@pytest.mark.usefixtures("interpreted_eager_backward")
@pytest.mark.parametrize("name", list(MODELS))
def test_eager_losses_equal_pytorchs_running_the_examples_own_code(name):
    real = pytest.importorskip("torch")
    example, config, x, y = tiny(name, **SIZES[name])
    model, _, state = same_start(example, config)
    expected = example.train_eager(model, x, y, BATCH)
    theirs = load_with_pytorch(name)
    real_model = getattr(theirs, MODELS[name][0])(config)
    real_model.load_state_dict({k: real.from_numpy(v.numpy().copy()) for k, v in state.items()})
    step = theirs.training_step(real_model, STEPS)
    losses = [step(real.from_numpy(x[i * BATCH:(i + 1) * BATCH]),
                   real.from_numpy(y[i * BATCH:(i + 1) * BATCH])).item() for i in range(STEPS)]
    np.testing.assert_allclose(expected, losses, rtol=1e-4)
    model.eval()
    assert model.generate(torch.tensor([[1]]), 3)[0].shape == (4,)


@pytest.mark.usefixtures("interpreted_eager_backward")
@pytest.mark.parametrize("name", list(MODELS))
def test_compiled_loop_equals_the_eager_loop(name):
    example, config, x, y = tiny(name, **TINIEST[name])
    eager, compiled, _ = same_start(example, config)
    expected = example.train_eager(eager, x, y, BATCH)
    np.testing.assert_allclose(example.train_compiled(compiled, x, y, BATCH), expected, rtol=1e-4)
    for key, value in eager.state_dict().items():
        np.testing.assert_allclose(compiled.state_dict()[key].numpy(), value.numpy(),
                                   rtol=1e-3, atol=1e-5, err_msg=key)
