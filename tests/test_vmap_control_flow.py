"""sg.vmap of the control-flow nodes (symgrad/core/ops/control_batching.py): every loop kind
equals a Python loop over the examples, with batched and shared carries, xs, captured
values, predicates and indices; nested vmap; vmap(grad) through loops; inside jit and train."""
import numpy as np
import pytest

import symgrad as sg

from conftest import assert_same

REF = "reference"
RNG = np.random.default_rng(3)
XS = RNG.uniform(0.2, 1.5, (4, 3))
WS = RNG.uniform(-1, 1, (4, 3))


def looped(fn, *args, in_axes=0):
    """``fn`` on each example in Python, the results stacked (the meaning of vmap)."""
    axes = in_axes if isinstance(in_axes, tuple) else (in_axes,) * len(args)
    size = next(np.shape(a)[d] for a, d in zip(args, axes) if d is not None)
    rows = [fn(*[a if d is None else np.take(a, i, axis=d) for a, d in zip(args, axes)])
            for i in range(size)]
    return tuple(np.stack(column) for column in zip(*rows)) if isinstance(rows[0], tuple) \
        else np.stack(rows)


def fori(w, x):
    return sg.fori_loop(0, 3, lambda i, c: np.sin(c) * w + c * i, x)


def fori_traced_bound(n, x):          # a batched bound: a while loop with a batched predicate
    return sg.fori_loop(0, n, lambda i, c: c * 1.5 + i, x)


def scan(w, xs):
    return sg.scan(lambda c, x: (np.tanh(c * w + x), c * x), np.ones(3), xs)


def scan_shared_init(w, xs):          # the carry starts shared and becomes batched
    return sg.scan(lambda c, x: (c + w * x, np.sum(c)), np.zeros(3), xs, reverse=True)[0]


def while_own_trips(x):               # every example stops at its own trip count
    return sg.while_loop(lambda c: np.sum(c) < 40.0, lambda c: c * 1.5, x, max_trips=30)


def while_shared_predicate(w, x):     # the predicate reads only the shared counter
    return sg.while_loop(lambda c: c[0] < 4, lambda c: (c[0] + 1, np.cos(c[1]) * w), (0, x),
                         max_trips=10)[1]


def cond(x):
    return sg.cond(np.sum(x) > 2.0, np.sin, lambda a: a * a, x)


def cond_shared_predicate(w, x):
    return sg.cond(np.sum(w) > 0.0, lambda a: a * w, lambda a: a - w, x)


def switch(i, x):
    return sg.switch(i, [np.sin, np.cos, lambda a: a * 3.0], x)


CASES = [
    (fori, (WS, XS), 0),
    (fori, (WS[0], XS), (None, 0)),
    (fori, (WS.T, XS), (1, 0)),
    (fori_traced_bound, (np.array([0, 3, 1, 5]), XS), 0),
    (scan, (WS[0], RNG.uniform(size=(4, 5, 3))), (None, 0)),
    (scan, (WS, RNG.uniform(size=(5, 4, 3))), (0, 1)),
    (scan_shared_init, (WS, RNG.uniform(size=(6, 3))), (0, None)),
    (while_own_trips, (XS * np.array([[1.0], [8.0], [0.3], [3.0]]),), 0),
    (while_shared_predicate, (WS, XS), 0),
    (while_shared_predicate, (WS[1], XS), (None, 0)),
    (cond, (XS * np.array([[1.0], [0.2], [3.0], [0.5]]),), 0),
    (cond_shared_predicate, (WS[2], XS), (None, 0)),
    (cond_shared_predicate, (WS, XS[0]), (0, None)),
    (switch, (np.array([0, 2, 1, 7]), XS), 0),
    (switch, (1, XS), (None, 0)),
]
IDS = [f"{fn.__name__}-{axes}" for fn, _, axes in CASES]


