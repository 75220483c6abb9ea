"""Issue 15's reproducers for the backend: batched matmul with numpy's broadcasting
(symgrad/core/ops/linalg.py, compiler/passes/simplify.py, compiler/cpu/blas.py,
compiler/cuda/matmul.py), internal codegen failures reported as such
(compiler/codegen/internal_error.py), and arrays of every layout reaching compiled code
(compiler/__init__.py)."""
import importlib.util
import os
import subprocess
import sys

import numpy as np
import pytest

import symgrad as sg
from symgrad.compiler.cpu import lowering as numba_cpu
from symgrad.compiler.codegen.internal_error import CodegenError, MissingLoweringError
from symgrad import nn, optim

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# (left, right) shapes of a @ b: batch axes broadcast as in numpy, vectors lifted
BROADCAST_PRODUCTS = [
    ((2, 3, 4), (4, 5)), ((3, 4), (2, 4, 5)), ((2, 3, 4), (4,)), ((2, 3, 1), (1, 5)),
    ((2, 1, 3, 4), (5, 4, 6)), ((4,), (2, 4, 5)), ((1, 3, 4), (2, 4, 5)), ((2, 2, 3, 4), (4, 2)),
    ((0, 3, 2), (2, 3)), ((2, 3, 0), (0, 4)),
]


