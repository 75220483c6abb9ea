"""Tensor creation and random tensors (symgrad/eager/creation.py, sampling.py) with PyTorch's
values, dtypes and errors."""
import numpy as np
import pytest

import symgrad as sg


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


CREATIONS = [
    "torch.tensor([[1, 2], [3, 4]])", "torch.tensor([[1., 2], [3, 4]])", "torch.tensor(3)",
    "torch.tensor(2.5)", "torch.tensor([True, False])", "torch.tensor([1, 2], dtype=torch.float64)",
    "torch.tensor([torch.tensor(1.5), torch.tensor(2.0)])", "torch.tensor(np.arange(3.0))",
    "torch.Tensor([1, 2])", "torch.Tensor(2, 3)", "torch.FloatTensor([1, 2])",
    "torch.LongTensor([1, 2])", "torch.DoubleTensor(2)", "torch.empty(2, 3)",
    "torch.zeros(2, 3)", "torch.zeros((2, 3), dtype=torch.long)", "torch.ones([2], dtype=torch.bool)",
    "torch.full((2, 2), 7)", "torch.full((2,), 1.5)", "torch.full((2,), True)",
    "torch.zeros_like(torch.tensor([1, 2]))", "torch.ones_like(torch.ones(2), dtype=torch.int32)",
    "torch.full_like(torch.ones(2), 4)", "torch.empty_like(torch.ones(3))",
    "torch.arange(5)", "torch.arange(1, 4)", "torch.arange(0, 1, 0.1)", "torch.arange(5.0)",
    "torch.arange(10, 0, -3)", "torch.arange(0, 5, 2, dtype=torch.float64)",
    "torch.linspace(-3.14159, 3.14159, 7)", "torch.linspace(0, 1, 1)",
    "torch.linspace(0, 10, 5, dtype=torch.float64)", "torch.logspace(0, 3, 4)",
    "torch.logspace(0, 2, 3, base=2)", "torch.eye(3)", "torch.eye(2, 3, dtype=torch.long)",
    "torch.as_tensor([1, 2])", "torch.as_tensor(np.ones(2))",
]


UNINITIALIZED = {"torch.Tensor(2, 3)", "torch.DoubleTensor(2)", "torch.empty(2, 3)",
                 "torch.empty_like(torch.ones(3))"}     # torch leaves these as memory was


@pytest.mark.parametrize("expression", CREATIONS)
def test_creation_matches_pytorch(torch, expression):
    ours = eval(expression, {"torch": sg, "np": np})
    theirs = eval(expression, {"torch": torch, "np": np})
    assert repr(ours.dtype) == repr(theirs.dtype) and ours.shape == tuple(theirs.shape)
    if expression in UNINITIALIZED:
        return
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


def test_creation_without_torch():
    assert sg.zeros(2, 3).dtype == sg.float32 and sg.zeros((2, 3)).shape == (2, 3)
    assert sg.arange(0, 1, 0.25).tolist() == [0.0, 0.25, 0.5, 0.75]
    assert sg.linspace(0, 1, 3).tolist() == [0.0, 0.5, 1.0]
    assert sg.full((2,), 7).dtype == sg.int64 and sg.eye(2).tolist() == [[1, 0], [0, 1]]
    x = sg.tensor([[1.0, 2.0]], requires_grad=True)
    assert x.requires_grad and x.is_leaf and x.dtype == sg.float32


def test_from_numpy_and_as_tensor_share_memory():
    array = np.zeros(3)
    shared = sg.from_numpy(array)
    array[1] = 5.0
    assert shared.tolist() == [0.0, 5.0, 0.0] and shared.dtype == sg.float64
    assert sg.as_tensor(array).numpy() is array
    copied = sg.tensor(array)
    array[0] = 1.0
    assert copied.tolist() == [0.0, 5.0, 0.0]
    with pytest.raises(TypeError, match="expected np.ndarray"):
        sg.from_numpy([1, 2])


def test_bad_sizes_and_ranges_are_pytorchs_errors():
    with pytest.raises(TypeError, match="argument 'size' must be tuple of ints"):
        sg.zeros(2.5)
    with pytest.raises(RuntimeError, match="negative dimension -1"):
        sg.ones(2, -1)
    with pytest.raises(RuntimeError, match="step must be nonzero"):
        sg.arange(0, 1, 0)
    with pytest.raises(RuntimeError, match="upper bound and larger bound inconsistent"):
        sg.arange(0, 5, -1)
    with pytest.raises(TypeError, match="Could not infer dtype"):
        sg.tensor(["a"])


