"""Boolean masks on Tensors (symgrad/eager/masks.py: ``x[mask]``, ``masked_select``, ``nonzero``,
``torch.where`` with PyTorch's promotion), in-place updates with PyTorch's casting rule
(symgrad/eager/promotion.py ``check_in_place``), and PyTorch's own checkpoint files in
``torch.load`` (symgrad/eager/torch_files.py). Each against a numpy reference, and against
PyTorch where it is installed."""
from pathlib import Path

import numpy as np
import pytest

import symgrad as sg

X = np.array([[1.0, -2.0, 3.0], [-4.0, 5.0, -6.0]], np.float32)
MASKS = {   # name: (mask, the index it is part of)
    "rows": (np.array([True, False]), lambda m: m),
    "elements": (X > 0, lambda m: m),
    "with_a_slice": (np.array([False, True, True]), lambda m: (slice(None), m)),
    "with_an_integer": (np.array([True, False, True]), lambda m: (1, m)),
    "after_an_ellipsis": (np.array([True, True, False]), lambda m: (Ellipsis, m)),
    "masked_select": (np.array([True, False, True]), None),
    "masked_select_broadcast": (np.array([[True], [False]]), None),
}


def select(lib, name, x, mask):
    index = MASKS[name][1]
    if index is None:
        return lib.masked_select(x, mask) if name.endswith("broadcast") else x.masked_select(mask)
    return x[index(mask)]


def read_elements(name, mask):
    """X's elements the selection reads, as a mask of X's shape (numpy's indexing)."""
    index = MASKS[name][1]
    if index is None:
        return np.broadcast_to(mask, X.shape)
    read = np.zeros(X.shape, bool)
    read[index(mask)] = True
    return read


@pytest.mark.parametrize("name", list(MASKS))
def test_a_boolean_mask_selects_and_its_gradient_scatters_back(name):
    mask = MASKS[name][0]
    x = sg.tensor(X, requires_grad=True)
    picked = select(sg, name, x, sg.tensor(mask))
    index = MASKS[name][1]
    expected = X[read_elements(name, mask)] if index is None else X[index(mask)]
    np.testing.assert_array_equal(picked.detach().numpy(), expected)
    weights = np.arange(1.0, expected.size + 1, dtype=np.float32).reshape(expected.shape)
    (picked * sg.tensor(weights)).sum().backward()
    reference = np.zeros_like(X)
    reference[read_elements(name, mask)] = weights.reshape(-1) if index is None else \
        _in_reading_order(name, mask, weights)
    np.testing.assert_array_equal(x.grad.numpy(), reference)


def _in_reading_order(name, mask, weights):
    """The weights placed where numpy's selection read them, in X's element order."""
    placed = np.zeros_like(X)
    placed[MASKS[name][1](mask)] = weights
    return placed[read_elements(name, mask)]


def test_masks_match_pytorch():
    torch = pytest.importorskip("torch")
    for name, (mask, _) in MASKS.items():
        ours = select(sg, name, sg.tensor(X), sg.tensor(mask))
        theirs = select(torch, name, torch.tensor(X), torch.tensor(mask))
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy(), err_msg=name)
    for shape in [(2, 3), (3,), (2, 1, 3)]:
        values = np.arange(np.prod(shape)).reshape(shape) % 3
        ours, theirs = sg.nonzero(sg.tensor(values)), torch.nonzero(torch.tensor(values))
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
        for a, b in zip(sg.tensor(values).nonzero(as_tuple=True), torch.where(torch.tensor(values) > 0)):
            np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_a_mask_of_the_wrong_shape_is_pytorchs_index_error():
    with pytest.raises(IndexError, match=r"The shape of the mask \[3\] at index 0 does not match "
                                         r"the shape of the indexed tensor \[2, 3\] at index 0"):
        sg.tensor(X)[sg.tensor([True, False, True])]
    with pytest.raises(IndexError, match="too many indices for tensor of dimension 2"):
        sg.tensor(X)[:, :, sg.tensor([True])]