def normal(shape, seed=0, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def operands(shapes, dtype=np.float64, seed=0):
    """One pair of operands per (left, right) shape pair, flattened: a0, b0, a1, b1, ..."""
    flat = [shape for pair in shapes for shape in pair]
    return [normal(shape, seed + k, dtype) for k, shape in enumerate(flat)]


def products(*arrays):
    """Every product ``a @ b`` of consecutive operands (one compile for all the shapes)."""
    return tuple(a @ b for a, b in zip(arrays[::2], arrays[1::2]))


def sine_of_products(*arrays):
    return sum(np.sum(np.sin(p)) for p in products(*arrays))


def torch_gradients(arrays, directions):
    """First derivatives of sine_of_products, and the derivatives of their dot product with
    ``directions`` (second order), from PyTorch."""
    torch = pytest.importorskip("torch")
    tensors = [torch.tensor(x, requires_grad=True) for x in arrays]
    loss = sum(torch.sin(a @ b).sum() for a, b in zip(tensors[::2], tensors[1::2]))
    first = torch.autograd.grad(loss, tensors, create_graph=True)
    projected = sum((g * torch.tensor(d)).sum() for g, d in zip(first, directions))
    second = torch.autograd.grad(projected, tensors, allow_unused=True)
    return ([g.detach().numpy() for g in first],
            [np.zeros_like(x) if g is None else g.numpy() for g, x in zip(second, arrays)])


def gradients(shapes, backend):
    """First and second derivatives (the second projected on fixed directions) of
    sine_of_products at operands of ``shapes``, and those directions."""
    arrays = operands(shapes)
    positions = tuple(range(len(arrays)))
    directions = [normal(x.shape, 100 + k) for k, x in enumerate(arrays)]
    first = sg.grad(sine_of_products, argnums=positions, backend=backend)

    def projected(*arrays):
        return sum(np.sum(g * d) for g, d in zip(first(*arrays), directions))
    second = sg.grad(projected, argnums=positions, backend=backend)
    return (first(*arrays), second(*arrays)), arrays, directions


def assert_same_gradients(ours, theirs, shapes, **tolerance):
    for order, (mine_all, theirs_all) in enumerate(zip(ours, theirs), 1):
        for k, (mine, expected) in enumerate(zip(mine_all, theirs_all)):
            pair = shapes[k // 2]
            message = f"order {order}: {'ab'[k % 2]} of {pair[0]} @ {pair[1]}"
            assert mine.shape == expected.shape, message
            np.testing.assert_allclose(mine, expected, err_msg=message, **tolerance)


# -- item 11: batched products with broadcasting ---------------------------------------------
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_broadcast_products_match_numpy_and_the_reference(dtype):
    arrays = operands(BROADCAST_PRODUCTS, dtype)
    expected = products(*arrays)
    for backend in ("reference", "numba"):
        results = sg.jit(products, backend=backend)(*arrays)
        for k, (ours, theirs) in enumerate(zip(results, expected)):
            pair = BROADCAST_PRODUCTS[k]
            assert ours.shape == theirs.shape and ours.dtype == theirs.dtype, (backend, pair)
            np.testing.assert_allclose(ours, theirs, rtol=1e-5 if dtype == np.float32 else 1e-12,
                                       err_msg=f"{backend}: {pair}")


def test_reference_gradients_of_broadcast_products_match_central_differences():
    sg.check_grad(sine_of_products, *operands(BROADCAST_PRODUCTS), order=2, backend="reference")


def test_reference_gradients_of_broadcast_products_match_torch_to_second_order():
    ours, arrays, directions = gradients(BROADCAST_PRODUCTS, "reference")
    assert_same_gradients(ours, torch_gradients(arrays, directions), BROADCAST_PRODUCTS,
                          rtol=1e-10, atol=1e-12)


def test_compiled_first_order_gradients_of_every_broadcast_product():
    arrays = operands(BROADCAST_PRODUCTS)
    positions = tuple(range(len(arrays)))
    ours, theirs = (sg.grad(sine_of_products, argnums=positions, backend=backend)(*arrays)
                    for backend in ("numba", "reference"))
    assert_same_gradients([ours], [theirs], BROADCAST_PRODUCTS, rtol=1e-10, atol=1e-12)


def test_compiled_second_order_gradients_of_each_kind_of_broadcasting():
    """One product of each kind (a batch times a matrix, a matrix times a batch, both
    batched and broadcast): a big second-order graph takes numba long to compile."""
    shapes = [((2, 3, 4), (4, 5)), ((3, 4), (2, 4, 5)), ((2, 1, 3, 4), (5, 4, 6))]
    ours, theirs = (gradients(shapes, backend)[0] for backend in ("numba", "reference"))
    assert_same_gradients(ours, theirs, shapes, rtol=1e-10, atol=1e-12)


def test_a_batch_times_a_transposed_matrix_is_one_gemm_over_the_flattened_batch():
    x, w = normal((2, 5, 4)), normal((3, 4))
    grads = sg.grad(lambda x, w: np.sum(np.tanh(x @ w.T)), argnums=(0, 1))
    compiled = grads.compiled(x, w)
    products = [n for n in compiled.optimized.nodes() if compiled.optimized.op(n) == "matmul"]
    assert all(len(compiled.optimized[n]["shape"]) == 2 for n in products), compiled.optimized
    assert compiled.source.count("outlined(gemm, (1.0, ") == len(products) == 3
    assert "for i0 in range(2):\n        outlined(gemm" not in compiled.source
    slope = 1 - np.tanh(x @ w.T) ** 2
    expected = slope @ w, slope.reshape(-1, 3).T @ x.reshape(-1, 4)
    for ours, theirs in zip(grads(x, w), expected):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


INTEGER_PRODUCTS = {
    "int64 above 2**53": (np.array([[2 ** 40, 1]]), np.array([[2 ** 20], [3]])),
    "int64 overflow wraps": (np.array([2 ** 62, 2 ** 62]), np.array([2, 3])),
    "int8 batch": (np.arange(-12, 12, dtype=np.int8).reshape(2, 3, 4) * 9,
                   np.arange(20, dtype=np.int8).reshape(4, 5) * 7),
    "uint8 broadcast": (np.arange(12, dtype=np.uint8).reshape(3, 4) * 21,
                        np.arange(16, dtype=np.uint8).reshape(2, 4, 2) * 15),
    "int32 both batched": (np.arange(24, dtype=np.int32).reshape(2, 1, 3, 4) - 12,
                           np.arange(40, dtype=np.int32).reshape(5, 4, 2) - 20),
    "bool": (np.eye(3, 4, dtype=bool), np.arange(8).reshape(4, 2) % 3 == 0),
    "empty inner axis": (np.ones((2, 0), np.int64), np.ones((0, 3), np.int64)),
}


@pytest.mark.parametrize("name", list(INTEGER_PRODUCTS))
def test_integer_and_boolean_products_are_exact(name):
    a, b = INTEGER_PRODUCTS[name]
    ours, theirs = sg.jit(lambda a, b: a @ b)(a, b), a @ b
    assert (ours.shape, ours.dtype) == (theirs.shape, theirs.dtype)
    np.testing.assert_array_equal(ours, theirs)


def test_linear_on_batch_time_features_trains_in_sg_train():
    """nn.Linear on (batch, time, features) with MSELoss and SGD, against the same steps
    written out in numpy."""
    from cuda_simulator_cases import pytorch_step
    x, y = normal((4, 6, 5), 1), normal((4, 6, 3), 2)
    layer = nn.Linear(5, 3, dtype=np.float64)
    weight, bias = (p.detach().numpy().copy() for p in (layer.weight, layer.bias))
    history = sg.train(pytorch_step(layer, optim.SGD(layer.parameters(), lr=0.1)),
                       data=(sg.tensor(x), sg.tensor(y)), steps=8, progress=False)
    expected = []
    for _ in range(8):
        residual = (x @ weight.T + bias - y).reshape(-1, 3)
        expected.append(np.mean(residual ** 2))
        weight, bias = (weight - 0.1 * 2 * residual.T @ x.reshape(-1, 5) / residual.size,
                        bias - 0.1 * 2 * residual.sum(axis=0) / residual.size)
    np.testing.assert_allclose(history, expected, rtol=1e-12)
    np.testing.assert_allclose(layer.weight.detach().numpy(), weight, rtol=1e-12)
    np.testing.assert_allclose(layer.bias.detach().numpy(), bias, rtol=1e-12)


CUDA_PRODUCTS = """
import numpy as np, symgrad as sg
rng = np.random.default_rng(0)
for sa, sb in {shapes}:
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)
    loss = lambda a, b: np.sum(np.sin(a @ b))
    ours = [sg.jit(lambda a, b: a @ b, device="cuda")(a, b),
            *sg.grad(loss, argnums=(0, 1), device="cuda")(a, b)]
    theirs = [a @ b, *sg.grad(loss, argnums=(0, 1), backend="reference")(a, b)]
    for x, y in zip(ours, theirs):
        assert np.asarray(x).shape == y.shape and np.allclose(np.asarray(x), y), (sa, sb)
print("ok")
"""


@pytest.mark.skipif(importlib.util.find_spec("numba_cuda") is None,
                    reason="numba-cuda is not installed (pip install -e '.[cuda]')")
def test_broadcast_products_on_the_cuda_simulator(tmp_path):
    shapes = [((2, 3, 4), (4, 5)), ((3, 4), (2, 4, 5)), ((2, 1, 3, 4), (5, 4, 6)),
              ((4,), (2, 4, 5))]
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1", SYMGRAD_CACHE_DIR=str(tmp_path))
    done = subprocess.run([sys.executable, "-c", CUDA_PRODUCTS.format(shapes=shapes)], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-3000:]


# -- item 11b: the code generator never hands invalid source to Python or numba --------------
@pytest.fixture
def own_cache(tmp_path, monkeypatch):
    """A cache folder of the test's own: broken generated modules must not outlive it."""
    monkeypatch.setenv("SYMGRAD_CACHE_DIR", str(tmp_path))


def transpose_then(line):
    """A transpose lowering that writes ``line`` after its own code."""
    lower_transpose = numba_cpu.LOWERINGS["transpose"]

    def lowering(lowering_state, node):
        lower_transpose(lowering_state, node)
        lowering_state.out.line(line.format(name=lowering_state.var(node).name))
    return lowering


def assert_reports_the_transpose(error, cause):
    message = str(error.value)
    assert message.startswith("internal error in symgrad codegen for op 'transpose' with shapes "
                              "float64[2, 3] -> float64[3, 2] (node %"), message
    assert "please report" in message and "= transpose axes=(1, 0) a" in message, message
    assert isinstance(error.value.__cause__, cause)


@pytest.mark.usefixtures("own_cache")
def test_generated_source_python_rejects_is_reported_as_symgrad_codegen_error(monkeypatch):
    monkeypatch.setitem(numba_cpu.LOWERINGS, "transpose", transpose_then("scratch = ({name}"))
    with pytest.raises(CodegenError) as error:
        sg.jit(lambda a: np.exp(a.T))(np.ones((2, 3)))
    assert_reports_the_transpose(error, SyntaxError)
    assert "generated line: scratch = (v" in str(error.value)


@pytest.mark.usefixtures("own_cache")
def test_generated_code_numba_rejects_is_reported_naming_the_node(monkeypatch):
    from numba.core.errors import TypingError
    monkeypatch.setitem(numba_cpu.LOWERINGS, "transpose", transpose_then("scratch = {name}.no_such"))
    with pytest.raises(CodegenError) as error:
        sg.jit(lambda a: np.exp(a.T) * 3.0)(np.ones((2, 3)))
    assert_reports_the_transpose(error, TypingError)
    assert "generated line: scratch = v" in str(error.value) and "no_such" in str(error.value)


@pytest.mark.usefixtures("own_cache")
def test_a_failing_training_loop_compile_is_reported_as_codegen_error(monkeypatch):
    monkeypatch.setitem(numba_cpu.LOWERINGS, "transpose", transpose_then("scratch = {name}.no_such"))

    def step(w, x):
        return w - 0.1 * np.tanh(x @ w.T).sum(), np.sum(w * w)
    with pytest.raises(CodegenError, match="internal error in symgrad codegen for op 'transpose'"):
        sg.train(step, np.ones((3, 2)), data=(np.ones((4, 2)),), steps=3, progress=False)


def test_a_missing_lowering_names_the_op(monkeypatch):
    monkeypatch.delitem(numba_cpu.LOWERINGS, "transpose")
    expected = ("the CPU backend cannot compile op 'transpose' with shapes float64\\[2, 3\\] -> "
                "float64\\[3, 2\\].*has no lowering for op 'transpose'.*a bug in symgrad")
    with pytest.raises(CodegenError, match=expected) as error:
        sg.jit(lambda a: np.exp(a.T) + 1.0)(np.ones((2, 3)))
    assert isinstance(error.value, MissingLoweringError)


def test_a_failing_lowering_names_its_loop_nest(monkeypatch):

    def broken(lowering, node):
        raise IndexError("a bug in a lowering")
    monkeypatch.setitem(numba_cpu.LOWERINGS, "sum", broken)
    with pytest.raises(CodegenError, match="op 'sum' with shapes float64\\[2, 3\\] -> float64\\[\\] "
                                           "\\(node %\\d+, a fused loop nest of %\\d+ exp, %\\d+ sum\\)"
                                           ".*IndexError: a bug in a lowering"):
        sg.jit(lambda a: np.sum(np.exp(a)))(np.ones((2, 3)))


# -- item 12: arrays of every layout reach compiled code as numpy would read them -------------
BASE = np.arange(24.0).reshape(2, 3, 4) / 7
CONSTANTS = {
    "strided view": BASE.transpose(2, 0, 1)[:, :, 0],           # (4, 2), neither C nor F
    "F-ordered": np.asfortranarray(BASE[0].T),                   # (4, 3)
    "negative strides": BASE[1, ::-1, ::-1].T,                   # (4, 3)
}


@pytest.mark.parametrize("name", list(CONSTANTS))
def test_a_captured_constant_of_any_layout_gives_numpys_numbers(name):
    c = CONSTANTS[name]
    x = normal((3, c.shape[0]), 1)

    def uses(x):
        return x @ c, c.T @ x.T, (x.T[:, :1] * c).reshape(-1), np.sum(c, axis=0) + x[0, 0]
    for ours, theirs in zip(sg.jit(uses)(x), uses(x)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    gradient = sg.grad(lambda x: np.sum(np.tanh(x @ c)))(x)
    np.testing.assert_allclose(gradient, (1 - np.tanh(x @ c) ** 2) @ c.T, rtol=1e-12)


def test_a_captured_strided_constant_in_a_training_loop():
    c = CONSTANTS["strided view"]

    def step(w, x):
        loss, g = sg.value_and_grad(lambda w: np.sum((x @ c @ w) ** 2))(w)
        return w - 0.01 * g, loss
    x, w = normal((5, 4), 1), normal((2, 3), 2)
    final, history = sg.train(step, w, data=(x,), steps=4, progress=False)
    expected = w
    for _ in range(4):
        expected = expected - 0.01 * 2 * (x @ c).T @ (x @ c @ expected)
    np.testing.assert_allclose(final, expected, rtol=1e-12)


INPUTS = {
    "F-ordered": np.asfortranarray(BASE[0]),
    "negative strides": BASE[1, ::-1, ::-2],
    "strided view": BASE.transpose(2, 0, 1)[:, :, 0],
    "empty": np.ones((0, 3)),
    "empty batch": np.ones((0, 2, 3)),
    "0-d": np.array(1.5),
    "numpy scalar": np.float32(1.5),
}


def all_kinds_of_work(x):
    flat = x.reshape(-1)
    return (np.exp(x) * 2, flat * flat, np.sum(x, axis=-1) if x.ndim else x + 1, x.T * 1.0,
            np.sum(x ** 2))


@pytest.mark.parametrize("name", list(INPUTS))
def test_inputs_of_any_layout_and_size_give_numpys_numbers(name):
    x = INPUTS[name]
    for ours, theirs in zip(sg.jit(all_kinds_of_work)(x), all_kinds_of_work(x)):
        ours, theirs = np.asarray(ours), np.asarray(theirs)
        assert (ours.shape, ours.dtype) == (theirs.shape, theirs.dtype)
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)
    np.testing.assert_allclose(sg.grad(lambda x: np.sum(np.sin(x) * x))(x),
                               np.cos(x) * x + np.sin(x), rtol=1e-6)


@pytest.mark.parametrize("name", ["F-ordered", "negative strides", "strided view"])
def test_products_of_inputs_of_any_layout(name):
    x = INPUTS[name]
    w = normal((x.shape[-1], 3), 5)
    np.testing.assert_allclose(sg.jit(lambda x, w: (x @ w, x.T @ x))(x, w)[0], x @ w, rtol=1e-12)
    np.testing.assert_allclose(sg.grad(lambda w, x: np.sum((x @ w) ** 2))(w, x), 2 * x.T @ (x @ w),
                               rtol=1e-12)
