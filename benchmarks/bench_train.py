"""Training loops: W1 (SGD), W2 (Adam) and W3 (scalar per-sample SGD).

For each workload, in one run: numpy by hand (seed 002's loop; measured first with numpy's
default BLAS threads, then again after symgrad set one thread per BLAS library), symgrad's
``sg.train`` (time per step of a long run, compile excluded and reported separately),
PyTorch eager and JAX (jit step, fori_loop) when installed, and two limits: the BLAS floor
(the step's five matrix products alone, through the BLAS that symgrad's compiled code calls,
at the step's shapes and with the loop's thread count) and the machine limit (the step's
FLOPs at the speed of a large sgemm). Also the same step function called from a Python loop
(``sg.value_and_grad`` compiled once, called every step). Every variant runs in a fresh
process, twice (``common.best_of_two_passes``). Run:
``python benchmarks/bench_train.py [--only W1,W2]``. Rows ending in ", 1 busy process" run
beside one other CPU-bound process that the benchmark starts and stops itself.
"""
import json
import os
import subprocess
import sys
import time

import numpy as np

# Steady state: every call waits for its compiled code (bench_compile.py measures first calls,
# which the interpreter tier answers while the compile runs in the background).
os.environ.setdefault("SYMGRAD_COMPILE_IN_BACKGROUND", "0")

from common import (beside_busy_process, best_of_two_passes, print_table,
                    sgemm_flops_per_second, time_per_call, torch_w1_step)

N, D_in, H, D_out = 64, 1000, 100, 10
# five products: x@w1, h@w2 forward; h.T@g, g@w2.T, x.T@gh backward (no gradient for x)
W1_FLOPS = 2 * N * D_in * H * 2 + 2 * N * H * D_out * 3


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


def python_loop_step(step, state, arrays):
    """One step of a Python loop that calls the step function (sg.value_and_grad inside,
    compiled once) on concrete arrays."""
    current = [state]

    def run():
        current[0], _ = step(current[0], arrays[0], arrays[1])
    return run


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


def five_products_seconds(arrays, steps=200):
    """Seconds for the W1 step's five matrix products, as symgrad's compiled loop calls them:
    numba's BLAS, transposes as views, outputs made once, BLAS on the loop's threads."""
    import numba
    from symgrad.compiler.cpu.blas_threads import loop_blas_threads, settle_blas_threads

    @numba.njit
    def products(count, x, w1, w2, h, y_pred, g, g_w2, g_h, g_w1):
        for _ in range(count):
            np.dot(x, w1, h)
            np.dot(h, w2, y_pred)
            np.dot(h.T, g, g_w2)
            np.dot(g, w2.T, g_h)
            np.dot(x.T, g_h, g_w1)
    x, y, w1, w2 = arrays
    buffers = [np.empty(s, np.float32) for s in ((N, H), (N, D_out))] + [y.copy()] + \
        [np.empty(s, np.float32) for s in ((H, D_out), (N, H), (D_in, H))]
    settle_blas_threads()
    with loop_blas_threads():
        products(2, x, w1, w2, *buffers)
        return time_per_call(lambda: products(steps, x, w1, w2, *buffers)) / steps


# -- baselines from other libraries ----------------------------------------------------------------
def torch_variants(arrays, optimizer):
    """name -> timing function, when PyTorch is installed."""
    try:
        import torch
    except ImportError:
        return {}

    def measure(threads):
        torch.set_num_threads(threads)
        step = torch_w1_step(torch, *(torch.from_numpy(a.copy()) for a in arrays), optimizer)
        return time_per_call(step), None
    cores = torch.get_num_threads()
    return {f"PyTorch eager ({cores} threads)": lambda: measure(cores),
            "PyTorch eager (1 thread)": lambda: measure(1)}


def jax_variants(arrays, optimizer):
    """name -> timing function, when JAX is installed: a jitted step, and fori_loop."""
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return {}
    x, y, w1, w2 = (jnp.asarray(a) for a in arrays)

    def loss(params):
        return jnp.sum((jnp.maximum(x @ params[0], 0) @ params[1] - y) ** 2)

    def sgd(state):
        grads = jax.grad(loss)(state)
        return tuple(p - 1e-6 * g for p, g in zip(state, grads))

    def adam(state, lr=1e-4, b1=0.9, b2=0.999, eps=1e-8):
        params, moments, t = state
        grads = jax.grad(loss)(params)
        t = t + 1
        moments = tuple((b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g)
                        for g, (m, v) in zip(grads, moments))
        params = tuple(p - (lr / (1 - b1 ** t)) * m / (jnp.sqrt(v) / jnp.sqrt(1 - b2 ** t) + eps)
                       for p, (m, v) in zip(params, moments))
        return params, moments, t
    if optimizer == "sgd":
        body, state = sgd, (w1, w2)
    else:
        zeros = tuple((jnp.zeros_like(w), jnp.zeros_like(w)) for w in (w1, w2))
        body, state = adam, ((w1, w2), zeros, jnp.float32(0))
    step = jax.jit(body)
    loop = jax.jit(lambda s: jax.lax.fori_loop(0, 100, lambda i, s: body(s), s))
    return {"JAX jit step": lambda: (time_per_call(lambda: jax.block_until_ready(step(state))), None),
            "JAX fori_loop (per step)":
                lambda: (time_per_call(lambda: jax.block_until_ready(loop(state))) / 100, None)}


