"""Small idioms of PyTorch programs that the tutorial programs (tests/test_tutorial_programs_*)
stopped on: ``out=``, the samplers of ``utils.data``, comparison methods, ``dim=`` keywords of
the numpy-derived methods, legacy constructors of arrays, ``grad_fn`` type names. Each is
checked against PyTorch where installed."""
import numpy as np
import pytest

import symgrad as torch
from symgrad.utils.data import BatchSampler, RandomSampler, SequentialSampler


def test_out_writes_into_the_tensor_and_resizes_it():
    a = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    y = torch.zeros(2, 2)
    assert torch.matmul(a, a.T, out=y) is y and y.tolist() == [[5.0, 11.0], [11.0, 25.0]]
    grown = torch.zeros(1)
    torch.cat([a, a], dim=0, out=grown)
    assert grown.shape == (4, 2) and grown[3].tolist() == [3.0, 4.0]
    values, indices = torch.zeros(2), torch.zeros(2, dtype=torch.long)
    torch.max(a, 1, out=(values, indices))
    assert values.tolist() == [2.0, 4.0] and indices.tolist() == [1, 1]


def test_out_refuses_what_pytorch_refuses():
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired "
                                           "output type Long"):
        torch.mul(torch.ones(2), 1.5, out=torch.zeros(2, dtype=torch.long))
    with pytest.raises(RuntimeError, match=r"mul\(\): functions with out=... arguments don't "
                                           "support automatic differentiation"):
        torch.mul(torch.ones(2, requires_grad=True), 2.0, out=torch.zeros(2))


def test_samplers_give_pytorchs_orders():
    assert list(SequentialSampler(range(4))) == [0, 1, 2, 3]
    torch.manual_seed(0)
    order = list(RandomSampler(range(6)))
    assert sorted(order) == list(range(6)) and len(RandomSampler(range(6), num_samples=9)) == 9
    assert len(list(RandomSampler(range(3), replacement=True, num_samples=7))) == 7
    batches = BatchSampler(SequentialSampler(range(5)), batch_size=2, drop_last=True)
    assert list(batches) == [[0, 1], [2, 3]] and len(batches) == 2
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.arange(5)),
                                         sampler=SequentialSampler(range(5)), batch_size=2)
    assert [b[0].tolist() for b in loader] == [[0, 1], [2, 3], [4]]
    with pytest.raises(ValueError, match="num_samples should be a positive integer value"):
        RandomSampler(range(3), num_samples=0)


def test_comparison_methods_cumsum_dim_and_legacy_constructors_match_pytorch():
    real = pytest.importorskip("torch")
    for lib in (torch, real):
        x, y = lib.tensor([1, 2, 3]), lib.tensor([1.0, 0.0, 5.0])
        got = [x.eq(y), x.ne(y), x.lt(2), x.le(2), x.gt(y), x.ge(2), lib.less(x, y),
               lib.greater_equal(x, 2), x.cumsum(dim=0), lib.cumsum(y, dim=0),
               lib.LongTensor(np.array([[1.7, 2.0]], np.float32)),
               lib.FloatTensor(np.arange(3))]
        if lib is torch:
            ours = got
    for a, b in zip(ours, got):
        assert a.tolist() == b.tolist() and str(a.dtype) == str(b.dtype)


def test_grad_fn_types_carry_pytorchs_names():
    x = torch.ones(2, requires_grad=True)
    loss = torch.nn.functional.mse_loss(x * 2, torch.zeros(2))
    assert type(loss.grad_fn).__name__ == "MseLossBackward0"
    assert type(loss.grad_fn.next_functions[0][0]).__name__ == "MulBackward0"
    assert isinstance(loss.grad_fn, type(loss.grad_fn.next_functions[0][0]).__mro__[1])
