"""The activations, padding, distances, 1-D/adaptive pooling, pixel shuffles and fold/unfold
added for PyTorch's tutorials (symgrad/nn/functional_activations_more.py, functional_padding.py,
functional_distance.py, functional_pooling.py, functional_blocks.py and their modules in
activation_more.py and the layer files) against
PyTorch from the same inputs and weights (values and gradients, float64), their reprs and
error texts, and a model of them in sg.train's compiled loop (equal to the eager loop). Their
numeric gradients are checked in the op table (tests/core/op_cases_layers_more.py)."""
import numpy as np
import pytest

import symgrad as sg
from symgrad import nn
from symgrad.nn import functional as F

from layer_checks import assert_compiled_equals_eager, load_into_torch, real_torch, value

RNG = np.random.default_rng(0)
X4 = RNG.standard_normal((2, 4, 5, 6))
X3 = RNG.standard_normal((2, 3, 9))
Y4 = RNG.standard_normal((2, 4, 5, 6))


def compare(ours_fn, theirs_fn, *arrays, grads=None, atol=1e-10, rtol=1e-9, same_name=True):
    """Values of both functions and the gradients of a weighted sum of the output with
    respect to the float arrays (or the first ``grads`` of them)."""
    real = real_torch()
    wanted = [a.dtype.kind == "f" and (grads is None or i < grads) for i, a in enumerate(arrays)]
    ours = [sg.tensor(a, requires_grad=w) for a, w in zip(arrays, wanted)]
    theirs = [real.tensor(a, requires_grad=w) for a, w in zip(arrays, wanted)]
    out, expected = ours_fn(*ours), theirs_fn(*theirs)
    np.testing.assert_allclose(value(out), value(expected), rtol=1e-9, atol=atol)
    if not any(wanted):
        return out
    weights = np.random.default_rng(1).standard_normal(tuple(expected.shape))
    (out * sg.tensor(weights)).sum().backward()
    (expected * real.tensor(weights)).sum().backward()
    for a, b, w in zip(ours, theirs, wanted):
        if w:
            np.testing.assert_allclose(value(a.grad), value(b.grad), rtol=rtol, atol=atol)
    if same_name:
        assert out.grad_fn.name() == expected.grad_fn.name().replace("torch::autograd::", "")
    return out


ACTIVATIONS = [("selu", {}), ("celu", {"alpha": 0.7}), ("hardswish", {}), ("hardsigmoid", {}),
               ("logsigmoid", {}), ("softsign", {}), ("tanhshrink", {}), ("softshrink", {}),
               ("hardshrink", {"lambd": 0.3}), ("threshold", {"threshold": 0.1, "value": 2.0}),
               ("glu", {"dim": 1}), ("softmin", {"dim": 2}), ("rrelu", {})]


