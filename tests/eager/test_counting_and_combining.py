"""histc, bincount, unique, unique_consecutive, bucketize, searchsorted, isin, cartesian_prod,
combinations, block_diag, cov, corrcoef, trapezoid, cumulative_trapezoid
(symgrad/eager/combining.py and the counting functions) against torch (values, dtypes, errors)
and their gradients against torch's."""
import numpy as np
import pytest

import symgrad as sg

torch = pytest.importorskip("torch")


def _both(build):
    """``build(module)`` with symgrad and with torch: results, or (error type, message)."""
    results = []
    for module in (sg, torch):
        try:
            results.append(build(module))
        except Exception as error:  # noqa: BLE001 - the error itself is compared
            results.append((type(error).__name__, str(error)))
    return results


def _same(mine, theirs):
    if isinstance(theirs, tuple) and theirs and isinstance(theirs[0], str):
        assert mine == theirs
    elif isinstance(theirs, tuple):
        assert isinstance(mine, tuple) and len(mine) == len(theirs)
        for a, b in zip(mine, theirs):
            _same(a, b)
    else:
        assert isinstance(mine, sg.Tensor), mine
        assert str(mine.dtype) == str(theirs.dtype)
        np.testing.assert_allclose(mine.detach().numpy(), theirs.detach().numpy(), rtol=1e-6,
                                   atol=1e-7)


