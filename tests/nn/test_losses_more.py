"""The margin, ranking and likelihood losses (symgrad/nn/functional_loss_margins.py and their
modules in loss.py), instance and local response norms (normalization_instance.py), nn.utils'
sequence padding and packing, parameters_to_vector (nn/utils/convert_parameters.py) and F.one_hot, against PyTorch (values, gradients, grad_fn names,
reprs, buffers, errors), and the losses in sg.train's compiled loop."""
import warnings

import numpy as np
import pytest

import symgrad as sg
from symgrad import nn
from symgrad.nn import functional as F
from symgrad.nn.utils.rnn import (pack_padded_sequence, pack_sequence, pad_packed_sequence,
                                  pad_sequence)

from layer_checks import assert_compiled_equals_eager, real_torch, value

RNG = np.random.default_rng(0)
X, Y, Z = (RNG.standard_normal((3, 4)) for _ in range(3))
SIGNS = np.sign(RNG.standard_normal((3, 4)))
LABELS = (RNG.random((3, 4)) > 0.5).astype(np.float64)
CLASSES = np.array([0, 3, 1])
LISTS = np.array([[0, 3, -1, 0], [1, -1, 0, 0], [2, 1, 0, 3]])
VAR = RNG.random((3, 4)) + 0.1


def compare(name, args, grads, **options):
    """F.<name> against PyTorch's, gradients with respect to the first ``grads`` arguments."""
    real = real_torch()
    ours = [sg.tensor(a, requires_grad=i < grads) for i, a in enumerate(args)]
    theirs = [real.tensor(a, requires_grad=i < grads) for i, a in enumerate(args)]
    out = getattr(F, name)(*ours, **options)
    expected = getattr(real.nn.functional, name)(*theirs, **options)
    np.testing.assert_allclose(value(out), value(expected), rtol=1e-10, atol=1e-12)
    assert out.grad_fn.name() == expected.grad_fn.name()
    weights = np.random.default_rng(1).standard_normal(tuple(expected.shape))
    (out * sg.tensor(weights)).sum().backward()
    (expected * real.tensor(weights)).sum().backward()
    for a, b in zip(ours[:grads], theirs[:grads]):
        np.testing.assert_allclose(value(a.grad), value(b.grad), rtol=1e-9, atol=1e-12)


CASES = [
    ("margin_ranking_loss", (X[:, 0], Y[:, 0], SIGNS[:, 0]), 2, {"margin": 0.3}),
    ("hinge_embedding_loss", (X, SIGNS), 1, {"margin": 0.5}),
    ("soft_margin_loss", (X, SIGNS), 1, {}),
    ("multilabel_soft_margin_loss", (X, LABELS, RNG.random(4)), 1, {}),
    ("multi_margin_loss", (X, CLASSES), 1, {}),
    ("multi_margin_loss", (X, CLASSES, 2, 0.7, RNG.random(4)), 1, {}),
    ("multilabel_margin_loss", (X, LISTS), 1, {}),
    ("triplet_margin_loss", (X, Y, Z), 3, {}),
    ("triplet_margin_loss", (X, Y, Z), 3, {"margin": 0.5, "p": 1, "swap": True}),
    ("gaussian_nll_loss", (X, Y, VAR), 3, {"full": True}),
    ("gaussian_nll_loss", (X, Y, VAR[:, 0]), 3, {}),
    ("poisson_nll_loss", (X, np.abs(Y) * 3), 1, {}),
    ("poisson_nll_loss", (np.abs(X), np.abs(Y) * 3), 1, {"log_input": False, "full": True}),
]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name, args, grads, options", CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_losses_match_pytorch(name, args, grads, options, reduction):
    compare(name, args, grads, reduction=reduction, **options)


def test_one_sample_forms_match_pytorch():
    compare("multi_margin_loss", (X[0], np.array(2)), 1)
    compare("multilabel_margin_loss", (X[0], LISTS[0]), 1)


def test_loss_modules_print_and_compute_as_pytorch():
    real = real_torch()
    texts = ["TripletMarginLoss()", "TripletMarginLoss(margin=2.0, swap=True)",
             "MarginRankingLoss(0.5)", "GaussianNLLLoss()", "PoissonNLLLoss()",
             "MultiLabelSoftMarginLoss()", "MultiLabelMarginLoss()", "HingeEmbeddingLoss()",
             "SoftMarginLoss()", "MultiMarginLoss(p=2)"]
    inputs = {"TripletMarginLoss": (X, Y, Z), "MarginRankingLoss": (X, Y, SIGNS),
              "GaussianNLLLoss": (X, Y, VAR), "PoissonNLLLoss": (X, np.abs(Y)),
              "MultiLabelSoftMarginLoss": (X, LABELS), "MultiLabelMarginLoss": (X, LISTS),
              "HingeEmbeddingLoss": (X, SIGNS), "SoftMarginLoss": (X, SIGNS),
              "MultiMarginLoss": (X, CLASSES)}
    for text in texts:
        ours, theirs = eval(f"nn.{text}"), eval(f"real.nn.{text}")
        assert repr(ours) == repr(theirs)
        args = inputs[text.split("(")[0]]
        np.testing.assert_allclose(value(ours(*map(sg.tensor, args))),
                                   value(theirs(*map(real.tensor, args))), rtol=1e-12)
    weighted = nn.MultiMarginLoss(weight=sg.ones(4))
    assert [n for n, _ in weighted.named_buffers()] == ["weight"]