def test_a_traced_mask_inside_a_compiled_step_says_why_and_what_instead():
    model = sg.nn.Linear(3, 1)
    opt = sg.optim.SGD(model.parameters(), lr=0.1)

    def step(x):
        opt.zero_grad()
        out = model(x)
        loss = out[out > 0].sum()
        loss.backward()
        opt.step()
        return loss
    with pytest.raises(IndexError, match=r"data-dependent shape.*torch.where\(mask, x, 0\)"):
        sg.train(step, data=(X,), steps=2, progress=False)


# -- torch.where and in-place updates: PyTorch's promotion ---------------------------------------
DTYPES = ["bool", "int32", "int64", "float32", "float64"]
SCALARS = [True, 2, 2.5]


def _operands(torch):
    """Dimensioned tensors, 0-d tensors and Python scalars of every kind."""
    made = [torch.tensor(np.array([1, 0]).astype(d)) for d in DTYPES]
    made += [torch.tensor(np.array(1).astype(d)) for d in ("int64", "float64")]
    return made + SCALARS


def test_where_promotes_as_pytorch_for_every_pair():
    torch = pytest.importorskip("torch")
    condition = np.array([True, False])
    for a, b in [(a, b) for a in range(len(_operands(torch))) for b in range(len(_operands(torch)))]:
        ours_a, ours_b = _operands(sg)[a], _operands(sg)[b]
        theirs_a, theirs_b = _operands(torch)[a], _operands(torch)[b]
        if all(isinstance(v, (bool, int, float)) for v in (ours_a, ours_b)):
            continue        # torch.where of two scalars needs a tensor condition only
        ours = sg.where(sg.tensor(condition), ours_a, ours_b)
        theirs = torch.where(torch.tensor(condition), theirs_a, theirs_b)
        assert str(ours.dtype) == str(theirs.dtype), (ours_a, ours_b)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_where_without_torch_keeps_a_float32_tensor_with_a_python_float():
    ours = sg.where(sg.tensor([True, False]), sg.tensor([1, 2]), 1.5)
    assert ours.dtype == sg.float32 and ours.tolist() == [1.0, 1.5]
    assert sg.tensor([1.0, 2.0]).where(sg.tensor([True, False]), 0).tolist() == [1.0, 0.0]
    x = sg.tensor([1.0, 2.0], requires_grad=True)
    sg.where(x > 1.5, x * 3, 0.0).sum().backward()
    assert x.grad.tolist() == [0.0, 3.0]


IN_PLACE = {
    "add_": lambda x, y: x.add_(y), "sub_": lambda x, y: x.sub_(y), "mul_": lambda x, y: x.mul_(y),
    "div_": lambda x, y: x.div_(y), "clamp_": lambda x, y: x.clamp_(min=y),
    "iadd": lambda x, y: _iadd(x, y), "itruediv": lambda x, y: _itruediv(x, y),
}


def _iadd(x, y):
    x += y
    return x


def _itruediv(x, y):
    x /= y
    return x


def _in_place_outcome(torch, name, a, b):
    target, other = _operands(torch)[a], _operands(torch)[b]
    if isinstance(target, (bool, int, float)):
        return None
    target = target.clone()
    try:
        result = IN_PLACE[name](target, other)
    except RuntimeError as error:
        # clamp_ names C++'s types
        return str(error).replace("long int", "Long").replace("type int", "type Int")
    assert result is target
    return str(result.dtype), str(result.tolist())     # as text: nan equals nan