CASES = {
    "histc": lambda t: t.histc(t.tensor([1.0, 2, 1, 7]), bins=4, min=0, max=3),
    "histc_range": lambda t: t.histc(t.tensor([1.0, 2, 1, 7]), bins=3),
    "histc_method": lambda t: t.tensor([2.0, 2.0]).histc(bins=3),
    "histc_int": lambda t: t.histc(t.tensor([1, 2]), bins=4),
    "histc_bins": lambda t: t.histc(t.tensor([1.0]), bins=0),
    "histc_order": lambda t: t.histc(t.tensor([1.0]), bins=2, min=3, max=0),
    "bincount": lambda t: t.bincount(t.tensor([1, 3, 3])),
    "bincount_weights": lambda t: t.bincount(t.tensor([1, 2]), weights=t.tensor([0.5, 2.0]),
                                             minlength=4),
    "bincount_double": lambda t: t.bincount(t.tensor([0, 2]), weights=t.tensor([1, 2])),
    "bincount_negative": lambda t: t.bincount(t.tensor([1, -2])),
    "bincount_float": lambda t: t.bincount(t.tensor([1.0])),
    "bincount_weights_shape": lambda t: t.bincount(t.tensor([1, 2]), weights=t.tensor([1.0])),
    "unique": lambda t: t.unique(t.tensor([3, 1, 3, 2]), return_inverse=True,
                                 return_counts=True),
    "unique_plain": lambda t: t.unique(t.tensor([[2.0, 1.0], [2.0, 5.0]])),
    "unique_dim": lambda t: t.unique(t.tensor([[1, 2], [1, 2], [0, 1]]), dim=0,
                                     return_inverse=True, return_counts=True),
    "unique_method": lambda t: t.tensor([4, 4, 1]).unique(return_counts=True),
    "unique_consecutive": lambda t: t.unique_consecutive(t.tensor([1, 1, 2, 2, 3, 1]),
                                                         return_inverse=True,
                                                         return_counts=True),
    "bucketize": lambda t: t.bucketize(t.tensor([[1, 5], [9, 0]]), t.tensor([1, 3, 5, 7, 9])),
    "bucketize_right": lambda t: t.bucketize(t.tensor([1, 5, 9]), t.tensor([1, 3, 5, 7, 9]),
                                             right=True, out_int32=True),
    "bucketize_2d": lambda t: t.bucketize(t.tensor([1]), t.tensor([[1, 3]])),
    "searchsorted": lambda t: t.searchsorted(t.tensor([[1, 3, 5], [2, 4, 6]]),
                                             t.tensor([[3, 6], [5, 1]]), side="right"),
    "searchsorted_1d": lambda t: t.searchsorted(t.tensor([1.0, 3.0, 5.0]), t.tensor([3.0, 4.0])),
    "searchsorted_sorter": lambda t: t.searchsorted(t.tensor([5, 1, 3]), t.tensor([3]),
                                                    sorter=t.tensor([1, 2, 0])),
    "searchsorted_shape": lambda t: t.searchsorted(t.tensor([[1, 3, 5], [2, 4, 6]]),
                                                   t.tensor([[3]] * 3)),
    "searchsorted_sides": lambda t: t.searchsorted(t.tensor([1, 3]), t.tensor([3]), right=True,
                                                   side="left"),
    "isin": lambda t: t.isin(t.tensor([1, 2, 3]), t.tensor([2, 5])),
    "isin_invert": lambda t: t.isin(t.tensor([[1, 2], [3, 5]]), t.tensor([2, 5]), invert=True),
    "cartesian_prod": lambda t: t.cartesian_prod(t.tensor([1, 2]), t.tensor([3, 4, 5])),
    "cartesian_prod_one": lambda t: t.cartesian_prod(t.tensor([1, 2])),
    "cartesian_prod_2d": lambda t: t.cartesian_prod(t.tensor([[1, 2]]), t.tensor([1])),
    "combinations": lambda t: t.combinations(t.tensor([1, 2, 3, 4])),
    "combinations_replacement": lambda t: t.combinations(t.tensor([1.0, 2, 3]), r=3,
                                                         with_replacement=True),
    "combinations_2d": lambda t: t.combinations(t.tensor([[1, 2, 3]])),
    "block_diag": lambda t: t.block_diag(t.tensor([[1, 2]]), t.tensor(3), t.tensor([4, 5])),
    "block_diag_promotes": lambda t: t.block_diag(t.ones(2, 2), t.tensor([[7]])),
    "block_diag_3d": lambda t: t.block_diag(t.ones(2, 2, 2)),
    "cov": lambda t: t.cov(t.tensor([[0.0, 1, 2, 4], [2, 1, 0.5, 3]])),
    "cov_weights": lambda t: t.cov(t.tensor([[0.0, 1, 2], [2, 1, 0.5]]), correction=0,
                                   fweights=t.tensor([1, 2, 1]),
                                   aweights=t.tensor([0.5, 1.0, 1.0])),
    "cov_aweights": lambda t: t.cov(t.tensor([[0.0, 1, 2], [2, 1, 0.5]]),
                                    aweights=t.tensor([0.5, 1.0, 2.0])),
    "cov_1d": lambda t: t.cov(t.tensor([1.0, 2.0, 4.0])),
    "cov_method": lambda t: t.tensor([[1.0, 2.0, 4.0], [0.0, 1.0, 1.0]]).cov(),
    "cov_3d": lambda t: t.cov(t.ones(2, 2, 2)),
    "corrcoef": lambda t: t.corrcoef(t.tensor([[0.0, 1, 2], [2, 1, 0.5], [1, 1, 3]])),
    "trapezoid": lambda t: t.trapezoid(t.tensor([1.0, 2, 4]), dx=0.5),
    "trapezoid_x": lambda t: t.trapezoid(t.tensor([[1.0, 2, 4], [0, 1, 1]]),
                                         t.tensor([0.0, 1, 3])),
    "trapezoid_dim": lambda t: t.trapezoid(t.tensor([[1.0, 2, 4], [0, 1, 1]]), dim=0),
    "trapezoid_x_length": lambda t: t.trapezoid(t.tensor([1.0, 2, 4]), t.tensor([0.0, 1])),
    "cumulative_trapezoid": lambda t: t.cumulative_trapezoid(t.tensor([1.0, 2, 4, 3])),
    "diff": lambda t: t.diff(t.tensor([1.0, 4, 9, 16]), n=2, prepend=t.tensor([0.0])),
    "nan_to_num": lambda t: t.nan_to_num(t.tensor([float("nan"), float("inf"), -1.0]),
                                         posinf=9.0),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch(name):
    mine, theirs = _both(CASES[name])
    _same(mine, theirs)


GRADIENT_CASES = {
    "cartesian_prod": lambda t, a, b: t.cartesian_prod(a, b).pow(2).sum(),
    "combinations": lambda t, a, b: t.combinations(a, 3).prod(1).sum(),
    "block_diag": lambda t, a, b: (t.block_diag(a, b.reshape(2, 2)) ** 3).sum(),
    "cov": lambda t, a, b: t.cov(t.stack([a, b[:3]])).sum() + t.cov(
        t.stack([a, b[:3]]), aweights=b[1:].abs()).pow(2).sum(),
    "corrcoef": lambda t, a, b: t.corrcoef(t.stack([a, b[:3], a * b[1:]])).pow(2).sum(),
    "trapezoid": lambda t, a, b: t.trapezoid(a, b[:3].cumsum(0)) + t.trapezoid(a.exp(), dx=0.3),
    "cumulative_trapezoid": lambda t, a, b: t.cumulative_trapezoid(a * b[:3]).pow(2).sum(),
}


@pytest.mark.parametrize("name", sorted(GRADIENT_CASES))
def test_gradients_match_torch(name):
    a0, b0 = np.array([0.3, -1.2, 2.0]), np.array([1.5, 0.4, -0.7, 2.2])
    grads = []
    for module in (sg, torch):
        a = module.tensor(a0, requires_grad=True)
        b = module.tensor(b0, requires_grad=True)
        GRADIENT_CASES[name](module, a, b).backward()
        grads.append([g.grad.numpy() if g.grad is not None else np.zeros(g.shape)
                      for g in (a, b)])
    for mine, theirs in zip(*grads):
        np.testing.assert_allclose(mine, theirs, rtol=1e-10, atol=1e-12)


def test_counting_results_carry_no_gradient():
    x = sg.tensor([1.0, 2.0, 2.0], requires_grad=True)
    assert not sg.unique(x).requires_grad and not sg.histc(x, bins=2).requires_grad


def test_numpy_door_keeps_numpy_functions():
    assert np.array_equal(sg.unique(np.array([2, 1, 2])), [1, 2])
