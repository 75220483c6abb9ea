"""PyTorch's dtypes and type promotion in the eager door (symgrad/eager/dtypes.py,
promotion.py, conversion.py, printing.py), against PyTorch's own values where installed."""
import itertools
import pickle

import numpy as np
import pytest

import symgrad as sg

NAMES = ["float32", "float", "float64", "double", "float16", "half", "int64", "long", "int32",
         "int", "int16", "int8", "uint8", "bool"]
TENSOR_DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32",
                 "float64"]


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def test_dtypes_print_compare_and_convert_as_in_pytorch():
    assert repr(sg.float) == "torch.float32" and sg.float is sg.float32
    assert repr(sg.long) == "torch.int64" and sg.double is sg.float64 and sg.half is sg.float16
    assert sg.ones(2).dtype == sg.float32 == np.float32 == np.dtype("float32")
    assert sg.tensor([1, 2]).dtype == sg.int64 != sg.int32
    assert np.zeros(2, sg.float64).dtype == np.float64      # numpy reads symgrad's dtypes
    assert sg.float32.is_floating_point and not sg.int64.is_floating_point
    assert sg.int8.is_signed and not sg.uint8.is_signed and sg.float64.itemsize == 8
    assert {sg.float32: 1}[np.dtype("float32")] == 1
    assert pickle.loads(pickle.dumps(sg.int16)) is sg.int16
    assert isinstance(sg.float32, sg.dtype)


@pytest.mark.parametrize("name", NAMES)
def test_every_dtype_name_matches_pytorch(torch, name):
    ours, theirs = getattr(sg, name), getattr(torch, name)
    assert repr(ours) == repr(theirs)
    assert ours.is_floating_point == theirs.is_floating_point
    assert ours.itemsize == theirs.itemsize
    assert repr(sg.zeros(2, dtype=ours).dtype) == repr(torch.zeros(2, dtype=theirs).dtype)


def test_bfloat16_is_a_clear_error():
    with pytest.raises(TypeError, match="bfloat16 is not supported"):
        sg.zeros(2, dtype=sg.bfloat16)


def test_default_dtype_is_set_and_restored():
    assert sg.get_default_dtype() == sg.float32
    try:
        sg.set_default_dtype(sg.float64)
        assert sg.tensor([1.5]).dtype == sg.float64 and sg.zeros(1).dtype == sg.float64
        assert (sg.arange(3) / 2).dtype == sg.float64
        assert repr(sg.tensor([1.5])) == "tensor([1.5000])"
        assert repr(sg.tensor([1.5], dtype=sg.float32)) == "tensor([1.5000], dtype=torch.float32)"
    finally:
        sg.set_default_dtype(sg.float32)
    with pytest.raises(TypeError, match="only floating-point types"):
        sg.set_default_dtype(sg.int64)


def test_cast_methods_and_type_names():
    x = sg.tensor([1.7, -2.2])
    assert x.long().tolist() == [1, -2] and x.int().dtype == sg.int32
    assert x.double().dtype == sg.float64 and x.half().dtype == sg.float16
    assert x.bool().tolist() == [True, True] and x.float() is x
    assert x.to(sg.float64).dtype == sg.float64 and x.to("cpu", sg.int64).dtype == sg.int64
    assert x.to(sg.tensor([1])).dtype == sg.int64
    assert x.type() == "torch.FloatTensor" and x.long().type() == "torch.LongTensor"
    assert x.type(sg.float64).dtype == sg.float64 and x.type("torch.LongTensor").dtype == sg.int64
    assert x.type(sg.LongTensor).dtype == sg.int64
    assert sg.is_floating_point(x) and not sg.is_floating_point(x.long()) and x.is_floating_point()


def test_a_float_cast_passes_the_gradient_and_an_int_cast_stops_it():
    x = sg.tensor([1.5, 2.5], requires_grad=True)
    y = x.double()
    assert y.grad_fn.name() == "ToCopyBackward0"
    (y * y).sum().backward()
    assert x.grad.dtype == sg.float32 and x.grad.tolist() == [3.0, 5.0]
    assert not x.long().requires_grad


def test_requires_grad_on_an_integer_tensor_is_pytorchs_error():
    message = "only Tensors of floating point and complex dtype can require gradients"
    with pytest.raises(RuntimeError, match=message):
        sg.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError, match=message):
        sg.arange(3).requires_grad_()
    with pytest.raises(RuntimeError, match=message):
        sg.zeros(2, dtype=sg.long).requires_grad = True


def test_finfo_and_iinfo_match_pytorch(torch):
    for name in ("float32", "float64", "float16"):
        ours, theirs = sg.finfo(getattr(sg, name)), torch.finfo(getattr(torch, name))
        assert (ours.eps, ours.max, ours.min, ours.tiny, ours.bits) == \
            (theirs.eps, theirs.max, theirs.min, theirs.tiny, theirs.bits)
    for name in ("int64", "int32", "int8", "uint8"):
        ours, theirs = sg.iinfo(getattr(sg, name)), torch.iinfo(getattr(torch, name))
        assert (ours.min, ours.max, ours.bits) == (theirs.min, theirs.max, theirs.bits)
    assert sg.finfo().eps == torch.finfo().eps


def _operand(library, kind, dtype):
    """A tensor with dimensions, a 0-d tensor or a Python scalar of ``dtype``'s category."""
    if kind == "python":
        return {"bool": True, "int": 2, "float": 2.5}[dtype]
    shape = (2,) if kind == "dim" else ()
    return library.ones(shape, dtype=getattr(library, dtype))