def test_manual_seed_repeats_every_random_function():
    def draws():
        sg.manual_seed(3)
        return [sg.rand(2, 2), sg.randn(3), sg.randint(0, 10, (4,)), sg.randperm(5),
                sg.normal(0.0, 1.0, size=(2,)), sg.bernoulli(sg.full((3,), 0.5)),
                sg.multinomial(sg.tensor([0.2, 0.8]), 3, replacement=True),
                sg.rand_like(sg.ones(2)), sg.randn_like(sg.ones(2, dtype=sg.float64))]
    first, second = draws(), draws()
    for a, b in zip(first, second):
        assert a.dtype == b.dtype and a.tolist() == b.tolist()
    dtypes = [d.dtype for d in first]
    assert dtypes == [sg.float32, sg.float32, sg.int64, sg.int64, sg.float32, sg.float32,
                      sg.int64, sg.float32, sg.float64]


def test_random_values_lie_in_their_ranges():
    sg.manual_seed(0)
    assert 0 <= float(sg.rand(1000).min()) and float(sg.rand(1000).max()) < 1
    ints = sg.randint(3, 7, (1000,)).numpy()
    assert ints.min() == 3 and ints.max() == 6
    assert sorted(sg.randperm(6).tolist()) == list(range(6))
    samples = sg.randn(20000, dtype=sg.float64).numpy()
    assert abs(samples.mean()) < 0.05 and abs(samples.std() - 1) < 0.05
    means = sg.normal(sg.tensor([0.0, 100.0]), sg.tensor([1.0, 1.0]))
    assert means.shape == (2,) and float(means[1]) > 90
    picks = sg.multinomial(sg.tensor([[0.0, 1.0, 0.0]]), 2, replacement=True)
    assert picks.tolist() == [[1, 1]]
    assert sorted(sg.multinomial(sg.ones(4), 4).tolist()) == [0, 1, 2, 3]
    with pytest.raises(RuntimeError, match="cannot sample n_sample > prob_dist"):
        sg.multinomial(sg.tensor([1.0, 0.0]), 2)
    with pytest.raises(RuntimeError, match="random_ expects 'from' to be less than 'to'"):
        sg.randint(5, 5, (2,))


def test_generators_are_independent_streams():
    a, b = sg.Generator().manual_seed(1), sg.Generator().manual_seed(1)
    assert sg.rand(3, generator=a).tolist() == sg.rand(3, generator=b).tolist()
    assert a.initial_seed() == 1


def test_in_place_random_fills():
    sg.manual_seed(0)
    x = sg.empty(500).uniform_(-2, 2)
    assert x.dtype == sg.float32 and -2 <= float(x.min()) and float(x.max()) < 2
    y = sg.zeros(2000, dtype=sg.float64).normal_(5.0, 0.1)
    assert abs(float(y.mean()) - 5.0) < 0.01


def test_creation_functions_inside_a_compiled_training_step():
    sg.manual_seed(0)
    x_data = sg.linspace(-1, 1, 32).unsqueeze(1)
    y_data = 3 * x_data + 1
    model = sg.nn.Linear(1, 1)
    optimizer = sg.optim.SGD(model.parameters(), lr=0.1)

    def step(x, y):
        optimizer.zero_grad()
        offset = sg.zeros(1, 1) + sg.ones(1, dtype=sg.float64).float() * 0.0
        loss = ((model(x) + offset - y) ** 2).mean() + sg.tensor(0.0)
        loss.backward()
        optimizer.step()
        return loss

    history = sg.train(step, data=(x_data, y_data), steps=200, progress=False)
    assert history[-1] < 1e-3 and model.weight.item() == pytest.approx(3.0, abs=0.05)


def test_new_methods_keep_the_dtype_and_helpers():
    x = sg.tensor([1, 2], dtype=sg.int32)
    assert x.new_zeros(2, 3).dtype == sg.int32 and x.new_ones((2,)).tolist() == [1, 1]
    assert x.new_full((2,), 7).tolist() == [7, 7] and x.new_tensor([1.5]).dtype == sg.int32
    assert x.new_empty(3).shape == (3,) and sg.ones(2).new_zeros(1, dtype=sg.long).dtype == sg.int64
    assert sg.is_tensor(x) and not sg.is_tensor(np.ones(2)) and sg.numel(sg.ones(2, 3)) == 6
    assert sg.IntTensor([1, 2]).dtype == sg.int32


def test_layers_follow_the_default_dtype():
    try:
        sg.set_default_dtype(sg.float64)
        assert sg.nn.Linear(2, 1).weight.dtype == sg.float64
        assert sg.nn.Parameter([1.0]).dtype == sg.float64
    finally:
        sg.set_default_dtype(sg.float32)
    assert sg.nn.Linear(2, 1).weight.dtype == sg.float32
