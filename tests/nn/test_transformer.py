"""nn.Transformer and its encoder/decoder layers (symgrad/nn/transformer.py) against PyTorch
from the same weights (outputs, input and parameter gradients; post- and pre-norm, masks,
batch_first, gelu), their submodule names, reprs and initialization, and bad input."""
import numpy as np
import pytest

import symgrad as sg
from symgrad import nn

from layer_checks import load_into_torch, real_torch, value

RNG = np.random.default_rng(0)


def compare(ours, theirs, *arrays, **masks):
    """Evaluation-mode outputs and gradients of ``ours`` and ``theirs`` (loaded with our
    weights) on ``arrays``; ``masks`` are passed to both."""
    real = real_torch()
    load_into_torch(real, ours, theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.eval(), theirs.eval()
    inputs = [sg.tensor(a, requires_grad=True) for a in arrays]
    their_inputs = [real.tensor(a, requires_grad=True) for a in arrays]
    out = ours(*inputs, **masks)
    expected = theirs(*their_inputs, **{k: real.tensor(value(v)) if isinstance(v, sg.Tensor)
                                        else v for k, v in masks.items()})
    np.testing.assert_allclose(value(out), value(expected), rtol=1e-9, atol=1e-12)
    weights = RNG.standard_normal(tuple(expected.shape))
    (out * sg.tensor(weights)).sum().backward()
    (expected * real.tensor(weights)).sum().backward()
    for a, b in zip(inputs, their_inputs):
        np.testing.assert_allclose(value(a.grad), value(b.grad), rtol=1e-8, atol=1e-12)
    parameters = dict(theirs.named_parameters())
    for name, parameter in ours.named_parameters():
        np.testing.assert_allclose(value(parameter.grad), value(parameters[name].grad),
                                   rtol=1e-8, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_and_decoder_layers_match_pytorch(norm_first):
    real = real_torch()
    sg.manual_seed(0)
    compare(nn.TransformerEncoderLayer(8, 2, 16, norm_first=norm_first).double(),
            real.nn.TransformerEncoderLayer(8, 2, 16, norm_first=norm_first).double(),
            RNG.standard_normal((5, 3, 8)))
    mask = nn.Transformer.generate_square_subsequent_mask(4, dtype=sg.float64)
    compare(nn.TransformerDecoderLayer(8, 2, 16, norm_first=norm_first).double(),
            real.nn.TransformerDecoderLayer(8, 2, 16, norm_first=norm_first).double(),
            RNG.standard_normal((4, 3, 8)), RNG.standard_normal((5, 3, 8)), tgt_mask=mask)


def test_encoder_with_masks_batch_first_and_gelu_matches_pytorch():
    real = real_torch()
    sg.manual_seed(1)
    ours = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, batch_first=True,
                                                            activation="gelu"), 2,
                                 nn.LayerNorm(8)).double()
    theirs = real.nn.TransformerEncoder(
        real.nn.TransformerEncoderLayer(8, 2, 16, batch_first=True, activation="gelu"), 2,
        real.nn.LayerNorm(8), enable_nested_tensor=False).double()
    mask = nn.Transformer.generate_square_subsequent_mask(5).double()
    compare(ours, theirs, RNG.standard_normal((3, 5, 8)), mask=mask, is_causal=True)
    padding = sg.tensor(np.array([[False] * 5, [False] * 3 + [True] * 2, [False] * 4 + [True]]))
    compare(ours, theirs, RNG.standard_normal((3, 5, 8)), src_key_padding_mask=padding)


def test_transformer_matches_pytorch_and_is_built_as_pytorchs():
    real = real_torch()
    sg.manual_seed(2)
    ours = nn.Transformer(8, 2, 2, 1, 16).double()
    theirs = real.nn.Transformer(8, 2, 2, 1, 16).double()
    assert sorted(n for n, _ in ours.named_parameters()) == \
        sorted(n for n, _ in theirs.named_parameters())
    # xavier-uniform matrices: bound sqrt(6 / (fan_in + fan_out)) = sqrt(6 / 24) for linear1
    linear1 = value(ours.encoder.layers[0].linear1.weight)
    assert np.abs(linear1).max() <= 0.5 and linear1.std() > 0.2
    # an encoder's layers are deep copies of one layer: they start equal
    encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16), 2)
    assert np.array_equal(value(encoder.layers[0].linear1.weight),
                          value(encoder.layers[1].linear1.weight))
    mask = nn.Transformer.generate_square_subsequent_mask(4).double()
    compare(ours, theirs, RNG.standard_normal((5, 3, 8)), RNG.standard_normal((4, 3, 8)),
            tgt_mask=mask)
    assert repr(nn.TransformerEncoderLayer(8, 2, 16)) == \
        repr(real.nn.TransformerEncoderLayer(8, 2, 16))
    assert nn.Transformer.generate_square_subsequent_mask(3).tolist() == \
        real.nn.Transformer.generate_square_subsequent_mask(3).tolist()


def test_bad_input():
    model = nn.Transformer(8, 2, 1, 1, 16)
    with pytest.raises(RuntimeError, match="the batch number of src and tgt must be equal"):
        model(sg.ones(5, 3, 8), sg.ones(4, 2, 8))
    with pytest.raises(RuntimeError, match="the feature number of src and tgt must be equal to "
                                           "d_model"):
        model(sg.ones(5, 3, 6), sg.ones(4, 3, 6))
    with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
        nn.TransformerEncoderLayer(8, 2, activation="tanh")
    with pytest.raises(TypeError, match="TransformerEncoderLayer: expected a symgrad Tensor as "
                                        "src, got list"):
        nn.TransformerEncoderLayer(8, 2)([1.0])
    with pytest.raises(AssertionError, match="embed_dim must be divisible by num_heads"):
        nn.TransformerEncoderLayer(8, 3)