def w1_w2_variants(optimizer):
    """name -> function() returning (seconds per step, compile seconds or None)."""
    arrays = w1_arrays()
    if optimizer == "sgd":
        by_hand = lambda a=[x.copy() for x in arrays]: numpy_sgd(*a)  # noqa: E731
        state, step = (arrays[2], arrays[3]), symgrad_sgd_step
    else:
        copies = [x.copy() for x in arrays]
        adam = numpy_adam_factory(copies[2], copies[3])
        by_hand = lambda: adam(copies[0], copies[1])  # noqa: E731
        zeros = tuple((np.zeros_like(w), np.zeros_like(w)) for w in arrays[2:])
        state, step = ((arrays[2], arrays[3]), zeros, np.float32(0)), symgrad_adam_step

    def one_thread_numpy():
        from threadpoolctl import threadpool_limits
        with threadpool_limits(1, user_api="blas"):
            return time_per_call(by_hand), None
    variants = {
        "numpy by hand": lambda: (time_per_call(by_hand), None),
        "numpy by hand, 1 BLAS thread": one_thread_numpy,
        "symgrad sg.train": lambda: time_train(step, state, tuple(arrays[:2]), 300),
        "symgrad step in a Python loop": lambda: (time_per_call(python_loop_step(step, state, arrays)), None),
        "BLAS floor (the 5 products)": lambda: (five_products_seconds(arrays), None),
        "machine limit (big-sgemm speed)": lambda: (W1_FLOPS / sgemm_flops_per_second(), None),
    }
    variants.update(torch_variants(arrays, optimizer))
    variants.update(jax_variants(arrays, optimizer))
    return with_busy_rows(variants, ("symgrad sg.train", "JAX fori_loop (per step)"))


BUSY = ", 1 busy process"


def with_busy_rows(variants, names):
    """``variants`` and, for each of ``names`` present, the same measured beside one other
    CPU-bound process (issue 19's busy machine: compare the ratios of these rows with the
    idle ones, same run)."""
    busy = {name + BUSY: beside_busy_process(variants[name]) for name in names if name in variants}
    return {**variants, **busy}


def w3_variants():
    x, y = np.array([1.0, 2.0, 3.0]), np.array([2.0, 4.0, 6.0])

    def step(w, xi, yi):
        import symgrad as sg
        loss, g = sg.value_and_grad(lambda w: (xi * w - yi) ** 2)(w)
        return w - 0.01 * g, loss

    def python_loop(epochs=100):
        w = 1.0
        for _ in range(epochs):
            for xi, yi in zip(x, y):
                w -= 0.01 * 2 * xi * (xi * w - yi)
    epochs = 100000
    variants = {"plain Python loop": lambda: (time_per_call(python_loop) / 300, None),
                "symgrad sg.train": lambda: time_train(step, 1.0, (x, y), epochs * 3, epochs=epochs)}
    variants.update(w3_torch_variant(x, y))
    variants.update(w3_jax_variant(x, y))
    return variants


def w3_torch_variant(x, y):
    try:
        import torch
    except ImportError:
        return {}

    def measure():
        w = torch.tensor([1.0], requires_grad=True)
        samples = list(zip(torch.tensor(x), torch.tensor(y)))

        def epoch():
            for xi, yi in samples:
                ((xi * w - yi) ** 2).sum().backward()
                with torch.no_grad():
                    w.sub_(0.01 * w.grad)
                    w.grad.zero_()
        return time_per_call(epoch) / 3, None
    return {"PyTorch eager": measure}


def w3_jax_variant(x, y):
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return {}
    xs, ys = jnp.asarray(x), jnp.asarray(y)

    def body(i, w):
        xi, yi = xs[i % 3], ys[i % 3]
        return w - 0.01 * jax.grad(lambda w: (xi * w - yi) ** 2)(w)
    loop = jax.jit(lambda w: jax.lax.fori_loop(0, 30000, body, w))
    return {"JAX fori_loop": lambda: (time_per_call(lambda: jax.block_until_ready(
        loop(jnp.float32(1.0)))) / 30000, None)}


WORKLOADS = {"W1 (SGD)": lambda: w1_w2_variants("sgd"), "W2 (Adam)": lambda: w1_w2_variants("adam"),
             "W3 (scalar, per sample)": w3_variants}


def measure_one(workload, variant):
    """Run in a fresh process so that no library's idle threads disturb another's."""
    seconds, compile_seconds = WORKLOADS[workload]()[variant]()
    print(json.dumps([seconds, compile_seconds]))


def measure_in_a_new_process(workload, name):
    out = subprocess.run([sys.executable, __file__, workload, name], capture_output=True,
                         text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main(only=None):
    for workload, variants in WORKLOADS.items():
        if only and workload.split()[0] not in only:
            continue
        names = list(variants())
        best = best_of_two_passes(names, lambda name: measure_in_a_new_process(workload, name))
        compile_seconds = [first for _, first in best.values() if first is not None]
        compile_note = (f" (symgrad first call incl. compile: {compile_seconds[0]:.2f} s)"
                        if compile_seconds else "")
        print_table(f"{workload}: µs per step{compile_note}", [(n, best[n][0]) for n in names],
                    names[0], "BLAS floor (the 5 products)")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] != "--only":
        measure_one(*sys.argv[1:])
    else:
        main(sys.argv[2].split(",") if sys.argv[1:2] == ["--only"] else None)
