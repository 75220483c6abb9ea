"""Graphs run by the CUDA backend under numba's simulator, compared with the reference
interpreter (and, for W1, with the numba CPU backend).

numba reads ``NUMBA_ENABLE_CUDASIM`` when ``numba.cuda`` is first imported, and other test
modules import numba first, so tests/compiler/test_cuda.py runs this file in a subprocess:

    NUMBA_ENABLE_CUDASIM=1 python tests/compiler/cuda_simulator_cases.py [case ...]

It prints one ``PASS <case>`` or ``FAIL <case>: <error>`` line per case. Sizes are small:
the simulator runs every GPU thread as a Python thread. Importing this module (to list the
cases) imports neither numba.cuda nor the compiler.
"""
import os
import sys
import traceback

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import symgrad as sg  # noqa: E402
from symgrad.training import progress as symgrad_progress
from symgrad.eager import tape  # noqa: E402

RNG = np.random.default_rng(0)


def normal(*shape, dtype=np.float64):
    return RNG.standard_normal(shape).astype(dtype)


def elementwise_broadcasting(x, row, column):
    y = np.exp(-x * x) * row + np.log(np.abs(column) + 1.0) - np.tanh(x) / (1.5 + np.sin(row))
    z = np.where(x > row, np.sqrt(np.abs(x)), np.cos(column) ** 2) + np.sign(x - 0.1)
    return y, np.clip(z, -0.5, 2.0), np.maximum(x, column), np.minimum(x, 0.25), x < 0.5, \
        row >= 0, x != column, x == x, x <= row


def casts_and_integers(x, n):
    return x.astype(np.float32) * 2, n * 3 + 1, np.sum(n, axis=0), (x > 0).astype(np.int64) + n


def reductions(x):
    return (np.sum(x, axis=0), np.sum(x, axis=(0, 2), keepdims=True), np.max(x, axis=1),
            np.min(x, axis=-1, keepdims=True), np.prod(x[:, :2], axis=1), np.mean(x),
            np.max(x), np.sum(np.exp(x) * 2, axis=2))


def matmuls(a, b, c, batch_a, batch_b, tall):
    """Products with transposed, batched and broadcast operands; ``tall`` has more row tiles
    than the simulator's grid, so blocks stride over tiles."""
    return (a @ b, a.T @ a[:, :3], a @ c.T, c @ a.T, (a @ b).T, batch_a @ batch_b,
            np.swapaxes(batch_b, 1, 2) @ np.swapaxes(batch_a, 1, 2), batch_a @ b, np.dot(a[0], b),
            tall @ tall.T)


def shape_ops(x, v):
    y = x.T[1:, ::2]
    r = x[::-1, 2]
    s = x.reshape(4, 6)[1:3].T.reshape(-1)
    u = np.concatenate([x, 2 * x], axis=1)
    w = np.stack([x, x + 1], axis=0)
    t = x * 1.0
    t[1:3, ::2] = v
    e = np.broadcast_to(x[:, :1], (6, 4)) + np.expand_dims(x[0], 0)
    return y, r, s, u, w, t, e, x[2, 3], np.squeeze(x[:1])


def split_reductions(x):
    """Few outputs, many reduced elements: each output's reduction is split across blocks."""
    return np.sum(np.exp(x) * 2), np.max(x, axis=0), np.mean(x[:, :2], axis=0, keepdims=True)


def identity_and_scalars(x, s):
    return x, s * 2.0, x[0, 0] + s, np.ones((2, 2)) * 3.0


def w1_loss(w1, w2, x, y):
    h = np.maximum(x.dot(w1), 0)
    return np.sum((h.dot(w2) - y) ** 2)


def softmax_cross_entropy(w, x, labels):
    logits = x @ w
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return -np.mean(np.sum(log_probs * labels, axis=1))


def _w1_args(dtype):
    return normal(5, 4, dtype=dtype), normal(4, 3, dtype=dtype), normal(6, 5, dtype=dtype), \
        normal(6, 3, dtype=dtype)


def convolutions(x, w, b):
    """conv2d (stride, padding, dilation, bias) and its two gradient ops through the loss."""
    y = sg.ops.conv2d(x, w, stride=(2, 1), padding=1, dilation=(1, 2), bias=b)
    z = sg.ops.conv2d(np.tanh(y), w[:, :1].transpose(1, 0, 2, 3), padding=(0, 1))
    return np.sum(z * z)


