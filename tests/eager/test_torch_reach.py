"""The tensor functions (symgrad/eager/rearranging.py, dim_reductions.py, fused_arithmetic.py,
scattering.py), torch.linalg, autograd.functional, testing and torch_jit's pass-throughs added
for PyTorch programs, against real PyTorch: values and gradients (eager; small shapes)."""
import numpy as np
import pytest

import symgrad as sg

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(0)
X = RNG.standard_normal((3, 4))
CASES = {
    "flip": lambda t, x: t.flip(x, [0, 1]),
    "roll": lambda t, x: t.roll(x, 1, 1),
    "rot90": lambda t, x: t.rot90(x, 1, [0, 1]),
    "movedim": lambda t, x: t.movedim(x, 0, 1),
    "narrow": lambda t, x: x.narrow(1, 1, 2),
    "repeat": lambda t, x: x.repeat(2, 1),
    "repeat_interleave": lambda t, x: x.repeat_interleave(2, dim=1),
    "diff": lambda t, x: t.diff(x, dim=1),
    "unfold": lambda t, x: x.unfold(1, 2, 1),
    "lerp": lambda t, x: t.lerp(x, x * 3, 0.25),
    "addcmul": lambda t, x: t.addcmul(x, x, x, value=0.5),
    "cdist": lambda t, x: t.cdist(x, x[:2] + 1.0),
    "amax": lambda t, x: x.amax(1),
    "median": lambda t, x: x.median(1).values,
    "kthvalue": lambda t, x: x.kthvalue(2, 1).values,
    "cummax": lambda t, x: t.cummax(x, 1).values,
    "logcumsumexp": lambda t, x: t.logcumsumexp(x, 1),
    "norm": lambda t, x: x.norm(dim=1),
    "norm3": lambda t, x: t.norm(x, 3),
    "index_add": lambda t, x: x.index_add(0, t.tensor([0, 0, 2]), x * 2),
    "scatter_add": lambda t, x: x.scatter_add(1, t.tensor([[0, 1], [1, 1], [3, 0]]), x[:, :2] * 1),
    "masked_scatter": lambda t, x: x.masked_scatter(x > 0, x * 10),
    "linalg.qr": lambda t, x: t.linalg.qr(x.T)[0] + 0 * t.linalg.qr(x.T)[1].sum(),
    "linalg.vector_norm": lambda t, x: t.linalg.vector_norm(x, 1, dim=0),
    "linalg.matrix_norm": lambda t, x: t.linalg.matrix_norm(x[:, :3], "nuc"),
    "linalg.det": lambda t, x: t.linalg.det(x[:, :3]),
    "linalg.solve": lambda t, x: t.linalg.solve(x[:, :3] @ x[:, :3].T + t.eye(3, dtype=x.dtype), x),
    "linalg.lstsq": lambda t, x: t.linalg.lstsq(x.T, t.ones(4, 2, dtype=x.dtype)).solution,
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_values_and_gradients_are_pytorchs(name):
    mine, theirs = sg.tensor(X, requires_grad=True), torch.tensor(X, requires_grad=True)
    out_mine, out_theirs = CASES[name](sg, mine), CASES[name](torch, theirs)
    np.testing.assert_allclose(out_mine.detach().numpy(), out_theirs.detach().numpy(), atol=1e-10)
    weights = RNG.standard_normal(tuple(out_theirs.shape))
    (out_mine * sg.tensor(weights)).sum().backward()
    (out_theirs * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(mine.grad.numpy(), theirs.grad.numpy(), atol=1e-8)


def test_in_place_forms_write_into_the_tensor_and_record_the_gradient():
    x = sg.tensor([-1.0, 2.0], requires_grad=True)
    y = x * 1
    y.abs_()
    y.sum().backward()
    assert x.grad.tolist() == [-1.0, 1.0] and y.tolist() == [1.0, 2.0]
    with pytest.raises(RuntimeError, match="leaf Variable"):
        x.abs_()


def test_autograd_functional_matches_pytorch():
    from symgrad.autograd.functional import hessian, hvp, jacobian
    f = lambda a, b: (a * a * b).sum()  # noqa: E731
    args = (np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    mine = hessian(f, tuple(sg.tensor(a) for a in args))
    theirs = torch.autograd.functional.hessian(f, tuple(torch.tensor(a) for a in args))
    for row_mine, row_theirs in zip(mine, theirs):
        for m, t in zip(row_mine, row_theirs):
            np.testing.assert_allclose(m.numpy(), t.numpy())
    np.testing.assert_allclose(jacobian(lambda a: a ** 2, sg.tensor(args[0])).numpy(),
                               np.diag(2 * args[0]))
    np.testing.assert_allclose(hvp(lambda a: (a ** 3).sum(), sg.tensor(args[0]),
                                   sg.tensor(np.ones(2)))[1].numpy(), 6 * args[0])


def test_assert_close_says_what_pytorch_says():
    with pytest.raises(AssertionError, match="Mismatched elements: 1 / 3"):
        sg.testing.assert_close(sg.tensor([1.0, 2.0, 3.0]), sg.tensor([1.0, 2.5, 3.0]))
    with pytest.raises(AssertionError, match="attribute 'dtype'"):
        sg.testing.assert_close(sg.tensor([1.0]), sg.tensor([1.0], dtype=sg.float64))
    sg.testing.assert_close(sg.tensor([1.0, 2.0]), sg.tensor([1.0, 2.0 + 1e-7]))


def test_torch_jit_script_and_trace_hand_back_what_they_were_given():
    model = sg.nn.Linear(3, 2)
    x = sg.randn(4, 3)
    assert sg.jit.script(model) is model and sg.jit.trace(model, x) is model
    assert not sg.jit.is_scripting() and not sg.jit.is_tracing()

    @sg.jit.ignore
    def kept(y):
        return y * 2

    @sg.jit.unused(drop=True)
    def also_kept(y):
        return y + 1
    assert kept(3) == 6 and also_kept(3) == 4
    np.testing.assert_allclose(sg.jit.script(lambda t: t.exp())(x).numpy(), np.exp(x.numpy()),
                               rtol=1e-6)