@pytest.mark.parametrize("fn, args, in_axes", CASES, ids=IDS)
def test_vmap_equals_a_python_loop(fn, args, in_axes):
    assert_same(sg.vmap(fn, in_axes, backend=REF)(*args), looped(fn, *args, in_axes=in_axes),
                rtol=1e-12, atol=1e-12)


DIFFERENTIABLE = [case for case in CASES if case[0] not in (switch, fori_traced_bound)]


@pytest.mark.parametrize("fn, args, in_axes", DIFFERENTIABLE,
                         ids=[f"{fn.__name__}-{axes}" for fn, _, axes in DIFFERENTIABLE])
def test_per_example_gradients_through_loops(fn, args, in_axes):
    last = len(args) - 1

    def loss(*a):
        out = fn(*a)
        return np.sum(out[0] if isinstance(out, tuple) else out)
    per_example = sg.grad(loss, argnums=last, backend=REF)
    assert_same(sg.vmap(per_example, in_axes, backend=REF)(*args),
                looped(per_example, *args, in_axes=in_axes), rtol=1e-10, atol=1e-12)


def test_batched_predicate_keeps_finished_examples_carries():
    counts = sg.vmap(lambda x: sg.while_loop(lambda c: c[1] < 10.0, lambda c: (c[0] + 1, c[1] * 2),
                                             (0, x))[0], backend=REF)(np.array([1.0, 3.0, 20.0]))
    assert counts.tolist() == [4, 2, 0]


def test_nested_vmap_through_a_scan():
    xs = RNG.uniform(size=(2, 4, 5, 3))
    inner = sg.vmap(lambda w, x: scan(w, x)[0], in_axes=(None, 0))
    out = sg.vmap(inner, in_axes=(0, 0), backend=REF)(WS[:2], xs)
    assert_same(out, np.stack([[scan(WS[i], xs[i, j])[0] for j in range(4)] for i in range(2)]))


def test_vmap_of_a_loop_is_one_batched_loop_node_with_a_nested_body():
    graph = sg.trace(sg.vmap(fori, in_axes=(None, 0)), WS[0], XS)
    ops = [graph.op(n) for n in graph.nodes()]
    assert ops.count("scan") == 1 and "getitem" not in ops
    listing = graph.listing(show_sources=True)
    assert "batched over 4" in listing and "test_vmap_control_flow.py" in listing
    loop = next(n for n in graph.nodes() if graph.op(n) == "scan")
    assert graph[loop]["params"]["body"].name.startswith("batched_")
    picture = sg.viz.to_dot(graph)
    assert 'subgraph "cluster_n' in picture and "batched over 4" in picture


@pytest.mark.numba
def test_compiled_vmap_of_grad_through_loops_equals_the_reference():
    def both(w, x):
        value = np.sum(fori(w, x)) + np.sum(while_own_trips(x)) + np.sum(cond(x))
        return value, sg.grad(lambda v: np.sum(fori(w, v)) + np.sum(cond(v)))(x)
    mapped = sg.jit(sg.vmap(both, in_axes=(None, 0)))
    expected = sg.vmap(both, in_axes=(None, 0), backend=REF)(WS[0], XS)
    assert_same(mapped(WS[0], XS), expected, rtol=1e-10, atol=1e-12)


@pytest.mark.numba
def test_a_train_step_with_per_example_gradients_through_a_loop():
    def step(w, x):
        per_example = sg.vmap(sg.grad(lambda w, row: np.sum(fori(w, row) ** 2)),
                              in_axes=(None, 0))(w, x)
        return w - 0.01 * per_example.mean(axis=0), np.sum(fori(w, x[0]) ** 2)

    w, history = sg.train(step, WS[0].copy(), data=(XS,), steps=2, progress=False)
    expected = WS[0].copy()
    gradient = sg.grad(lambda w, row: np.sum(fori(w, row) ** 2), backend=REF)
    for _ in range(2):
        expected = expected - 0.01 * np.mean([gradient(expected, row) for row in XS], axis=0)
    assert_same(w, expected, rtol=1e-10)
    assert len(history) == 2