def poolings(x):
    """Max pooling (overlapping windows, padding) and average pooling with and without the
    padding in the divisor; the second-order case reaches max_pool2d_gather."""
    m = sg.ops.max_pool2d(x, 3, stride=2, padding=1)
    a = sg.ops.avg_pool2d(x, 2, stride=1, padding=1, count_include_pad=False)
    c = sg.ops.avg_pool2d(x * x, (2, 3), stride=2)
    return np.sum(np.sin(m)) + np.sum(a * a) + np.sum(c)


def jit(fn, **options):
    return sg.jit(fn, **options)


def w1_grad(fn, **options):
    return sg.grad(fn, argnums=(0, 1), **options)


def w1_value_and_grad(fn, **options):
    return sg.value_and_grad(fn, argnums=(0, 1), **options)


def value_and_grad(fn, **options):
    return sg.value_and_grad(fn, **options)


def value_and_grad_all(fn, **options):
    return sg.value_and_grad(fn, argnums=(0, 1, 2), **options)


def second_order(fn, **options):
    """The gradient of ``sum(x * grad(fn)(x))``: a differentiated gradient graph."""
    inner = sg.grad(fn)
    return sg.grad(lambda x: np.sum(x * inner(x)), **options)


# name -> (transformation (fn, backend=/device=), fn, args, also compare with the CPU backend)
CASES = {
    "elementwise_broadcasting": (jit, elementwise_broadcasting,
                                 (normal(3, 4), normal(1, 4), normal(3, 1)), False),
    "elementwise_float32": (jit, elementwise_broadcasting,
                            (normal(3, 4, dtype=np.float32), normal(4, dtype=np.float32),
                             normal(3, 1, dtype=np.float32)), False),
    "casts_and_integers": (jit, casts_and_integers,
                           (normal(3, 2), RNG.integers(-5, 5, (3, 2))), False),
    "reductions": (jit, reductions, (normal(3, 4, 5),), False),
    "split_reductions": (jit, split_reductions, (normal(2100, 3),), False),
    "matmuls": (jit, matmuls, (normal(5, 6), normal(6, 3), normal(4, 6), normal(2, 5, 6),
                               normal(2, 6, 3), normal(13, 5)), False),
    "shape_ops": (jit, shape_ops, (normal(6, 4), normal(2, 2)), False),
    "identity_and_scalars": (jit, identity_and_scalars, (normal(2, 3), np.float64(1.5)), False),
    "w1_grad": (w1_grad, w1_loss, _w1_args(np.float64), True),
    "w1_value_and_grad_float32": (w1_value_and_grad, w1_loss, _w1_args(np.float32), False),
    "softmax_cross_entropy_grad": (value_and_grad, softmax_cross_entropy,
                                   (normal(4, 3), normal(5, 4), np.eye(3)[[0, 2, 1, 1, 0]]), False),
    "second_order": (second_order, lambda x: np.sum(np.tanh(x) ** 3), (normal(4),), False),
    "convolutions_grad": (value_and_grad_all, convolutions,
                          (normal(2, 2, 5, 6), normal(3, 2, 2, 3), normal(3)), False),
    "poolings_grad": (value_and_grad, poolings, (normal(2, 2, 5, 5),), False),
    "poolings_second_order": (second_order, poolings, (normal(1, 2, 4, 5),), False),
}


# -- training loops: sg.train(..., device="cuda") against the CPU loop ------------------------
def w1_step(params, x, y):
    loss, grads = sg.value_and_grad(w1_loss, argnums=(0, 1))(*params, x, y)
    return tuple(p - 1e-3 * g for p, g in zip(params, grads)), loss


def train_functional(progress=False, **options):
    """W1 with SGD: the functional step, run by the CPU loop and by the GPU loop."""
    args = _w1_args(np.float64)
    results = [sg.train(w1_step, args[:2], data=args[2:], progress=progress, device=device,
                        **options) for device in ("cpu", "cuda")]
    assert_same(results[1], results[0])
    assert len(sg.compiled_loops(w1_step)[-1].in_place) == 2   # both updates overwrite the old weights


def pytorch_step(model, opt):
    """``opt.zero_grad(); loss = MSE(model(x), y); loss.backward(); opt.step()``."""
    criterion = sg.nn.MSELoss()

    def step(x, y):
        opt.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return step


def train_in_chunks():
    """The loss history comes back chunk by chunk (a chunk of one step each here)."""
    seconds, symgrad_progress.CHUNK_SECONDS = symgrad_progress.CHUNK_SECONDS, 0
    try:
        train_functional(steps=7, progress=True)
    finally:
        symgrad_progress.CHUNK_SECONDS = seconds


