"""The backend: passes (compiler/passes/cse.py, dce.py, fold.py, simplify.py, fuse.py), the
Numba CPU code generator (compiler/codegen/numba_cpu.py), the module cache (compiler/cache.py)
and the BLAS thread setting (compiler/blas_threads.py)."""
import os

import numpy as np

import symgrad as sg
from compiler import compile_graph
from compiler.codegen import numba_cpu
from compiler.passes import optimize, plan_fusion
from compiler.passes.cse import eliminate_common_subexpressions
from compiler.passes.dce import eliminate_dead_code
from compiler.passes.fold import fold_constants
from compiler.passes.simplify import simplify
from symgrad.ops.registry import OPS


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
    assert "gemm(1.0, " in source and ".T" in source and "np.transpose" not in source
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


def test_blas_threads_are_settled_one_for_eager_numpy_every_core_for_compiled_code():
    """numpy's OpenBLAS gets one thread, scipy's own (the one compiled code calls) every
    core, so only one pool of threads spins; a function on numba's threads runs with it on
    one thread."""
    from threadpoolctl import threadpool_info
    from compiler.blas_threads import _compiled_blas, one_blas_thread
    sg.jit(lambda a, b: a @ b)(np.ones((2, 2)), np.ones((2, 2)))
    compiled = {library.filepath for library in _compiled_blas}
    counts = {info["filepath"] in compiled: info["num_threads"]
              for info in threadpool_info() if info["user_api"] == "blas"}
    assert counts[False] == int(os.environ.get("SYMGRAD_BLAS_THREADS", "1"))
    every_core = int(os.environ.get("SYMGRAD_LOOP_BLAS_THREADS", str(os.cpu_count())))
    assert counts.get(True, every_core) == every_core
    with one_blas_thread():
        assert all(library.num_threads == 1 for library in _compiled_blas)
    assert all(library.num_threads == every_core for library in _compiled_blas)