def test_loss_errors_are_pytorchs():
    x = sg.tensor(X)
    with pytest.raises(ValueError, match="only p == 1 and p == 2 supported"):
        F.multi_margin_loss(x, sg.tensor(CLASSES), p=3)
    with pytest.raises(RuntimeError, match="target out of range"):
        F.multi_margin_loss(x, sg.tensor([0, 3, 5]))
    with pytest.raises(RuntimeError, match="target tensor should be 1-D with size equal to the "
                                           "number of input samples"):
        F.multi_margin_loss(x, sg.tensor([0, 3]))
    with pytest.raises(ValueError, match="var is of incorrect size"):
        F.gaussian_nll_loss(x, x, sg.ones(3, 2))
    with pytest.raises(ValueError, match="var has negative entry/entries"):
        F.gaussian_nll_loss(x, x, -sg.ones(3, 4))
    with pytest.raises(RuntimeError, match="expected to have the same number of dimensions, but "
                                           "got: anchor 2D, positive 2D, and negative 1D"):
        F.triplet_margin_loss(x, x, sg.ones(4))
    with pytest.raises(ValueError, match="margin must be greater than 0, got -1"):
        F.triplet_margin_loss(x, x, x, margin=-1)
    with pytest.raises(RuntimeError, match="The size of tensor a \\(3\\) must match the size of "
                                           "tensor b \\(2\\) at non-singleton dimension 0"):
        F.margin_ranking_loss(x[:, 0], x[:, 0], sg.ones(2))
    with pytest.raises(RuntimeError, match="argument #2 'target' is out of range"):
        F.multilabel_margin_loss(x, sg.tensor([[0, 5, -1, 0], [1, -1, 0, 0], [2, 1, 0, 3]]))
    with pytest.raises(ValueError, match="bad is not a valid value for reduction"):
        nn.SoftMarginLoss(reduction="bad")


def test_losses_in_compiled_training_equal_eager():
    x = RNG.standard_normal((6, 3)).astype(np.float32)
    y = np.array([0, 2, 1, 1, 0, 2])

    def loss_of(model, x, y):
        out = model(x)
        signs = F.one_hot(y, 3) * 2.0 - 1.0
        return (F.multi_margin_loss(out, y) + F.soft_margin_loss(out, signs)
                + F.triplet_margin_loss(out[:2], out[2:4], out[4:])
                + F.gaussian_nll_loss(out, signs, out.exp()))
    assert_compiled_equals_eager(lambda: nn.Sequential(nn.Linear(3, 3)), (x, y), loss_of)


def test_instance_and_local_response_norms_match_pytorch():
    real = real_torch()
    for dims, shape in ((1, (2, 3, 6)), (2, (2, 3, 4, 5))):
        for options in ({}, {"affine": True}, {"track_running_stats": True}):
            ours = getattr(nn, f"InstanceNorm{dims}d")(3, **options).double()
            theirs = getattr(real.nn, f"InstanceNorm{dims}d")(3, **options).double()
            assert repr(ours) == repr(theirs)
            assert list(ours.state_dict()) == list(theirs.state_dict())
            x = RNG.standard_normal(shape)
            for _ in range(2):
                np.testing.assert_allclose(value(ours(sg.tensor(x))),
                                           value(theirs(real.tensor(x))), atol=1e-10)
            ours.eval(), theirs.eval()
            for batch in (x, x[0]):
                np.testing.assert_allclose(value(ours(sg.tensor(batch))),
                                           value(theirs(real.tensor(batch))), atol=1e-10)
            if options.get("track_running_stats"):
                np.testing.assert_allclose(value(ours.running_var), value(theirs.running_var))
    for size, options in ((2, {}), (3, {"alpha": 0.1, "beta": 0.5, "k": 2.0})):
        ours, theirs = nn.LocalResponseNorm(size, **options), real.nn.LocalResponseNorm(size,
                                                                                       **options)
        assert repr(ours) == repr(theirs)
        x = RNG.standard_normal((2, 5, 4, 3))
        np.testing.assert_allclose(value(ours(sg.tensor(x))), value(theirs(real.tensor(x))),
                                   rtol=1e-12)


