"""Loss functions (symgrad.nn.functional_loss, symgrad.nn.functional_classes) and modules
(symgrad.nn.loss) against PyTorch (values and input gradients, every
reduction and option), numeric gradients of first and second order, PyTorch's error
texts, and the losses inside sg.train's compiled step (equal to the eager loop)."""
import numpy as np
import pytest

import symgrad as sg
from symgrad import nn, optim
from symgrad.nn import functional as F

RNG = np.random.default_rng(0)
X = RNG.standard_normal((4, 3))
Y = RNG.standard_normal((4, 3))
P = 1 / (1 + np.exp(-X))
T01 = RNG.uniform(size=(4, 3))
LOGITS3 = RNG.standard_normal((4, 5, 2))
LABELS3 = np.array([[0, 4], [2, -100], [1, 1], [3, 0]])
LABELS = np.array([0, 4, -100, 2])
LABELS_4 = np.array([0, 4, 3, 2])
PROBS = RNG.dirichlet(np.ones(5), size=4)
LOGP = np.log(RNG.dirichlet(np.ones(3), size=4))
SIGNS = np.array([1.0, -1.0, 1.0, -1.0])
W5 = np.array([1.0, 2.0, 0.5, 1.5, 3.0])

# name -> (args: the first is the input differentiated, module maker, kwargs grid)
CASES = {
    "mse_loss": ((X, Y), [dict(), dict(weight=T01)]),
    "l1_loss": ((X, Y), [dict(), dict(weight=T01)]),
    "smooth_l1_loss": ((X, Y), [dict(), dict(beta=0.5), dict(beta=0.0)]),
    "huber_loss": ((X, Y), [dict(), dict(delta=0.3), dict(delta=2.0, weight=T01)]),
    "binary_cross_entropy": ((P, T01), [dict(), dict(weight=T01[0])]),
    "binary_cross_entropy_with_logits": ((X * 30, T01), [dict(), dict(pos_weight=T01[1] + 0.5),
                                                         dict(weight=T01, pos_weight=T01[2])]),
    "kl_div": ((LOGP, np.exp(LOGP[::-1]).copy()), [dict(), dict(log_target=False)]),
    "kl_div-log": ((LOGP, LOGP[::-1].copy()), [dict(log_target=True)]),
    "cross_entropy": ((LOGITS3[:, :, 0] * 10, LABELS),
                      [dict(), dict(weight=W5), dict(label_smoothing=0.2)]),
    "cross_entropy-ignore4": ((LOGITS3[:, :, 1] * 3, LABELS_4),
                              [dict(weight=W5, label_smoothing=0.3, ignore_index=4)]),
    "cross_entropy-nd": ((LOGITS3, LABELS3), [dict(), dict(weight=W5, label_smoothing=0.1)]),
    "cross_entropy-probs": ((LOGITS3[:, :, 1], PROBS), [dict(), dict(weight=W5),
                                                       dict(label_smoothing=0.25)]),
    "nll_loss": ((np.log(PROBS), LABELS), [dict(), dict(weight=W5)]),
    "nll_loss-ignore2": ((np.log(PROBS), LABELS_4), [dict(weight=W5, ignore_index=2)]),
    "cosine_embedding_loss": ((X, Y, SIGNS), [dict(), dict(margin=0.2)]),
}
REDUCTIONS = {"kl_div": ("none", "sum", "batchmean"), "kl_div-log": ("none", "sum", "batchmean")}


def _library_args(lib, args, kwargs):
    def convert(a):
        if np.issubdtype(np.asarray(a).dtype, np.integer):
            return lib.tensor(a)
        return lib.tensor(np.asarray(a, np.float64))
    return [convert(a) for a in args], {k: convert(v) if isinstance(v, np.ndarray) else v
                                        for k, v in kwargs.items()}


def _run(lib, functional, name, args, kwargs, reduction):
    tensors, options = _library_args(lib, args, kwargs)
    tensors[0].requires_grad_(True)
    out = getattr(functional, name.split("-")[0])(*tensors, reduction=reduction, **options)
    out.sum().backward()
    return out.detach().numpy(), tensors[0].grad.numpy()


@pytest.mark.parametrize("name", list(CASES))
def test_against_pytorch(name):
    real = pytest.importorskip("torch")
    args, grid = CASES[name]
    for kwargs in grid:
        for reduction in REDUCTIONS.get(name, ("none", "mean", "sum")):
            value, grad = _run(sg, F, name, args, kwargs, reduction)
            their_value, their_grad = _run(real, real.nn.functional, name, args, kwargs,
                                           reduction)
            np.testing.assert_allclose(value, their_value, rtol=1e-10, atol=1e-12,
                                       err_msg=f"{name} {kwargs} {reduction}")
            np.testing.assert_allclose(grad, their_grad, rtol=1e-9, atol=1e-12,
                                       err_msg=f"{name} {kwargs} {reduction} (gradient)")


