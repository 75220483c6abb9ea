"""The interpreter tier (symgrad/tiers.py): a new graph answers from the reference
interpreter while a background thread compiles it, then from compiled code. Compile-count
tests, not timing tests: the background job is waited for explicitly."""
import json
import threading
import warnings

import numpy as np
import pytest

import symgrad as sg
from symgrad import tiers
from conftest import assert_same

pytestmark = pytest.mark.numba


def the_tier(transformed):
    (staged,) = transformed.cache.values()
    assert isinstance(staged.run, tiers.TieredGraph)
    return staged.run


def loss(w, x):
    return np.sum(np.tanh(x @ w) ** 2 + 0.5 * w[0])


W, X = np.linspace(-1.0, 1.0, 6).reshape(3, 2), np.arange(12.0).reshape(4, 3) / 10


def test_first_call_is_interpreted_later_calls_compiled_with_equal_results(compile_in_background):
    gradient = sg.grad(lambda w, x: loss(w, x) * 1.0)
    first = gradient(W, X)
    tier = the_tier(gradient)
    assert tier.built is None or not tier.ready     # answered before the compile finished
    assert tier.wait_until_compiled(timeout=120)
    later = gradient(W, X)
    assert_same(first, sg.grad(loss, backend="reference")(W, X))
    assert_same(later, first)
    gradient(W, X)
    assert compile_in_background == ["process"]       # compiled once, by a compile process
    assert tier.built.ready                           # loaded from the disk cache it filled


def test_without_a_disk_cache_the_background_thread_compiles(compile_in_background, monkeypatch):
    monkeypatch.setenv("SYMGRAD_CACHE", "0")
    gradient = sg.grad(lambda w, x: loss(w, x) * 2.0)
    first = gradient(W, X)
    assert the_tier(gradient).wait_until_compiled(timeout=120)
    assert_same(gradient(W, X), first)
    assert len(compile_in_background) == 1 and compile_in_background != ["process"]


def test_a_graph_that_does_not_pickle_compiles_in_this_process(compile_in_background):
    from symgrad import background_compile
    assert background_compile.payload("m", "f", (lambda: None,), ()) is None
    assert background_compile.payload("m", "f", (1,), ([np.ones((5, 2))],)) is not None


def test_second_order_graphs_switch_tiers_too(compile_in_background):
    hessian_diagonal = sg.grad(lambda x: np.sum(sg.grad(lambda y: np.sum(np.sin(y) ** 3))(x)))
    x = np.array([0.1, 0.5, 2.0])
    interpreted = hessian_diagonal(x)
    assert the_tier(hessian_diagonal).wait_until_compiled(timeout=120)
    assert_same(hessian_diagonal(x), interpreted)
    assert_same(interpreted, sg.grad(lambda x: np.sum(sg.grad(lambda y: np.sum(np.sin(y) ** 3))(x)),
                                     backend="reference")(x))


def test_a_failed_background_compile_warns_once_and_stays_on_the_interpreter(
        compile_in_background, monkeypatch):
    import symgrad.compiler

    def broken(graph, device="cpu"):
        raise RuntimeError("the code generator is broken")
    monkeypatch.setattr(symgrad.compiler, "compile_graph", broken)
    double = sg.jit(lambda x: x * 2.0 + 1.0)
    assert_same(double(np.ones(3)), np.full(3, 3.0))
    tier = the_tier(double)
    assert not tier.wait_until_compiled(timeout=60)
    with pytest.warns(RuntimeWarning, match="in the background failed.*RuntimeError: the code "
                                             "generator is broken.*reference interpreter"):
        assert_same(double(np.ones(3)), np.full(3, 3.0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert_same(double(np.zeros(3)), np.full(3, 1.0))       # warned once, not per call
    with pytest.raises(RuntimeError, match="broken"):
        double.compiled(np.ones(3))                             # asked for, the error itself


def test_the_compiled_object_waits_for_the_background_compile(compile_in_background):
    cube = sg.jit(lambda x: x ** 3)
    cube(np.ones(2))
    assert "def run" in cube.compiled(np.ones(2)).source


def test_waiting_is_the_default_when_switched_off(monkeypatch, tmp_path):
    monkeypatch.setenv("SYMGRAD_COMPILE_IN_BACKGROUND", "0")
    square = sg.jit(lambda x: x * x)
    square(np.ones(2))
    (staged,) = square.cache.values()
    assert not isinstance(staged.run, tiers.TieredGraph) and staged.run.ready


def test_the_disk_cache_entry_written_in_the_background_is_whole(compile_in_background, tmp_path):
    gradient = sg.grad(lambda w, x: loss(w, x) * 3.0)
    gradient(W, X)
    assert the_tier(gradient).wait_until_compiled(timeout=120)
    assert sg.cache.info()["entries"] == 1
    (manifest,) = tmp_path.glob("symgrad_*.json")
    assert json.loads(manifest.read_text())["files"], "the manifest lists numba's files"


def test_jobs_run_in_order_and_report_errors():
    order, gate = [], threading.Event()
    first = tiers.in_background(lambda: (gate.wait(30), order.append(1)), "first")
    second = tiers.in_background(lambda: order.append(2) or 1 / 0, "second")
    gate.set()
    assert second.wait(30) and first.done() and order == [1, 2]
    assert first.error is None and isinstance(second.error, ZeroDivisionError)


def test_an_eager_backward_compiles_in_the_background_and_keeps_answering(compile_in_background):
    from symgrad.eager.tape import compiled_backward
    w = sg.tensor(W, requires_grad=True)

    def backward_once():
        w.grad = None
        loss = (sg.tensor(X) @ w).tanh().sum()
        loss.backward()
        return loss, w.grad.numpy().copy()
    grads = [backward_once()[1] for _ in range(3)]      # use 2 starts the compile; 3 waits not
    loss, _ = backward_once()
    from symgrad.eager.tape import Tape
    tiered = compiled_backward(Tape(loss), loss, [w])
    assert tiered.tier.wait_until_compiled(timeout=120)
    grads.append(backward_once()[1])
    assert tiered.compiled is tiered.tier.built and compile_in_background == ["process"]
    for gradient in grads[1:]:
        assert_same(gradient, grads[0])


def test_a_failed_compile_process_says_why():
    from symgrad import background_compile
    with pytest.raises(RuntimeError, match="compile process exited with status 1: .*Unpickling"):
        background_compile.compile_in_child(b"not a pickle")
