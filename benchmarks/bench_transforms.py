"""Transforms beyond the gradient: per-example gradients of W1 (batch 64) by
``sg.vmap(sg.grad)`` against JAX's ``jit(vmap(grad))`` and ``torch.func.vmap(grad)`` (issue 21
asks for at most 1.0x JAX; missing baselines are skipped), a Hessian-vector product of W1's loss against one
gradient of it (issue 21 asks for at most 3x), and Jacobians by ``sg.jacrev`` / ``sg.jacfwd``
against JAX's ``jit(jacrev)`` / ``jit(jacfwd)`` when JAX is installed; all compiled, µs per
call once compiled (first calls excluded), in one process.

Run: ``python benchmarks/bench_transforms.py``.
"""
import os
import sys

os.environ.setdefault("SYMGRAD_COMPILE_IN_BACKGROUND", "0")   # time compiled code only
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

import symgrad as sg  # noqa: E402
from common import print_table, time_per_call  # noqa: E402

N, D_in, H, D_out = 64, 1000, 100, 10      # W1 (seed 002)
JACOBIAN_ROWS, JACOBIAN_COLUMNS = 32, 16


def w1_loss(params, x, y):
    w1, w2 = params
    return np.sum((np.maximum(x @ w1, 0) @ w2 - y) ** 2)


def w1_data(dtype=np.float32):
    rng = np.random.default_rng(0)
    x, y = (rng.standard_normal(s).astype(dtype) for s in ((N, D_in), (N, D_out)))
    params = tuple(rng.standard_normal(s).astype(dtype) for s in ((D_in, H), (H, D_out)))
    tangents = tuple(rng.standard_normal(p.shape).astype(dtype) for p in params)
    return params, tangents, x, y


def hvp_rows():
    params, tangents, x, y = w1_data()
    gradient = sg.grad(w1_loss)
    product = sg.hessian_vector_product(w1_loss)
    expected = product(params, x, y, tangents)
    # the product against a float64 finite difference of gradients along the tangents
    params64, tangents64 = ([p.astype(np.float64) for p in tree] for tree in (params, tangents))
    eps = 1e-4
    plus, minus = (gradient(tuple(p + s * eps * t for p, t in zip(params64, tangents64)),
                            x.astype(np.float64), y.astype(np.float64)) for s in (1, -1))
    for got, up, down in zip(expected, plus, minus):
        numeric = (up - down) / (2 * eps)
        assert np.allclose(got, numeric, rtol=1e-2, atol=1e-2 * np.abs(numeric).max())
    def loss_of_params(p):      # one closure: sg.hvp compiles once for it
        return w1_loss(p, x, y)
    return [("W1 grad (sg.grad)", time_per_call(lambda: gradient(params, x, y))),
            ("W1 Hessian-vector product", time_per_call(lambda: product(params, x, y, tangents))),
            ("W1 sg.hvp (closure over data)", time_per_call(
                lambda: sg.hvp(loss_of_params, (params,), (tangents,))))]


def example_loss(params, x, y):
    """W1's loss of one example (x: D_in, y: D_out)."""
    w1, w2 = params
    return ((np.maximum(x @ w1, 0) @ w2 - y) ** 2).sum()


def per_example_rows():
    params, _, x, y = w1_data()
    per_example = sg.vmap(sg.grad(example_loss), in_axes=(None, 0, 0))
    got = per_example(params, x, y)
    expected = sg.grad(example_loss)(params, x[3], y[3])
    assert all(np.allclose(g[3], e, rtol=1e-4, atol=1e-4) for g, e in zip(got, expected))
    rows = [("sg.vmap(sg.grad)", time_per_call(lambda: per_example(params, x, y)))]
    try:
        import jax
        import jax.numpy as jnp
        jax_grads = jax.jit(jax.vmap(jax.grad(lambda p, a, b: jnp.sum(
            (jnp.maximum(a @ p[0], 0) @ p[1] - b) ** 2)), in_axes=(None, 0, 0)))
        jax_grads(params, x, y)[0].block_until_ready()
        rows.append(("JAX jit(vmap(grad))", time_per_call(
            lambda: jax_grads(params, x, y)[0].block_until_ready())))
    except ImportError:
        print("(JAX is not installed: no JAX row)")
    try:
        import torch
        from torch.func import grad, vmap
        torch_params = tuple(torch.from_numpy(p) for p in params)
        tx, ty = torch.from_numpy(x), torch.from_numpy(y)
        torch_grads = vmap(grad(lambda p, a, b: (((a @ p[0]).clamp(min=0) @ p[1] - b) ** 2).sum()),
                           in_dims=(None, 0, 0))
        rows.append(("torch.func.vmap(grad)", time_per_call(lambda: torch_grads(torch_params, tx, ty))))
    except ImportError:
        print("(PyTorch is not installed: no torch.func row)")
    return rows


def jacobian_fn(np_module):
    rng = np.random.default_rng(1)
    a = rng.standard_normal((JACOBIAN_ROWS, JACOBIAN_COLUMNS))

    def fn(w):
        return np_module.tanh(a @ w) * np_module.sum(w ** 2)
    return fn, rng.standard_normal(JACOBIAN_COLUMNS)


def jacobian_rows():
    fn, w = jacobian_fn(np)
    rows = [(f"sg.jacrev ({JACOBIAN_ROWS}x{JACOBIAN_COLUMNS})", time_per_call(
        lambda: sg.jacrev(fn)(w))),
            (f"sg.jacfwd ({JACOBIAN_ROWS}x{JACOBIAN_COLUMNS})", time_per_call(
                lambda: sg.jacfwd(fn)(w)))]
    assert np.allclose(sg.jacrev(fn)(w), sg.jacfwd(fn)(w))
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        print("(JAX is not installed: no JAX rows)")
        return rows
    jax.config.update("jax_enable_x64", True)
    jax_fn, _ = jacobian_fn(jnp)
    for name, transform in (("jacrev", jax.jacrev), ("jacfwd", jax.jacfwd)):
        compiled = jax.jit(transform(jax_fn))
        compiled(w).block_until_ready()
        rows.append((f"JAX jit({name})", time_per_call(lambda: compiled(w).block_until_ready())))
    return rows


def main():
    print_table("Per-example gradients of W1, batch 64 (float32; issue 21: <= 1.0x JAX)",
                per_example_rows(), "sg.vmap(sg.grad)", "JAX jit(vmap(grad))")
    rows = hvp_rows()
    print_table("Hessian-vector product of W1's loss (float32; issue 21: <= 3x one gradient)",
                rows, "W1 grad (sg.grad)")
    print_table("Jacobians (float64)", jacobian_rows(),
                f"sg.jacrev ({JACOBIAN_ROWS}x{JACOBIAN_COLUMNS})")


if __name__ == "__main__":
    main()