@pytest.mark.filterwarnings("ignore:invalid value encountered")   # 0 / 0, as numpy warns
@pytest.mark.parametrize("name", list(IN_PLACE))
def test_in_place_updates_cast_as_pytorch_or_raise_its_error(name):
    torch = pytest.importorskip("torch")
    for a in range(len(DTYPES) + 2):
        for b in range(len(DTYPES) + 2 + len(SCALARS)):
            if name in ("sub_", "clamp_") and (a == 0 or b in (0, len(DTYPES) + 2)):
                continue        # torch refuses subtracting or clamping bools with its own words
            ours = _in_place_outcome(sg, name, a, b)
            theirs = _in_place_outcome(torch, name, a, b)
            assert ours == theirs, (name, a, b)


def test_an_int_tensor_refuses_a_float_result_without_torch():
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired "
                                           "output type Long"):
        sg.tensor([1, 2]).add_(1.5)
    with pytest.raises(RuntimeError, match="result type Long can't be cast to the desired "
                                           "output type Bool"):
        sg.tensor([True]).add_(1)
    ints = sg.tensor([1, 2])
    ints += 1
    floats = sg.tensor([1.0, 2.0])
    floats += sg.tensor([1, 2])
    assert ints.tolist() == [2, 3] and floats.dtype == sg.float32 and floats.tolist() == [2.0, 4.0]
    assert sg.tensor([0.5, 3.0]).clamp_(1.0, 2.0).tolist() == [1.0, 2.0]


# -- PyTorch's own files ---------------------------------------------------------------------
CHECKPOINT = Path(__file__).with_name("data") / "torch_checkpoint.pt"   # written by torch 2.13


def test_a_checkpoint_pytorch_wrote_loads_without_pytorch():
    loaded = sg.load(CHECKPOINT)
    model = sg.nn.Linear(3, 2)
    model.load_state_dict(loaded["model"])
    assert model.weight.tolist() == [[0.5, -1.0, 2.0], [0.25, 0.0, -0.75]]
    assert np.allclose(model.bias.detach().numpy(), [0.1, -0.2]) and model.bias.dtype == sg.float32
    assert loaded["view"].dtype == sg.float64 and loaded["view"].tolist() == [[1.0, 4.0], [2.0, 5.0]]
    assert loaded["mask"].tolist() == [True, False] and loaded["half"].dtype == sg.float16
    assert loaded["step"].shape == () and loaded["step"].item() == 3
    assert loaded["dtype"] == sg.int32 and (loaded["epoch"], loaded["name"]) == (7, "linear")


def test_pytorchs_files_of_every_kind_load_as_pytorch_reads_them(tmp_path):
    torch = pytest.importorskip("torch")
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    opt = torch.optim.Adam(model.parameters())
    model(torch.ones(2, 4)).sum().backward()
    opt.step()
    grid = torch.arange(24, dtype=torch.int16).reshape(2, 3, 4)
    saved = {"model": model.state_dict(), "opt": opt.state_dict(), "strided": grid.permute(2, 0, 1)[1:],
             "parameter": torch.nn.Parameter(torch.ones(2)), "list": [torch.zeros(1), 1.5]}
    torch.save(saved, tmp_path / "all.pt")
    ours, theirs = sg.load(tmp_path / "all.pt"), torch.load(tmp_path / "all.pt")
    flat = lambda tree: [tree] if not isinstance(tree, (dict, list, tuple)) else [  # noqa: E731
        leaf for value in (tree.values() if isinstance(tree, dict) else tree) for leaf in flat(value)]
    for a, b in zip(flat(ours), flat(theirs)):
        if isinstance(b, torch.Tensor):
            assert str(a.dtype) == str(b.dtype) and a.requires_grad == b.requires_grad
            np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
        else:
            assert a == b
    assert len(flat(ours)) == len(flat(theirs)) and list(ours["opt"]["state"]) == [0, 1, 2, 3]


def test_a_pytorch_file_with_other_classes_is_refused_naming_them(tmp_path):
    torch = pytest.importorskip("torch")
    torch.save({"module": torch.nn.Linear(2, 2)}, tmp_path / "module.pt")
    with pytest.raises(Exception, match="unsupported global torch.nn.modules.linear.Linear"):
        sg.load(tmp_path / "module.pt")
