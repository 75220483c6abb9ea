"""Compiled training loops (issue 5): W1 (SGD), W2 (Adam) and W3 (scalar per-sample SGD).

For each workload, in one run: numpy by hand (seed 002's loop; measured first with numpy's
default BLAS threads, then again after symgrad set one thread per BLAS library), symgrad's
``sg.train`` (time per step of a long run, compile excluded and reported separately),
PyTorch eager and JAX (jit step, fori_loop) when installed, and the BLAS floor: FLOPs per
step / this machine's measured sgemm FLOP/s. Run: ``python benchmarks/bench_train.py``.
"""
import time

import numpy as np

from common import print_table, sgemm_flops_per_second, time_per_call

N, D_in, H, D_out = 64, 1000, 100, 10
W1_FLOPS = 2 * N * D_in * H * 3 + 2 * N * H * D_out * 3


def w1_arrays():
    rng = np.random.default_rng(0)
    return [rng.standard_normal(s).astype(np.float32)
            for s in ((N, D_in), (N, D_out), (D_in, H), (H, D_out))]


# -- numpy by hand -----------------------------------------------------------------------------
def numpy_gradients(x, y, w1, w2):
    h = x.dot(w1)
    h_relu = np.maximum(h, 0)
    y_pred = h_relu.dot(w2)
    grad_y_pred = 2.0 * (y_pred - y)
    grad_w2 = h_relu.T.dot(grad_y_pred)
    grad_h = grad_y_pred.dot(w2.T)
    grad_h[h < 0] = 0
    return x.T.dot(grad_h), grad_w2


def numpy_sgd(x, y, w1, w2, lr=np.float32(1e-6)):
    g1, g2 = numpy_gradients(x, y, w1, w2)
    w1 -= lr * g1
    w2 -= lr * g2


def numpy_adam_factory(w1, w2, lr=1e-4, b1=0.9, b2=0.999, eps=1e-8):
    moments = [[np.zeros_like(w), np.zeros_like(w)] for w in (w1, w2)]
    count = [0]

    def step(x, y):
        count[0] += 1
        t = count[0]
        for w, g, (m, v) in zip((w1, w2), numpy_gradients(x, y, w1, w2), moments):
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * g * g
            w -= (lr / (1 - b1 ** t)) * m / (np.sqrt(v) / np.sqrt(1 - b2 ** t) + eps)
    return step


# -- symgrad -----------------------------------------------------------------------------------
def w1_loss(params, x, y):
    w1, w2 = params
    return np.square(np.maximum(x.dot(w1), 0).dot(w2) - y).sum()


def symgrad_sgd_step(params, x, y):
    import symgrad as sg
    loss, (g1, g2) = sg.value_and_grad(w1_loss)(params, x, y)
    return (params[0] - 1e-6 * g1, params[1] - 1e-6 * g2), loss


def symgrad_adam_step(state, x, y, lr=1e-4, b1=0.9, b2=0.999, eps=1e-8):
    import symgrad as sg
    params, moments, t = state
    loss, grads = sg.value_and_grad(w1_loss)(params, x, y)
    t = t + 1
    new_params, new_moments = [], []
    for w, g, (m, v) in zip(params, grads, moments):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        new_params.append(w - (lr / (1 - b1 ** t)) * m / (np.sqrt(v) / np.sqrt(1 - b2 ** t) + eps))
        new_moments.append((m, v))
    return (tuple(new_params), tuple(new_moments), t), loss


def time_train(step, state, data, steps, **options):
    """(seconds per step, first-call seconds incl. compile) of sg.train."""
    import symgrad as sg
    start = time.perf_counter()
    sg.train(step, state, data=data, steps=2, progress=False, **options)
    compile_seconds = time.perf_counter() - start
    best = []
    for _ in range(3):
        start = time.perf_counter()
        sg.train(step, state, data=data, steps=steps, progress=False, **options)
        best.append((time.perf_counter() - start) / steps)
    return min(best), compile_seconds