def test_normalization_errors():
    with pytest.raises(ValueError, match="expected 2D or 3D input \\(got 4D input\\)"):
        nn.InstanceNorm1d(3)(sg.ones(2, 3, 4, 5))
    with pytest.raises(ValueError, match="expected input's size at dim=1 to match num_features "
                                         "\\(4\\), but got: 3"):
        nn.InstanceNorm1d(4, affine=True)(sg.ones(2, 3, 5))
    with pytest.warns(UserWarning, match="input's size at dim=1 does not match num_features"):
        nn.InstanceNorm1d(4)(sg.randn(2, 3, 5))
    with pytest.raises(ValueError, match="Expected more than 1 spatial element when training"):
        nn.InstanceNorm2d(3)(sg.ones(2, 3, 1, 1))
    with pytest.raises(ValueError, match="Expected 3D or higher dimensionality input"):
        F.local_response_norm(sg.ones(3), 2)


def test_pad_sequence_and_packing_match_pytorch():
    real = real_torch()
    rnn_utils = real.nn.utils.rnn
    sequences = [RNG.standard_normal((n, 2)) for n in (3, 1, 2)]
    ours, theirs = [sg.tensor(s) for s in sequences], [real.tensor(s) for s in sequences]
    for options in ({}, {"batch_first": True, "padding_value": -1.0}, {"padding_side": "left"}):
        np.testing.assert_array_equal(value(pad_sequence(ours, **options)),
                                      value(rnn_utils.pad_sequence(theirs, **options)))
    packed = pack_padded_sequence(pad_sequence(ours), [3, 1, 2], enforce_sorted=False)
    expected = rnn_utils.pack_padded_sequence(rnn_utils.pad_sequence(theirs), [3, 1, 2],
                                              enforce_sorted=False)
    for ours_part, theirs_part in zip(packed, expected):
        np.testing.assert_array_equal(value(ours_part), value(theirs_part))
    padded, lengths = pad_packed_sequence(packed, batch_first=True, total_length=4)
    padded_t, lengths_t = rnn_utils.pad_packed_sequence(expected, batch_first=True,
                                                        total_length=4)
    np.testing.assert_array_equal(value(padded), value(padded_t))
    np.testing.assert_array_equal(value(lengths), value(lengths_t))
    in_order = pack_sequence([ours[0], ours[2], ours[1]])
    assert in_order.batch_sizes.tolist() == [3, 2, 1] and in_order.sorted_indices is None
    with pytest.raises(RuntimeError, match="`lengths` array must be sorted in decreasing order"):
        pack_padded_sequence(pad_sequence(ours), [3, 1, 2])
    with pytest.raises(RuntimeError, match="Length of all samples has to be greater than 0"):
        pack_padded_sequence(pad_sequence(ours), [3, 0, 2], enforce_sorted=False)


def test_pad_sequence_is_differentiable():
    a = sg.ones(3, 2, requires_grad=True)
    b = sg.ones(1, 2, requires_grad=True)
    (pad_sequence([a, b], batch_first=True) * sg.arange(12.0).reshape(2, 3, 2)).sum().backward()
    assert b.grad.tolist() == [[6.0, 7.0]] and a.grad.tolist()[2] == [4.0, 5.0]


def test_parameters_to_vector_and_back():
    real = real_torch()
    sg.manual_seed(0)
    layer = nn.Linear(3, 2)
    theirs = real.nn.Linear(3, 2)
    theirs.load_state_dict({k: real.tensor(value(v)) for k, v in layer.state_dict().items()})
    vector = nn.utils.parameters_to_vector(layer.parameters())
    np.testing.assert_array_equal(value(vector),
                                  value(real.nn.utils.parameters_to_vector(theirs.parameters())))
    assert vector.grad_fn.name() == "CatBackward0"
    nn.utils.vector_to_parameters(sg.arange(8.0), layer.parameters())
    assert layer.weight.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    assert layer.bias.tolist() == [6.0, 7.0] and layer.weight.requires_grad
    with pytest.raises(TypeError, match="expected torch.Tensor, but got: list"):
        nn.utils.vector_to_parameters([1.0], layer.parameters())
    with pytest.raises(RuntimeError, match="is invalid for input of size 3"):
        nn.utils.vector_to_parameters(sg.ones(3), layer.parameters())


def test_one_hot_matches_pytorch():
    real = real_torch()
    for indices, count in (([0, 2], -1), ([[1, 0], [3, 2]], 5)):
        ours = F.one_hot(sg.tensor(indices), count)
        theirs = real.nn.functional.one_hot(real.tensor(indices), count)
        np.testing.assert_array_equal(value(ours), value(theirs))
        assert ours.dtype == sg.int64
    with pytest.raises(RuntimeError, match="one_hot is only applicable to index tensor of type "
                                           "LongTensor"):
        F.one_hot(sg.tensor([0.0, 2.0]))
    with pytest.raises(RuntimeError, match="Class values must be non-negative"):
        F.one_hot(sg.tensor([-1, 2]))
    with pytest.raises(RuntimeError, match="Class values must be smaller than num_classes"):
        F.one_hot(sg.tensor([0, 5]), 3)
    with pytest.raises(RuntimeError, match="Can not infer total number of classes from empty"):
        F.one_hot(sg.tensor(np.zeros(0, np.int64)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.one_hot(sg.tensor([1]), 2)