@pytest.mark.parametrize("name, options", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_activations_match_pytorch(name, options):
    real = real_torch()
    x = np.concatenate([X4.ravel(), [-60.0, 60.0, 200.0, -200.0]]).reshape(2, 2, -1) \
        if name != "glu" else X4
    compare(lambda t: getattr(F, name)(t, **options),
            lambda t: getattr(real.nn.functional, name)(t, **options), x,
            rtol=1e-7 if name in ("celu", "hardsigmoid") else 1e-9)
    # (PyTorch's CELU and Hardsigmoid gradients are a few 1e-8 off in float64)


def test_prelu_and_rrelu_in_training():
    real = real_torch()
    compare(F.prelu, real.nn.functional.prelu, X4, RNG.random(4))
    compare(F.prelu, real.nn.functional.prelu, X4, RNG.random(1))
    sg.manual_seed(0)
    y = F.rrelu(sg.tensor(X4), 0.1, 0.3, training=True)
    slopes = value(y)[X4 < 0] / X4[X4 < 0]
    assert 0.1 <= slopes.min() and slopes.max() < 0.3 and slopes.std() > 0.01
    assert np.array_equal(value(y)[X4 >= 0], X4[X4 >= 0])


def test_activation_modules_print_and_compute_as_pytorch():
    real = real_torch()
    texts = ["SELU()", "CELU(0.5)", "Hardswish()", "Hardsigmoid()", "LogSigmoid()",
             "Softsign()", "Tanhshrink()", "Softshrink()", "Hardshrink(0.3)",
             "Threshold(0.1, 20)", "Threshold(0.1, 20.0, True)", "PReLU()", "PReLU(4, 0.1)",
             "RReLU()", "GLU()", "Softmin(1)", "Softmax2d()", "SELU(inplace=True)"]
    x = X4.astype(np.float32)
    for text in texts:
        ours, theirs = eval(f"nn.{text}"), eval(f"real.nn.{text}")
        assert repr(ours) == repr(theirs)
        ours.eval(), theirs.eval()
        np.testing.assert_allclose(value(ours(sg.tensor(x))), value(theirs(real.tensor(x))),
                                   rtol=1e-6, atol=1e-6, err_msg=text)
    assert [n for n, _ in nn.PReLU(3).named_parameters()] == ["weight"]


def test_activation_errors_are_pytorchs():
    with pytest.raises(RuntimeError, match=r"lambda must be in range \[0, 3.40282e\+38\] for "
                                           r"input dtype Float, but found -1"):
        F.softshrink(sg.ones(2), -1)
    with pytest.raises(RuntimeError, match="Halving dimension must be even, but dimension 1 "
                                           "is size 5"):
        F.glu(sg.ones(3, 5))
    with pytest.raises(RuntimeError, match="Mismatch of parameter numbers and input channel "
                                           "size. Found parameter numbers = 3 and channel size = 4"):
        F.prelu(sg.ones(2, 4), sg.ones(3))
    with pytest.raises(ValueError, match="Softmax2d: expected input to be 3D or 4D, got 1D"):
        nn.Softmax2d()(sg.ones(3))
    with pytest.raises(RuntimeError, match="alpha cannot be 0 for CELU"):
        F.celu(sg.ones(2), 0.0)
    with pytest.raises(TypeError, match=r"selu\(\): argument 'input' \(position 1\) must be "
                                        r"Tensor, not list"):
        F.selu([1.0])


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad_matches_pytorch(mode):
    real = real_torch()
    for widths, x in (((1, 2, 2, 1), X4), ((-1, 2), X3), ((2, 0, 0, 1), X4[0])):
        compare(lambda t: F.pad(t, widths, mode=mode),
                lambda t: real.nn.functional.pad(t, widths, mode=mode), x)
    if mode == "constant":
        compare(lambda t: F.pad(t, (1, 2, 0, 0, 1, 1), value=3.0),
                lambda t: real.nn.functional.pad(t, (1, 2, 0, 0, 1, 1), value=3.0), X4)


def test_padding_modules_print_and_compute_as_pytorch():
    real = real_torch()
    texts = ["ZeroPad1d(2)", "ZeroPad2d((1, 1, 2, 0))", "ConstantPad1d(3, 3.5)",
             "ConstantPad2d((3, 0, 2, 1), 3.5)", "ReflectionPad1d((2, 1))", "ReflectionPad2d(2)",
             "ReplicationPad1d((3, 1))", "ReplicationPad2d(2)", "CircularPad1d(2)",
             "CircularPad2d((1, 0, 2, 1))", "ZeroPad3d(1)", "ConstantPad3d(1, 0.5)"]
    for text in texts:
        ours, theirs = eval(f"nn.{text}"), eval(f"real.nn.{text}")
        assert repr(ours) == repr(theirs)
        x = X4 if "2d" in text or "3d" in text else X3
        np.testing.assert_allclose(value(ours(sg.tensor(x))), value(theirs(real.tensor(x))),
                                   err_msg=text)


def test_pad_errors_are_pytorchs():
    x = sg.ones(1, 2, 3, 4)
    with pytest.raises(RuntimeError, match="Padding length must be divisible by 2"):
        F.pad(x, (1,))
    with pytest.raises(RuntimeError, match="Padding length should be less than or equal to two "
                                           "times the input dimension but got padding length 10 "
                                           "and input of dimension 4"):
        F.pad(x, (1, 1) * 5)
    with pytest.raises(NotImplementedError, match="Padding size 2 is not supported for 4D "
                                                  "input tensor"):
        F.pad(x, (1, 1), mode="reflect")
    with pytest.raises(RuntimeError, match=r"Padding size should be less than the corresponding "
                                           r"input dimension, but got: padding \(4, 4\) at "
                                           r"dimension 3 of input \[1, 2, 3, 4\]"):
        F.pad(x, (4, 4, 0, 0), mode="reflect")
    with pytest.raises(RuntimeError, match="Padding value causes wrapping around more than once"):
        F.pad(x, (5, 0, 0, 0), mode="circular")
    with pytest.raises(NotImplementedError, match="Unrecognised padding mode bogus"):
        F.pad(x, (1, 1), mode="bogus")
    with pytest.raises(RuntimeError, match='Padding mode "reflect" doesn\'t take in value'):
        F.pad(x, (1, 1, 1, 1), mode="reflect", value=2.0)
    with pytest.raises(TypeError, match="must be tuple of ints, but found element of type "
                                        "float at pos 0"):
        F.pad(x, (1.5, 1))


def test_distances_match_pytorch():
    real = real_torch()
    tf = real.nn.functional
    compare(F.cosine_similarity, tf.cosine_similarity, X4, Y4)
    compare(lambda a, b: F.cosine_similarity(a, b, -1), lambda a, b: tf.cosine_similarity(a, b, -1),
            X4, Y4[0])
    for p in (2.0, 1.0, 3.0, float("inf")):
        compare(lambda a, b: F.pairwise_distance(a, b, p),
                lambda a, b: tf.pairwise_distance(a, b, p), X4[0, 0], Y4[0, 0])
    compare(lambda a, b: F.pairwise_distance(a, b, keepdim=True),
            lambda a, b: tf.pairwise_distance(a, b, keepdim=True), X4[0, 0, 0], Y4[0, 0, 0])
    compare(F.normalize, tf.normalize, X4)
    compare(lambda a: F.normalize(a, 1.0, -1), lambda a: tf.normalize(a, 1.0, -1), X4)
    compare(F.bilinear, tf.bilinear, X4[0, 0], Y4[0, 0, :, :4], RNG.standard_normal((3, 6, 4)),
            RNG.standard_normal(3))
    compare(F.bilinear, tf.bilinear, X4[0, 0, 0], Y4[0, 0, 0, :4], RNG.standard_normal((3, 6, 4)),
            same_name=False)


def test_distance_modules_as_pytorchs():
    real = real_torch()
    for text in ("CosineSimilarity()", "CosineSimilarity(0, 1e-5)", "PairwiseDistance()",
                 "PairwiseDistance(1.0, keepdim=True)"):
        ours, theirs = eval(f"nn.{text}"), eval(f"real.nn.{text}")
        assert repr(ours) == repr(theirs)
        np.testing.assert_allclose(value(ours(sg.tensor(X4), sg.tensor(Y4))),
                                   value(theirs(real.tensor(X4), real.tensor(Y4))), rtol=1e-12)
    sg.manual_seed(0)
    ours = nn.Bilinear(4, 5, 2).double()
    theirs = load_into_torch(real, ours, real.nn.Bilinear(4, 5, 2).double())
    assert repr(ours) == repr(theirs)
    assert np.abs(value(ours.weight)).max() <= 0.5 and value(ours.weight).std() > 0.1
    a, b = RNG.standard_normal((3, 4)), RNG.standard_normal((3, 5))
    np.testing.assert_allclose(value(ours(sg.tensor(a), sg.tensor(b))),
                               value(theirs(real.tensor(a), real.tensor(b))), rtol=1e-12)
    with pytest.raises(RuntimeError, match="bilinear\\(\\): input1 size does not match weight "
                                           "size: got 3 but expected 4"):
        ours(sg.ones(3, 3, dtype=sg.float64), sg.tensor(b))
    with pytest.raises(RuntimeError, match="The size of tensor a \\(3\\) must match the size of "
                                           "tensor b \\(2\\) at non-singleton dimension 0"):
        F.cosine_similarity(sg.ones(3, 4), sg.ones(2, 4))


def test_pooling_and_blocks_match_pytorch():
    real = real_torch()
    tf = real.nn.functional
    cases = [
        (lambda m: lambda a: m.max_pool1d(a, 3, 2, 1), X3),
        (lambda m: lambda a: m.avg_pool1d(a, 3, 2, 1), X3),
        (lambda m: lambda a: m.avg_pool1d(a, 3, 2, 1, count_include_pad=False), X3[0]),
        (lambda m: lambda a: m.adaptive_avg_pool1d(a, 4), X3),
        (lambda m: lambda a: m.adaptive_max_pool1d(a, 4), X3),
        (lambda m: lambda a: m.adaptive_max_pool2d(a, (3, 4)), X4),
        (lambda m: lambda a: m.adaptive_max_pool2d(a, 1), X4[0]),
        (lambda m: lambda a: m.pixel_shuffle(a, 2), X4),
        (lambda m: lambda a: m.pixel_unshuffle(a, 2), X4[..., :4, :]),
        (lambda m: lambda a: m.unfold(a, (2, 3), 1, 1, 2), X4),
        (lambda m: lambda a: m.unfold(a, 2, 2, 0, 1), X4[0]),
        (lambda m: lambda a: m.fold(a, (5, 6), (2, 3), 1, 1, 2), RNG.standard_normal((2, 24, 9))),
        (lambda m: lambda a: m.fold(a, (5, 6), 2, 2, 0, 1), RNG.standard_normal((16, 12))),
    ]
    for make, x in cases:
        compare(make(F), make(tf), x)


def test_pooling_and_block_modules_print_as_pytorchs():
    real = real_torch()
    texts = ["MaxPool1d(3)", "MaxPool1d(3, 2, 1)", "AvgPool1d(3)", "AvgPool1d(3, 2, 1)",
             "AdaptiveAvgPool1d(5)", "AdaptiveMaxPool1d(3)", "AdaptiveMaxPool2d((5, 7))",
             "AdaptiveMaxPool2d((None, 2))", "PixelShuffle(2)", "PixelUnshuffle(2)",
             "Unfold(kernel_size=(2, 3))", "Unfold(2, 1, 1, 2)",
             "Fold(output_size=(4, 5), kernel_size=2)"]
    for text in texts:
        assert repr(eval(f"nn.{text}")) == repr(eval(f"real.nn.{text}"))
    np.testing.assert_allclose(value(nn.AdaptiveMaxPool2d((None, 2))(sg.tensor(X4))),
                               value(real.nn.AdaptiveMaxPool2d((None, 2))(real.tensor(X4))))


def test_pooling_and_block_errors_are_pytorchs():
    with pytest.raises(RuntimeError, match="max_pool1d\\(\\) Invalid computed output size: 0"):
        F.max_pool1d(sg.ones(2, 3, 2), 3)
    with pytest.raises(RuntimeError, match="Expected 2D or 3D \\(batch mode\\) tensor"):
        F.max_pool1d(sg.ones(2, 3, 2, 2), 3)
    with pytest.raises(RuntimeError, match="padding should be at most half of kernel size"):
        F.avg_pool1d(sg.ones(2, 3, 5), 3, padding=2)
    with pytest.raises(RuntimeError, match="adaptive_max_pool2d\\(\\): Expected 3D or 4D "
                                           "tensor, but got: \\[2, 3\\]"):
        F.adaptive_max_pool2d(sg.ones(2, 3), 3)
    with pytest.raises(RuntimeError, match="pixel_shuffle expects its input's 'channel' "
                                           "dimension to be divisible by the square of "
                                           "upscale_factor, but input.size\\(-3\\)=5 is not "
                                           "divisible by 4"):
        F.pixel_shuffle(sg.ones(1, 5, 2, 2), 2)
    with pytest.raises(RuntimeError, match="pixel_unshuffle expects height to be divisible"):
        F.pixel_unshuffle(sg.ones(1, 5, 3, 2), 2)
    with pytest.raises(RuntimeError, match="calculated shape of the array of sliding blocks as "
                                           "\\(-1, 0\\), but its components must be at least one"):
        F.unfold(sg.ones(1, 3, 4), 5)
    with pytest.raises(RuntimeError, match="expected size of input's dimension 2 to match the "
                                           "calculated number of sliding blocks 2 \\* 3 = 6, "
                                           "but got input.size\\(2\\)=5"):
        F.fold(sg.ones(1, 8, 5), (3, 4), 2)
    with pytest.raises(NotImplementedError, match="return_indices=True is not supported"):
        F.adaptive_max_pool2d(sg.ones(1, 2, 4, 4), 2, return_indices=True)


class _Blocks(nn.Module):
    def __init__(self):
        super().__init__()
        self.pad = nn.ZeroPad2d((1, 0, 0, 1))
        self.shuffle = nn.PixelUnshuffle(2)
        self.act = nn.PReLU(8)
        self.head = nn.Linear(32, 1)

    def forward(self, x):
        y = self.act(self.shuffle(self.pad(x)))
        y = nn.functional.normalize(nn.functional.hardswish(y.flatten(1)))
        return self.head(nn.functional.softsign(y))


def test_compiled_training_equals_eager():
    x = np.random.default_rng(2).standard_normal((4, 2, 3, 3)).astype(np.float32)
    y = x.mean((1, 2, 3))[:, None]
    assert_compiled_equals_eager(_Blocks, (x, y), lambda m, x, y: ((m(x) - y) ** 2).mean())