def train_interrupted():
    """Ctrl-C while the GPU loop runs stops it after a whole step: the history and the state
    are those of the finished steps, equal to the CPU loop run for that many steps."""
    import signal
    import threading
    args = _w1_args(np.float64)
    sg.train(w1_step, args[:2], data=args[2:], steps=1, progress=False, device="cuda")
    threading.Timer(0.5, signal.raise_signal, (signal.SIGINT,)).start()   # compiled: in the loop
    params, history = sg.train(w1_step, args[:2], data=args[2:], steps=200, progress=False,
                               device="cuda")
    assert 0 < len(history) < 200, len(history)
    expected = sg.train(w1_step, args[:2], data=args[2:], steps=len(history), progress=False)
    assert_same((params, history), expected)


def adam_model():
    """A small MLP, Adam and a PyTorch-style step."""
    weights = np.random.default_rng(1)
    model = sg.nn.Sequential(sg.nn.Linear(4, 5), sg.nn.ReLU(), sg.nn.Linear(5, 2))
    for p in model.parameters():
        p.data = sg.tensor(weights.standard_normal(p.shape).astype(np.float32))
    opt = sg.optim.Adam(model.parameters(), lr=0.01)
    return model, opt, pytorch_step(model, opt)


def train_adam(**options):
    """Adam on a module: parameters and optimizer state after the GPU loop (left on the
    GPU) equal the CPU loop's."""
    x, y = normal(8, 4, dtype=np.float32), normal(8, 2, dtype=np.float32)
    trained = []
    for device in ("cpu", "cuda"):
        model, opt, step = adam_model()
        history = sg.train(step, data=(x, y), progress=False, device=device, **options)
        state = [s["exp_avg_sq"].cpu().numpy() for s in opt.state.values()]
        params = [p.detach().cpu().numpy() for p in model.parameters()]
        trained.append((history.astype(np.float32), params, state))
    assert_same(trained[1], trained[0])


def train_model_on_cuda():
    """model.cuda() and data on cuda: sg.train runs on the GPU by itself and leaves the
    trained parameters and optimizer state there, equal to the CPU loop's."""
    x, y = normal(8, 4, dtype=np.float32), normal(8, 2, dtype=np.float32)
    model, opt, step = adam_model()
    expected = sg.train(step, data=(x, y), steps=3, progress=False)
    model_on_cuda, opt_on_cuda, step_on_cuda = adam_model()
    model_on_cuda.cuda()
    history = sg.train(step_on_cuda, data=(sg.tensor(x).cuda(), sg.tensor(y).cuda()), steps=3,
                       progress=False)
    assert sg.compiled_loops(step_on_cuda)[-1].__class__.__name__ == "CudaTrainingLoop"
    assert all(p.device == "cuda" for p in model_on_cuda.parameters())
    assert all(s["exp_avg"].is_cuda for s in opt_on_cuda.state.values())
    assert_same(history.astype(np.float32), expected.astype(np.float32))
    assert_same([p.cpu().detach().numpy() for p in model_on_cuda.parameters()],
                [p.detach().numpy() for p in model.parameters()])
    saved = model_on_cuda.state_dict()
    assert_same(list(saved.values()), list(model.state_dict().values()))
    model_on_cuda.load_state_dict(adam_model()[0].state_dict())
    assert model_on_cuda[0].weight.is_cuda
    assert not np.allclose(model_on_cuda[0].weight.cpu().detach().numpy(), saved["0.weight"])


def tensor_devices():
    """Tensor.to/.cuda/.cpu and Module.cuda/.to round trips (parameters and gradients); eager
    work on a cuda tensor is refused clearly."""
    x = sg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    on_gpu = x.to("cuda")
    assert on_gpu.device == sg.device("cuda:0") and on_gpu.is_cuda and on_gpu.requires_grad
    assert on_gpu.cuda() is on_gpu and "device='cuda:0'" in repr(on_gpu)
    assert_same(on_gpu.cpu().detach().numpy(), x.detach().numpy())
    assert sg.tensor(2.5).cuda().item() == 2.5
    model = sg.nn.Linear(3, 2)
    model(sg.tensor(np.ones((1, 3), np.float32))).sum().backward()
    weight, grad = model.weight.detach().numpy().copy(), model.weight.grad.numpy().copy()
    assert model.cuda() is model and model.weight.is_cuda and model.weight.grad.is_cuda
    model.to("cpu")
    assert_same([model.weight.detach().numpy(), model.weight.grad.numpy()], [weight, grad])
    for eager in (lambda: on_gpu * 2, lambda: on_gpu.sum(), lambda: np.asarray(on_gpu)):
        try:
            eager()
        except TypeError as error:
            assert "eager operations on cuda tensors are not supported" in str(error)
        else:
            raise AssertionError("an eager op on a cuda tensor ran")


