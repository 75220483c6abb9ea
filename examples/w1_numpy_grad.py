"""W1, written as plain numpy (seed 002) and differentiated by symgrad.

The two-layer ReLU network trains for 500 steps of gradient descent; ``sg.grad`` replaces
the hand-derived backward pass. The demo trains it as one compiled loop (``sg.train``),
then as a Python loop calling ``sg.grad``, printing for each the compile time and the
steady-state time per step, and writes the graphs and generated code to ``graphs/``. Run: ``python examples/w1_numpy_grad.py``.
"""
import os
import time

import numpy as np

import symgrad as sg

N, D_in, H, D_out = 64, 1000, 100, 10


def loss(w1, w2, x, y):
    h = x.dot(w1)
    h_relu = np.maximum(h, 0)
    y_pred = h_relu.dot(w2)
    return np.square(y_pred - y).sum()


def train(steps=500, learning_rate=1e-6, seed=0, dtype=np.float32, report_every=100):
    rng = np.random.default_rng(seed)
    x, y = (rng.standard_normal(s).astype(dtype) for s in ((N, D_in), (N, D_out)))
    w1, w2 = (rng.standard_normal(s).astype(dtype) for s in ((D_in, H), (H, D_out)))
    value_and_grad = sg.value_and_grad(loss, argnums=(0, 1))
    history = []
    for step in range(steps):
        value, (grad_w1, grad_w2) = value_and_grad(w1, w2, x, y)
        history.append(float(value))
        if report_every and step % report_every == 0:
            print(f"step {step:4d}  loss {float(value):.6g}")
        w1 -= learning_rate * grad_w1
        w2 -= learning_rate * grad_w2
    return (w1, w2), history


def sgd_step(params, x, y, learning_rate=1e-6):
    """One gradient-descent step as a function: params in, new params and loss out."""
    value, (grad_w1, grad_w2) = sg.value_and_grad(loss, argnums=(0, 1))(*params, x, y)
    return (params[0] - learning_rate * grad_w1, params[1] - learning_rate * grad_w2), value


def train_compiled(steps=500, seed=0, dtype=np.float32, report_every=100):
    """The same 500 steps as one compiled loop (``sg.train``): forward, gradient and update
    fused into one native function that runs every step."""
    rng = np.random.default_rng(seed)
    x, y = (rng.standard_normal(s).astype(dtype) for s in ((N, D_in), (N, D_out)))
    params = tuple(rng.standard_normal(s).astype(dtype) for s in ((D_in, H), (H, D_out)))
    params, history = sg.train(sgd_step, params, data=(x, y), steps=steps, progress=False)
    for step in range(0, steps, report_every) if report_every else ():
        print(f"step {step:4d}  loss {history[step]:.6g}")
    return params, history


def write_graphs(folder="graphs"):
    """The traced forward graph and the gradient graph, as text listings and SVG pictures."""
    rng = np.random.default_rng(0)
    args = [rng.standard_normal(s).astype(np.float32)
            for s in ((D_in, H), (H, D_out), (N, D_in), (N, D_out))]
    os.makedirs(folder, exist_ok=True)
    graphs = {"w1_forward": sg.trace(loss, *args),
              "w1_gradient": sg.grad(loss, argnums=(0, 1)).trace(*args)}
    for name, graph in graphs.items():
        path = os.path.join(folder, f"{name}.txt")
        with open(path, "w") as file:
            file.write(graph.listing(show_sources=True) + "\n")
        print(f"wrote {path} ({len(graph)} nodes)")
        picture = sg.viz.export(graph, os.path.join(folder, f"{name}.svg"))
        print(f"wrote {picture.path} (drawn by {picture.renderer})")
    print(sg.viz.summary(graphs["w1_gradient"]))
    for loop in sg.compiled_loops(sgd_step)[-1:]:
        picture = sg.viz.export(loop.optimized, os.path.join(folder, "w1_train_step.svg"))
        print(f"wrote {picture.path}: the compiled training step (drawn by {picture.renderer})")
        path = os.path.join(folder, "w1_train_loop.py")
        with open(path, "w") as file:
            file.write(loop.source)
        print(f"wrote {path}: the generated training loop")


def timed(run, steps):
    """Seconds of a first run of ``run(steps)`` (compiling included) and of a second run
    (steady state: the compiled code is reused), and the second run's loss history."""
    start = time.perf_counter()
    run(steps)
    first = time.perf_counter() - start
    start = time.perf_counter()
    history = run(steps)
    return first, time.perf_counter() - start, history


def compare(steps=500, report_every=100):
    """Compile time and steady-state time per step, compiled loop against Python loop."""
    runs = {"compiled loop (sg.train)": lambda n: train_compiled(n, report_every=0)[1],
            "Python loop calling sg.grad": lambda n: train(n, report_every=0)[1]}
    for name, run in runs.items():
        first, steady, history = timed(run, steps)
        for step in range(0, steps, report_every or steps):
            print(f"  step {step:4d}  loss {history[step]:.6g}")
        print(f"{name}: compile {max(first - steady, 0.0):.2f} s, then "
              f"{steady / steps * 1e3:.3f} ms per step (final loss {history[-1]:.6g} "
              f"after {steps} steps)")


if __name__ == "__main__":
    # every call waits for its compiled code, so that the times separate compiling from running
    os.environ.setdefault("SYMGRAD_COMPILE_IN_BACKGROUND", "0")
    compare()
    write_graphs()