PROMOTION_CASES = (
    [(("dim", a), ("dim", b)) for a, b in itertools.product(TENSOR_DTYPES, repeat=2)]
    + [(("dim", a), ("zero", b)) for a, b in itertools.product(TENSOR_DTYPES, repeat=2)]
    + [(("dim", a), ("python", b)) for a in TENSOR_DTYPES for b in ("bool", "int", "float")]
    + [(("zero", a), ("python", b)) for a in TENSOR_DTYPES for b in ("bool", "int", "float")])


def test_promotion_table_matches_torch_result_type(torch):
    wrong = []
    for (kind_a, a), (kind_b, b) in PROMOTION_CASES:
        ours = sg.result_type(_operand(sg, kind_a, a), _operand(sg, kind_b, b))
        theirs = torch.result_type(_operand(torch, kind_a, a), _operand(torch, kind_b, b))
        if repr(ours) != repr(theirs):
            wrong.append((kind_a, a, kind_b, b, ours, theirs))
    assert wrong == []


@pytest.mark.parametrize("a, b", [("float32", "int64"), ("int32", "float64"), ("uint8", "int8"),
                                  ("bool", "int16"), ("float16", "int64"), ("int64", "int64")])
def test_binary_operators_promote_as_pytorch(torch, a, b):
    operators = ["__add__", "__mul__", "__truediv__", "__pow__", "__lt__"]
    for operator in operators + ([] if a == "bool" else ["__sub__"]):   # torch: no bool - x
        ours = getattr(sg.ones(3, dtype=getattr(sg, a)), operator)(sg.ones(3, dtype=getattr(sg, b)))
        theirs = getattr(torch.ones(3, dtype=getattr(torch, a)), operator)(
            torch.ones(3, dtype=getattr(torch, b)))
        assert repr(ours.dtype) == repr(theirs.dtype), operator


def test_python_numbers_and_0d_tensors_do_not_widen_a_tensor():
    x = sg.ones(3)
    assert (x + 2.5).dtype == sg.float32 and (x * sg.tensor(2.0, dtype=sg.float64)).dtype == sg.float32
    assert (sg.arange(3) + 0.5).dtype == sg.float32 and (sg.arange(3) * 2).dtype == sg.int64
    assert (sg.arange(3, dtype=sg.int32) + sg.tensor(5)).dtype == sg.int32
    assert sg.arange(3).exp().dtype == sg.float32 and (2 ** sg.arange(3)).dtype == sg.int64
    assert (x * sg.arange(3)).tolist() == [0.0, 1.0, 2.0]


def test_mixed_promotion_keeps_gradients_flowing():
    x = sg.tensor([1.0, 2.0], requires_grad=True)
    scale = sg.tensor(3.0, dtype=sg.float64, requires_grad=True)
    (x * scale * sg.arange(2)).sum().backward()
    assert x.grad.tolist() == [0.0, 3.0] and scale.grad.dtype == sg.float64
    assert scale.grad.item() == pytest.approx(2.0)


REPR_CASES = ["torch.tensor([1.5, 2.0])", "torch.tensor([1, 2], dtype=torch.int32)",
              "torch.tensor([True, False])", "torch.tensor(3)", "torch.tensor(3.5)",
              "torch.zeros(2, 3)", "torch.tensor([1e-5, 1e5])", "torch.tensor([[1., 2.], [3., 4.]], requires_grad=True)",
              "torch.tensor([1.5, 2], dtype=torch.float64)", "torch.arange(20.0).reshape(4, 5) / 3",
              "torch.tensor([float('inf'), -1.0, float('nan')])", "torch.tensor([123456.5, 1.0])",
              "torch.tensor([])", "torch.zeros(0, 3)", "torch.arange(2000)",
              "torch.tensor([-0.5, 1.25])", "torch.tensor([1e10, 1.0])"]


@pytest.mark.parametrize("expression", REPR_CASES)
def test_repr_matches_pytorch(torch, expression):
    assert repr(eval(expression, {"torch": sg})) == repr(eval(expression, {"torch": torch}))


def test_format_item_tolist_numpy():
    loss = sg.tensor(0.123456)
    assert f"{loss:.4f}" == "0.1235" and f"{loss}" == str(loss.item())
    assert f"{loss:>8.2f}" == "    0.12" and isinstance(loss.item(), float)
    assert sg.tensor([[1, 2]]).tolist() == [[1, 2]] and sg.tensor([1.5]).numpy().dtype == np.float32
    with pytest.raises(RuntimeError, match="a Tensor with 2 elements cannot be converted to Scalar"):
        sg.ones(2).item()
    with pytest.raises(RuntimeError, match="Boolean value of Tensor with more than one value"):
        bool(sg.ones(2))
    assert [10, 20, 30][sg.tensor(1)] == 20


def test_size_is_a_tuple_printed_as_torch_size():
    shape = sg.ones(2, 3).shape
    assert shape == (2, 3) and repr(shape) == "torch.Size([2, 3])" and shape.numel() == 6
    assert sg.ones(2, 3).size() == sg.Size([2, 3]) and sg.ones(2, 3).size(1) == 3


def test_pytorchs_error_texts_for_shapes_indices_and_integer_means(torch):
    cases = [lambda t: t.ones(64, 1000) @ t.ones(100, 10),
             lambda t: t.ones(64, 1000).mm(t.ones(100, 10)),
             lambda t: t.nn.Linear(100, 10)(t.ones(64, 1000)),
             lambda t: t.ones(3)[5], lambda t: t.ones(3, 4)[:, 7],
             lambda t: t.arange(3).mean(), lambda t: t.ones(2).view(3)]
    for case in cases:
        with pytest.raises(Exception) as theirs:
            case(torch)
        with pytest.raises(type(theirs.value)) as ours:
            case(sg)
        assert str(ours.value).startswith(str(theirs.value).splitlines()[0])