@pytest.mark.parametrize("name", list(CASES))
def test_numeric_gradients_first_and_second_order(name):
    """The loss of each option set as a function of its input (traced through the Tensor
    front), checked by sg.check_grad to second order on the reference backend."""
    args, grid = CASES[name]
    function = getattr(F, name.split("-")[0])
    point = np.asarray(args[0], np.float64)
    if name == "binary_cross_entropy_with_logits":
        point = point / 30                       # second derivatives vanish at large logits
    for kwargs in grid:
        _, options = _library_args(sg, args, kwargs)
        rest = [sg.tensor(a) for a in args[1:]]
        reduction = REDUCTIONS.get(name, ("mean",))[-1]

        def loss(x):
            return function(sg.Tensor(x), *rest, reduction=reduction, **options)._value
        sg.check_grad(loss, point, backend="reference", tolerance=1e-4)


@pytest.mark.parametrize("call,error,message", [
    (lambda: F.mse_loss(sg.zeros(3, 2), sg.zeros(3, 4)), RuntimeError,
     "The size of tensor a (2) must match the size of tensor b (4) at non-singleton dimension 1"),
    (lambda: F.huber_loss(sg.zeros(3, 2), sg.zeros(4)), RuntimeError,
     "The size of tensor a (2) must match the size of tensor b (4) at non-singleton dimension 1"),
    (lambda: F.binary_cross_entropy(sg.full((3, 1), 0.5), sg.zeros(3)), ValueError,
     "Using a target size (torch.Size([3])) that is different to the input size "
     "(torch.Size([3, 1])) is deprecated. Please ensure they have the same size."),
    (lambda: F.binary_cross_entropy_with_logits(sg.zeros(3, 1), sg.zeros(3)), ValueError,
     "Target size (torch.Size([3])) must be the same as input size (torch.Size([3, 1]))"),
    (lambda: F.kl_div(sg.zeros(3, 2), sg.zeros(3, 4)), RuntimeError,
     "The size of tensor a (4) must match the size of tensor b (2) at non-singleton dimension 1"),
    (lambda: F.cross_entropy(sg.zeros(3, 5), sg.zeros(2, dtype=sg.long)), ValueError,
     "Expected input batch_size (3) to match target batch_size (2)."),
    (lambda: F.cross_entropy(sg.zeros(3, 5, 2), sg.zeros(3, 4, dtype=sg.long)), RuntimeError,
     "Expected target size [3, 2], got [3, 4]"),
    (lambda: F.cross_entropy(sg.zeros(3, 5), sg.tensor([0, 1, 7])), IndexError,
     "Target 7 is out of bounds."),
    (lambda: F.cross_entropy(sg.zeros(3, 5), sg.zeros(3, 4)), RuntimeError,
     "0D or 1D target tensor expected, multi-target not supported"),
    (lambda: F.cross_entropy(sg.zeros(3, 5), sg.zeros(3)), RuntimeError,
     "expected scalar type Long but found Float"),
    (lambda: F.cross_entropy(sg.zeros(3, 5), sg.zeros(3, dtype=sg.long), weight=sg.ones(4)),
     RuntimeError, "weight tensor should be defined either for all 5 classes or no classes but "
                   "got weight tensor of shape: [4]"),
    (lambda: F.cross_entropy(sg.zeros(3, 5), sg.zeros(3, dtype=sg.long), label_smoothing=1.5),
     RuntimeError, "label_smoothing must be between 0.0 and 1.0. Got: 1.5"),
    (lambda: F.nll_loss(sg.zeros(3, 5), sg.tensor([0, 1, 7])), IndexError,
     "Target 7 is out of bounds."),
    (lambda: F.cosine_embedding_loss(sg.zeros(3, 5), sg.zeros(3, 4), sg.ones(3)), RuntimeError,
     "The size of tensor a (5) must match the size of tensor b (4) at non-singleton dimension 1"),
    (lambda: F.cosine_embedding_loss(sg.zeros(3, 5, 2), sg.zeros(3, 5, 2), sg.ones(3)),
     RuntimeError, "1D target tensor expects 2D input tensors, but found inputs with sizes "
                   "[3, 5, 2] and [3, 5, 2]."),
    (lambda: F.mse_loss(sg.zeros(3), sg.zeros(3), reduction="avg"), ValueError,
     "avg is not a valid value for reduction"),
    (lambda: nn.MSELoss(reduction="avg"), ValueError, "avg is not a valid value for reduction"),
    (lambda: F.mse_loss(sg.zeros(3), sg.zeros(3), weight=sg.ones(2)), ValueError,
     "Weights and input must have the same size."),
])
def test_errors_use_pytorch_words(call, error, message):
    with pytest.raises(error) as raised:
        call()
    assert str(raised.value).strip("'\"") == message


def test_errors_match_pytorch_where_it_is_installed():
    real = pytest.importorskip("torch")
    with pytest.raises(RuntimeError) as theirs:
        real.nn.functional.cross_entropy(real.zeros(3, 5, 2), real.zeros(3, 4, dtype=real.long))
    with pytest.raises(RuntimeError) as ours:
        F.cross_entropy(sg.zeros(3, 5, 2), sg.zeros(3, 4, dtype=sg.long))
    assert str(ours.value) == str(theirs.value)