class TinyLeNet(sg.nn.Module):
    """LeNet's layers (conv, relu, max pool twice, then linear layers) at a simulator's size."""

    def __init__(self):
        super().__init__()
        self.conv1 = sg.nn.Conv2d(1, 2, 3)
        self.conv2 = sg.nn.Conv2d(2, 3, 3, padding=1)
        self.fc = sg.nn.Linear(3 * 2 * 2, 2)

    def forward(self, x):
        x = sg.nn.functional.max_pool2d(sg.nn.functional.relu(self.conv1(x)), 2)
        x = sg.nn.functional.max_pool2d(sg.nn.functional.relu(self.conv2(x)), 2)
        return self.fc(x.view(-1, 3 * 2 * 2))


def lenet_step(device):
    """A TinyLeNet on ``device`` with SGD + momentum, and its PyTorch-style step."""
    sg.manual_seed(3)
    model = TinyLeNet().to(device)
    return model, pytorch_step(model, sg.optim.SGD(model.parameters(), lr=0.05, momentum=0.9))


def train_lenet():
    """W4's layers trained on minibatches by the GPU loop, against the same steps run
    eagerly on the host (the CPU loop equals those: tests/training/test_training_loop.py; compiling it here
    would cost most of this file's time)."""
    x, y = normal(4, 1, 10, 10, dtype=np.float32), normal(4, 2, dtype=np.float32)
    model, step = lenet_step("cuda")
    history = sg.train(step, data=(x, y), epochs=1, batch_size=2, progress=False)
    eager_model, eager_step = lenet_step("cpu")
    expected = [float(eager_step(sg.tensor(x[rows]), sg.tensor(y[rows])))
                for rows in [slice(0, 2), slice(2, 4)]]
    assert_same(history.astype(np.float32), np.array(expected, np.float32))
    assert_same([p.detach().cpu().numpy() for p in model.parameters()],
                [p.detach().numpy() for p in eager_model.parameters()])


# name -> a function that runs the CUDA path and the CPU path and compares them
SCENARIOS = {
    "train_lenet": train_lenet,
    "train_model_on_cuda": train_model_on_cuda,
    "tensor_devices": tensor_devices,
    "train_w1_full_batch": lambda: train_functional(steps=3),
    "train_w1_per_sample": lambda: train_functional(epochs=1),
    "train_w1_in_chunks": train_in_chunks,
    "train_interrupted": train_interrupted,
    "train_adam_minibatches": lambda: train_adam(epochs=2, batch_size=4, shuffle=True),
}


def tolerance(value):
    return {"rtol": 2e-5, "atol": 2e-5} if np.asarray(value).dtype == np.float32 else \
        {"rtol": 1e-10, "atol": 1e-12}


def assert_same(actual, expected):
    if isinstance(expected, (tuple, list)):
        assert isinstance(actual, (tuple, list)) and len(actual) == len(expected), (actual, expected)
        for a, e in zip(actual, expected):
            assert_same(a, e)
        return
    assert isinstance(actual, np.ndarray), type(actual)
    expected = np.asarray(expected)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    assert actual.dtype == expected.dtype, (actual.dtype, expected.dtype)
    np.testing.assert_allclose(actual, expected, **tolerance(expected))


def run_case(name):
    if name in SCENARIOS:
        SCENARIOS[name]()
        return
    transform, fn, args, with_cpu = CASES[name]
    expected = transform(fn, backend="reference")(*args)
    actual = transform(fn, device="cuda")(*args)
    assert_same(actual, expected)
    if with_cpu:
        assert_same(actual, transform(fn)(*args))


def main(names):
    tape.COMPILE_ON_USE = 10 ** 9   # eager backward stays interpreted: compiles cost time here
    failed = 0
    for name in names or [*CASES, *SCENARIOS]:
        try:
            run_case(name)
        except Exception:
            failed += 1
            print(f"FAIL {name}: {traceback.format_exc()}", flush=True)
        else:
            print(f"PASS {name}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
