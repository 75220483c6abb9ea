"""The backend: passes (compiler/passes/cse.py, dce.py, fold.py, simplify.py, fuse.py), the
Numba CPU code generator (compiler/cpu/lowering.py), the module cache (compiler/disk_cache/store.py)
and the BLAS thread setting (compiler/cpu/blas_threads.py)."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import symgrad as sg
from symgrad.compiler import compile_graph
from symgrad.compiler.cpu import lowering as numba_cpu
from symgrad.compiler.passes import optimize, plan_fusion
from symgrad.compiler.passes.cse import eliminate_common_subexpressions
from symgrad.compiler.passes.dce import eliminate_dead_code
from symgrad.compiler.passes.fold import fold_constants
from symgrad.compiler.passes.simplify import simplify
from symgrad.core.ops.registry import OPS


def ops_of(graph):
    return sorted(graph.op(n) for n in graph.nodes())


def test_dce_drops_unused_nodes_and_keeps_inputs():
    graph = sg.trace(lambda x, y: (np.exp(x), np.sin(x))[0], np.ones(3), np.ones(3))
    assert eliminate_dead_code(graph)
    assert ops_of(graph) == ["exp", "input", "input"]


def test_cse_merges_identical_computations():
    graph = sg.trace(lambda x: np.exp(x) + np.exp(x), np.ones(3))
    assert eliminate_common_subexpressions(graph)
    eliminate_dead_code(graph)
    assert ops_of(graph) == ["add", "exp", "input"]


def test_fold_computes_constant_subgraphs_but_does_not_grow_data():
    graph = sg.trace(lambda x: x * (np.float64(2.0) * 3.0) + np.ones(4) * 0, np.ones(4))
    while fold_constants(graph):
        pass
    eliminate_dead_code(graph)
    constants = [graph[n]["params"]["value"] for n in graph.nodes() if graph.op(n) == "constant"]
    assert any(c.shape == () and c == 6.0 for c in constants)


def test_simplify_removes_identities_and_squares_powers():
    graph = sg.trace(lambda x: (x * 1.0 + 0.0) ** 2, np.ones(3))
    optimize(graph)
    assert ops_of(graph) == ["input", "square"]


def test_simplify_bypasses_broadcasts_feeding_elementwise_ops():
    graph = sg.trace(lambda x, b: x * np.broadcast_to(b, (4, 3)), np.ones((4, 3)), np.ones(3))
    optimize(graph)
    assert "broadcast_to" not in ops_of(graph)


def test_fusion_puts_an_elementwise_chain_and_its_reduction_in_one_nest():
    graph = sg.trace(lambda x, y: np.sum(np.square(np.tanh(x) - y)), np.ones((5, 4)), np.ones((5, 4)))
    optimize(graph)
    plan = plan_fusion(graph)
    assert len(plan.nests) == 1
    (nest,) = plan.nests
    assert graph.op(nest.reduction) == "sum"
    assert [graph.op(m) for m in nest.members] == ["tanh", "sub", "square"]


def test_fusion_materializes_values_used_twice_in_different_nests():
    graph = sg.trace(lambda x, w: np.maximum(x, 0) @ w + np.maximum(x, 0).sum(),
                     np.ones((3, 4)), np.ones((4, 2)))
    optimize(graph)
    plan = plan_fusion(graph)
    relu = next(n for n in graph.nodes() if graph.op(n) == "maximum")
    assert plan.emits_at(relu) is not None     # stored: matmul and the sum both read it


def test_every_op_has_a_cpu_lowering():
    assert set(OPS) - set(numba_cpu.LOWERINGS) == set()


def test_generated_source_uses_blas_with_transposes_as_views():
    loss = lambda w, x: np.sum((x @ w) ** 2)  # noqa: E731
    compiled = sg.grad(loss).compiled(np.ones((4, 3)), np.ones((5, 4)))
    source = compiled.source
    assert "outlined(gemm, (1.0, " in source and ".T" in source and "np.transpose" not in source
    assert source.count("@numba.njit(cache=True") == 1


def test_compiled_module_is_a_real_file_named_by_its_source_hash(tmp_path, monkeypatch):
    monkeypatch.setenv("SYMGRAD_CACHE_DIR", str(tmp_path))
    graph = sg.trace(lambda x: np.cos(x) * 3.0 + 0.25, np.ones(2))
    compiled = compile_graph(graph)
    files = [f for f in os.listdir(tmp_path) if f.endswith(".py")]
    assert len(files) == 1 and open(tmp_path / files[0]).read() == compiled.source
    np.testing.assert_allclose(compiled(np.zeros(2))[0], [3.25, 3.25])


def test_outputs_never_alias_inputs():
    x = np.arange(6.0).reshape(2, 3)
    out = sg.jit(lambda a: (a, a.T, a[0]))(x)
    out[0][0, 0] = 100.0
    out[1][0, 0] = 100.0
    assert x[0, 0] == 0.0
    assert out[1].flags.c_contiguous


def test_scalar_outputs_are_zero_dimensional_arrays_with_the_graph_dtype():
    value = sg.jit(lambda a: np.sum(a))(np.ones(3, np.float32))
    assert isinstance(value, np.ndarray) and value.shape == () and value.dtype == np.float32


BLAS_POLICY = """
import json, os, numpy
from threadpoolctl import threadpool_info
import symgrad.compiler.cpu.blas_threads as b
def counts():
    compiled = {library.filepath for library in b._compiled_blas}
    return {str(info["filepath"] in compiled): info["num_threads"]
            for info in threadpool_info() if info["user_api"] == "blas"}