def test_broadcast_target_warns_as_pytorch():
    with pytest.warns(UserWarning, match=r"Using a target size \(torch.Size\(\[3\]\)\) that is "
                                         r"different to the input size"):
        F.mse_loss(sg.zeros(4, 3), sg.zeros(3))
    with pytest.warns(UserWarning, match="reduction: 'mean' divides the total loss"):
        F.kl_div(sg.zeros(2, 2), sg.zeros(2, 2))


MODULES = [
    (nn.MSELoss, dict(reduction="sum"), "mse_loss"),
    (nn.L1Loss, dict(), "l1_loss"),
    (nn.SmoothL1Loss, dict(beta=0.5), "smooth_l1_loss"),
    (nn.HuberLoss, dict(delta=0.3), "huber_loss"),
    (nn.BCELoss, dict(weight=T01[0]), "binary_cross_entropy"),
    (nn.BCEWithLogitsLoss, dict(pos_weight=T01[1]), "binary_cross_entropy_with_logits"),
    (nn.KLDivLoss, dict(reduction="batchmean", log_target=True), "kl_div-log"),
    (nn.CrossEntropyLoss, dict(weight=W5, ignore_index=4, label_smoothing=0.3),
     "cross_entropy-ignore4"),
    (nn.NLLLoss, dict(weight=W5, ignore_index=2), "nll_loss-ignore2"),
    (nn.CosineEmbeddingLoss, dict(margin=0.2, reduction="none"), "cosine_embedding_loss"),
]


@pytest.mark.parametrize("module,kwargs,name", MODULES, ids=[m[0].__name__ for m in MODULES])
def test_modules_match_pytorch_modules(module, kwargs, name):
    real = pytest.importorskip("torch")
    args = CASES[name][0]
    ours_args, ours_kwargs = _library_args(sg, args, kwargs)
    their_args, their_kwargs = _library_args(real, args, kwargs)
    ours = module(**ours_kwargs)
    theirs = getattr(real.nn, module.__name__)(**their_kwargs)
    np.testing.assert_allclose(ours(*ours_args).numpy(), theirs(*their_args).numpy(),
                               rtol=1e-10, atol=1e-12)
    assert sorted(ours.state_dict()) == sorted(theirs.state_dict())


def test_legacy_flags_and_positional_arguments():
    assert nn.MSELoss(size_average=False).reduction == "sum"
    assert nn.MSELoss(reduce=False).reduction == "none"
    loss = nn.CrossEntropyLoss(None, None, 3)
    assert loss.ignore_index == 3 and loss.weight is None and loss.label_smoothing == 0.0
    with pytest.raises(TypeError, match="CrossEntropyLoss\\(\\): got an unexpected keyword"):
        nn.CrossEntropyLoss(smoothing=0.1)


# -- inside sg.train ------------------------------------------------------------------------
class _Heads(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(3, 10)

    def forward(self, x):
        return self.body(x)


def _all_losses_step(seed=0):
    sg.manual_seed(seed)
    model = _Heads()
    opt = optim.Adam(model.parameters(), lr=0.01)
    ce = nn.CrossEntropyLoss(weight=sg.tensor(np.linspace(0.5, 2, 5), dtype=sg.float32),
                             label_smoothing=0.1, ignore_index=1)
    bce = nn.BCEWithLogitsLoss(pos_weight=sg.full((2,), 2.0))
    kl = nn.KLDivLoss(reduction="batchmean")
    cosine = nn.CosineEmbeddingLoss(margin=0.1)

    def step(x, labels, bits, signs):
        opt.zero_grad()
        out = model(x)
        loss = ce(out[:, :5], labels) + bce(out[:, 5:7], bits) + \
            kl(F.log_softmax(out[:, 7:], 1), F.softmax(x, 1)) + \
            cosine(out[:, :3], x, signs) + nn.HuberLoss(delta=0.5)(out[:, 2:5], x) + \
            nn.SmoothL1Loss(beta=0.3)(out[:, :3], x)
        loss.backward()
        opt.step()
        return loss
    return model, step


def test_losses_inside_the_compiled_step_equal_the_eager_loop():
    rng = np.random.default_rng(1)
    data = (rng.standard_normal((8, 3)).astype(np.float32), rng.integers(0, 5, 8),
            rng.uniform(size=(8, 2)).astype(np.float32),
            np.where(rng.uniform(size=8) < 0.5, 1.0, -1.0).astype(np.float32))
    tensors = [sg.tensor(d) for d in data]
    model, step = _all_losses_step()
    expected = [step(*tensors).item() for _ in range(6)]
    compiled_model, compiled_step = _all_losses_step()
    history = sg.train(compiled_step, data=data, steps=6, progress=False)
    np.testing.assert_allclose(history, expected, rtol=2e-5)
    for ours, theirs in zip(compiled_model.parameters(), model.parameters()):
        np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=2e-5,
                                   atol=1e-6)