# -- baselines from other libraries ----------------------------------------------------------------
def torch_rows(arrays, optimizer):
    try:
        import torch
    except ImportError:
        return []
    x, y, w1, w2 = (torch.from_numpy(a.copy()) for a in arrays)
    params = [w1.requires_grad_(), w2.requires_grad_()]
    opt = torch.optim.SGD(params, lr=1e-6) if optimizer == "sgd" else torch.optim.Adam(params, lr=1e-4)

    def step():
        opt.zero_grad()
        (x.mm(w1).clamp(min=0).mm(w2) - y).pow(2).sum().backward()
        opt.step()
    return [(f"PyTorch eager ({torch.get_num_threads()} threads)", time_per_call(step))]


def jax_rows(arrays, optimizer):
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return []
    if optimizer != "sgd":
        return []
    x, y, w1, w2 = (jnp.asarray(a) for a in arrays)

    def loss(params):
        return jnp.sum((jnp.maximum(x @ params[0], 0) @ params[1] - y) ** 2)

    @jax.jit
    def step(params):
        grads = jax.grad(loss)(params)
        return tuple(p - 1e-6 * g for p, g in zip(params, grads))

    @jax.jit
    def loop(params):
        return jax.lax.fori_loop(0, 100, lambda i, p: step(p), params)
    params = (w1, w2)
    rows = [("JAX jit step", time_per_call(lambda: jax.block_until_ready(step(params))))]
    rows.append(("JAX fori_loop (per step)",
                 time_per_call(lambda: jax.block_until_ready(loop(params))) / 100))
    return rows


def bench_w1_w2(floor):
    for name, optimizer in (("W1 (SGD)", "sgd"), ("W2 (Adam)", "adam")):
        arrays = w1_arrays()
        if optimizer == "sgd":
            by_hand = lambda a=[x.copy() for x in arrays]: numpy_sgd(*a)  # noqa: E731
            state, step = (arrays[2], arrays[3]), symgrad_sgd_step
        else:
            a = [x.copy() for x in arrays]
            adam = numpy_adam_factory(a[2], a[3])
            by_hand = lambda: adam(a[0], a[1])  # noqa: E731
            zeros = tuple((np.zeros_like(w), np.zeros_like(w)) for w in arrays[2:])
            state, step = ((arrays[2], arrays[3]), zeros, np.float32(0)), symgrad_adam_step
        default_threads = time_per_call(by_hand)
        per_step, compile_seconds = time_train(step, state, tuple(arrays[:2]), 300)
        rows = [("numpy by hand (default BLAS threads)", default_threads),
                ("numpy by hand (1 BLAS thread)", time_per_call(by_hand)),
                ("symgrad sg.train", per_step)]
        rows += torch_rows(arrays, optimizer) + jax_rows(arrays, optimizer)
        rows.append(("BLAS floor", floor))
        print_table(f"{name}: µs per step (symgrad compile incl. first call: "
                    f"{compile_seconds:.2f} s)", rows, "numpy by hand (default BLAS threads)")


def bench_w3():
    import symgrad as sg
    x, y = np.array([1.0, 2.0, 3.0]), np.array([2.0, 4.0, 6.0])

    def step(w, xi, yi):
        loss, g = sg.value_and_grad(lambda w: (xi * w - yi) ** 2)(w)
        return w - 0.01 * g, loss

    def python_loop(epochs=100):
        w = 1.0
        for _ in range(epochs):
            for xi, yi in zip(x, y):
                w -= 0.01 * 2 * xi * (xi * w - yi)
    epochs = 20000
    per_step, compile_seconds = time_train(step, 1.0, (x, y), epochs * 3, epochs=epochs)
    rows = [("plain Python loop", time_per_call(python_loop) / 300),
            ("symgrad sg.train", per_step)]
    print_table(f"W3: µs per step (target 0.05; compile incl. first call {compile_seconds:.2f} s)",
                rows, "plain Python loop")


def main():
    floor = W1_FLOPS / sgemm_flops_per_second()
    bench_w1_w2(floor)
    bench_w3()


if __name__ == "__main__":
    main()