b.settle_blas_threads()
settled = counts()
with b.on_numba_threads():
    during = counts()
print(json.dumps([settled, during, counts()]))
"""


def test_blas_threads_one_for_eager_numpy_every_core_for_compiled_code_until_numba_s_threads():
    """numpy's OpenBLAS gets one thread, scipy's own (the one compiled code calls) every
    core, so only one pool of threads spins; from the first function on numba's threads on,
    compiled code's BLAS has one thread too (a new process: the policy is per process)."""
    out = subprocess.run([sys.executable, "-c", BLAS_POLICY], capture_output=True, text=True,
                         check=True, cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))).stdout
    settled, during, after = json.loads(out)
    eager = int(os.environ.get("SYMGRAD_BLAS_THREADS", "1"))
    every_core = int(os.environ.get("SYMGRAD_LOOP_BLAS_THREADS", str(os.cpu_count())))
    assert settled["False"] == eager and settled.get("True", every_core) == every_core
    assert during.get("True", 1) == after.get("True", 1) == 1 and after["False"] == eager


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("a_order, b_order", [("C", "C"), ("F", "C"), ("C", "F"), ("F", "F")])
def test_eager_2d_float_products_run_on_compiled_code_s_blas_and_equal_numpy(
        dtype, a_order, b_order, monkeypatch):
    from symgrad.compiler.cpu import blas_threads
    from symgrad.compiler.cpu.blas_threads import eager_matmul, settle_blas_threads
    settle_blas_threads()
    monkeypatch.setattr(blas_threads, "_compiled_blas_threads", [2])  # before numba's threads
    rng = np.random.default_rng(0)
    a = np.asarray(rng.standard_normal((5, 7)), dtype, order=a_order)
    b = np.asarray(rng.standard_normal((7, 3)), dtype, order=b_order)
    product = eager_matmul(a, b)
    assert product.dtype == dtype and product.flags.c_contiguous
    np.testing.assert_allclose(product, a @ b, rtol=1e-5 if dtype == np.float32 else 1e-12)
    np.testing.assert_allclose(sg.ops.matmul(a, b), a @ b, rtol=1e-5 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("a, b", [
    (np.ones((2, 3), np.int64), np.ones((3, 2), np.int64)),        # not float
    (np.ones((2, 3), np.float32), np.ones((3, 2))),                 # mixed dtypes
    (np.ones((4, 2, 3)), np.ones((3, 2))),                          # batched
    (np.ones((4, 6))[:, ::2], np.ones((3, 2))),                     # neither C nor F
    (np.ones((0, 3)), np.ones((3, 2))),                             # empty
    (np.ones((2, 3)), np.ones((4, 2))),                             # shapes that do not align
])
def test_other_eager_products_are_left_to_numpy(a, b, monkeypatch):
    from symgrad.compiler.cpu import blas_threads
    from symgrad.compiler.cpu.blas_threads import eager_matmul, settle_blas_threads
    settle_blas_threads()
    monkeypatch.setattr(blas_threads, "_compiled_blas_threads", [2])
    assert eager_matmul(a, b) is None


def test_a_backward_recomputes_transposes_instead_of_reading_their_eager_values():
    """nn.Linear's ``weight.t()`` is an F-ordered array eagerly; the gradient graph takes the
    transpose of the weight instead, so that input goes unread."""
    from symgrad.eager import tape
    linear = sg.nn.Linear(4, 3)
    out = linear(sg.tensor(np.ones((2, 4), np.float32))).sum()
    recorded = tape.Tape(out)
    graph = tape.build_gradient_graph(recorded, out, list(linear.parameters()))
    transposed = [t for t in recorded.tensors if t.detach().numpy().flags.f_contiguous
                  and not t.detach().numpy().flags.c_contiguous]
    assert len(transposed) == 1
    assert graph.users(graph.inputs[recorded.index[id(transposed[0])]]) == []
    assert "transpose" in {graph.op(n) for n in graph.topological_order()}


def test_unread_inputs_get_stand_ins_and_outputs_that_are_inputs_are_returned():
    from symgrad.core.graph import Graph
    graph = Graph("unread")
    a, unread, b = (graph.add_input((3, 2), "float32") for _ in range(3))
    graph.outputs = [graph.add_node("add", [a, b], (3, 2), "float32"), b]
    compiled = compile_graph(graph)
    assert set(compiled.stand_ins) == {1}
    values = [np.full((3, 2), v, np.float32) for v in (1.0, 7.0, 2.0)]
    total, same = compiled(values[0], np.asfortranarray(np.ones((2, 3), np.float32)).T, values[2])
    np.testing.assert_array_equal(total, 3.0)
    np.testing.assert_array_equal(same, 2.0)
