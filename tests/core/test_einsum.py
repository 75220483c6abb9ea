"""np.einsum over a grid of subscripts (reference backend: values and dtypes as numpy's,
gradients against central differences), and the errors of the contraction functions. The
op table (tests/core/test_linalg.py) compiles a sample of these."""
import numpy as np
import pytest

import symgrad as sg

from conftest import assert_same
from test_ops import REF, uniform

GRID = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ij,jk", [(2, 3), (3, 4)]),
    ("ij,kj->ik", [(2, 3), (4, 3)]),
    ("ji", [(2, 3)]),
    ("Ba", [(2, 3)]),
    ("ij->", [(2, 3)]),
    ("ij->j", [(2, 3)]),
    ("i,i->", [(3,), (3,)]),
    ("i,i", [(3,), (3,)]),
    ("i,j->ij", [(3,), (2,)]),
    ("i,j,k->ijk", [(2,), (3,), (2,)]),
    ("ij,ij->ij", [(2, 3), (2, 3)]),
    ("ij,ij->i", [(2, 3), (2, 3)]),
    ("ij,ji->", [(2, 3), (3, 2)]),
    ("ii", [(3, 3)]),
    ("ii->i", [(3, 3)]),
    ("iij->ij", [(3, 3, 2)]),
    ("iji->j", [(3, 2, 3)]),
    ("iii->i", [(2, 2, 2)]),
    ("ij,jj->ij", [(2, 3), (3, 3)]),
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 4)]),
    ("bij,jk->bik", [(2, 2, 3), (3, 4)]),
    ("bij,bkj->bki", [(2, 2, 3), (2, 4, 3)]),
    ("ijk,jkl->il", [(2, 3, 2), (3, 2, 4)]),
    ("ijk,kji->", [(2, 3, 2), (2, 3, 2)]),
    ("abc,cd,db->a", [(2, 3, 4), (4, 2), (2, 3)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
    ("ij,jk,kl", [(2, 3), (3, 4), (4, 2)]),
    ("i,ij,j->", [(2,), (2, 3), (3,)]),
    ("...ij,...jk->...ik", [(2, 2, 3), (3, 4)]),
    ("...ij,...jk", [(4, 1, 2, 3), (2, 3, 4)]),
    ("...i,...i->...", [(2, 3), (4, 1, 3)]),
    ("i...->...", [(2, 3, 4)]),
    ("...ii->...i", [(2, 3, 3)]),
    ("i...j,j->i...", [(2, 3, 4), (4,)]),
    ("i,i", [(3,), (1,)]),
    ("ij,j->i", [(2, 3), (1,)]),
    ("ij,ik->jk", [(1, 3), (4, 2)]),
    (",ij->ij", [(), (2, 3)]),
    ("", [()]),
    ("ij->ij", [(2, 3)]),
]


@pytest.mark.parametrize("subscripts, shapes", GRID, ids=[s or "scalar" for s, _ in GRID])
def test_einsum_grid_matches_numpy(subscripts, shapes):
    operands = [uniform(shape, -1, 1, seed=i) for i, shape in enumerate(shapes)]

    def f(*xs):
        return np.einsum(subscripts, *xs, optimize=True)

    assert_same(sg.jit(f, backend=REF)(*operands), f(*operands))
    sg.check_grad(f, *operands, order=1, backend=REF)


@pytest.mark.parametrize("dtype", [np.int32, np.float32])
def test_einsum_keeps_numpy_dtypes(dtype):
    a = np.arange(6, dtype=dtype).reshape(2, 3)
    for subscripts in ("ij->", "ij,ij->i", "ii", "ij,kj"):
        operands = (a, a) if "," in subscripts else (a[:, :2],)
        expected = np.einsum(subscripts, *operands)
        assert_same(sg.jit(lambda *xs: np.einsum(subscripts, *xs), backend=REF)(*operands), expected)


def test_interleaved_form_and_torch_spelling():
    a, b = uniform((2, 3), seed=1), uniform((3, 4), seed=2)
    expected = np.einsum(a, [0, 1], b, [1, 2], [2, 0])
    assert_same(sg.jit(lambda a, b: np.einsum(a, [0, 1], b, [1, 2], [2, 0]), backend=REF)(a, b),
                expected)
    assert_same(sg.jit(lambda a, b: sg.einsum("ij,jk->ki", a, b), backend=REF)(a, b), expected)
    assert_same(sg.jit(lambda a, b: np.einsum(a, [Ellipsis, 1], b, [1, 2]), backend=REF)(a, b),
                np.einsum(a, [Ellipsis, 1], b, [1, 2]))


@pytest.mark.parametrize("subscripts, shapes, words", [
    ("ij,jk", [(2, 3)], "name 2 operands, 1 given"),
    ("ij->ii", [(2, 2)], "appears more than once"),
    ("i->j", [(2,)], "never appears in an input"),
    ("ij", [(2, 2, 2)], "3 dimensions"),
    ("ii->i", [(2, 3)], "don't match (2 != 3)"),
    ("i,i", [(2,), (3,)], "could not be broadcast"),
    ("i2", [(2, 2)], "invalid subscript '2'"),
    ("...i->i", [(2, 3)], "no '...'"),
])
def test_einsum_errors_say_what_is_wrong(subscripts, shapes, words):
    operands = [np.ones(shape) for shape in shapes]
    with pytest.raises(sg.TracingError, match="einsum") as error:
        sg.jit(lambda *xs: np.einsum(subscripts, *xs), backend=REF)(*operands)
    assert words in str(error.value) and "test_einsum.py" in str(error.value)


def test_contraction_errors_name_the_function_and_shapes():
    with pytest.raises(sg.TracingError, match=r"dot: shapes \(2, 3, 4\) and \(3, 3, 2\) not aligned"):
        sg.jit(lambda a, b: np.dot(a, b), backend=REF)(np.ones((2, 3, 4)), np.ones((3, 3, 2)))
    with pytest.raises(sg.TracingError, match="tensordot: shape-mismatch"):
        sg.jit(lambda a, b: np.tensordot(a, b, ([0], [0])), backend=REF)(np.ones((2, 3)), np.ones((3, 2)))
    with pytest.raises(sg.TracingError, match="vdot: vectors have different lengths"):
        sg.jit(lambda a, b: np.vdot(a, b), backend=REF)(np.ones(3), np.ones(2))
    with pytest.raises(np.exceptions.AxisError, match="diagonal"):
        sg.jit(lambda a: np.diagonal(a, 0, 0, 2), backend=REF)(np.ones((2, 2)))
    with pytest.raises(ValueError, match="diag: Input must be 1- or 2-d"):
        sg.jit(lambda a: np.diag(a), backend=REF)(np.ones((2, 2, 2)))
