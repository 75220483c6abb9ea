"""The CUDA backend, tested without a GPU: the generator compiler/cuda/lowering.py and its
modules (kernel.py, nests.py, reduce.py, matmul.py, conv.py, data.py, the scalar math of
device_math.py, the loop kernels of loop_kernels.py), the host side compiler/cuda/host.py
and compiler/cuda/training_loop.py, and tensors on the device (symgrad/eager/device.py,
symgrad/nn/conversion.py).

- Results: tests/compiler/cuda_simulator_cases.py runs graphs and training loops
  (compiler/cuda/training_loop.py) with ``device="cuda"`` under numba's CUDA simulator in a
  subprocess (numba reads ``NUMBA_ENABLE_CUDASIM`` when numba.cuda is first imported) and
  compares them with the reference interpreter and the CPU backend.
- The real compiler: every kernel of a few graphs is compiled to PTX for sm_90 by
  numba-cuda's NVVM, which needs no GPU.
- Coverage: every op of the registry has a CUDA lowering; an op without one fails at compile
  time with an error naming it.

Everything is skipped when numba-cuda is not installed (``pip install -e ".[cuda]"``).
"""
import importlib.util
import os
import subprocess
import sys

import numpy as np
import pytest

import symgrad as sg
from symgrad.compiler.cuda import host as cuda
from symgrad.compiler.passes import optimize_for_codegen
from symgrad.compiler.codegen.internal_error import CodegenError, MissingLoweringError
from symgrad.compiler.cpu import lowering as numba_cpu
from symgrad.compiler.cuda import lowering as numba_cuda

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

needs_numba_cuda = pytest.mark.skipif(importlib.util.find_spec("numba_cuda") is None,
                                      reason="numba-cuda is not installed (pip install -e '.[cuda]')")

sys.path.insert(0, HERE)
import cuda_simulator_cases as cases  # noqa: E402


def _run(command, tmp_path, simulator):
    """Run ``python *command`` from the repository root with a cache folder of its own,
    with or without the CUDA simulator."""
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    env["SYMGRAD_CACHE_DIR"] = str(tmp_path / "cache")
    if simulator:
        env["NUMBA_ENABLE_CUDASIM"] = "1"
    return subprocess.run([sys.executable, *command], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)


@pytest.fixture(scope="module")
def simulator_results(tmp_path_factory):
    """``case name -> (passed, report)`` from one simulator subprocess running every case."""
    tmp_path = tmp_path_factory.mktemp("cudasim")
    done = _run([os.path.join(HERE, "cuda_simulator_cases.py")], tmp_path, simulator=True)
    results, current = {}, None
    for line in done.stdout.splitlines():
        if line.startswith(("PASS ", "FAIL ")):
            name = line[5:].split(":", 1)[0]
            current = results[name] = [line.startswith("PASS"), line]
        elif current is not None:
            current[1] += "\n" + line
    return results, done.stderr[-4000:]


@needs_numba_cuda
@pytest.mark.parametrize("case", [*cases.CASES, *cases.SCENARIOS])
def test_simulator_matches_reference(simulator_results, case):
    results, stderr = simulator_results
    assert case in results, f"the simulator run did not reach {case}:\n{stderr}"
    passed, report = results[case]
    assert passed, report


PTX_CASES = ["elementwise_float32", "reductions", "split_reductions", "matmuls", "shape_ops",
             "w1_value_and_grad_float32", "convolutions_grad", "poolings_second_order"]


@needs_numba_cuda
@pytest.mark.parametrize("case", PTX_CASES)
def test_every_kernel_compiles_to_ptx(case):
    from numba.core import config
    if config.ENABLE_CUDASIM:
        pytest.skip("the simulator has no compiler (run without NUMBA_ENABLE_CUDASIM)")
    transform, fn, args, _ = cases.CASES[case]
    graph = transform(fn, device="cuda").trace(*args)
    compiled = cuda.compile_graph(graph, optimize_for_codegen(graph))   # no GPU asked for
    assert "@cuda.jit" in compiled.source and "def setup(" in compiled.source
    ptx = compiled.ptx(cc=(9, 0))
    assert set(ptx) == set(compiled.module.SIGNATURES) and ptx
    for name, text in ptx.items():
        assert ".target sm_90" in text and ".entry" in text, name


@needs_numba_cuda
def test_training_loop_kernels_compile_to_ptx():
    from numba.core import config
    if config.ENABLE_CUDASIM:
        pytest.skip("the simulator has no compiler (run without NUMBA_ENABLE_CUDASIM)")
    from symgrad.compiler.cuda import loop_kernels as cuda_loop_kernels
    ptx = cuda.compile_ptx(cuda_loop_kernels.signatures(), cc=(9, 0))
    assert len(ptx) == 5
    for name, text in ptx.items():
        assert ".target sm_90" in text and ".entry" in text, name


def test_cuda_lowers_every_op_the_cpu_lowers():
    from symgrad.core.ops.registry import OPS
    assert set(OPS) - set(numba_cuda.LOWERINGS) == set()
    assert set(numba_cpu.LOWERINGS) <= set(numba_cuda.LOWERINGS)


def test_op_without_a_cuda_lowering_fails_at_compile_time_naming_it():
    graph = sg.Graph("odd")
    x = graph.add_input((2,), "float64")
    graph.outputs = [graph.add_node("fourier", [x], (2,), "float64")]
    with pytest.raises(NotImplementedError, match="cannot compile op 'fourier' .*device='cpu'"):
        numba_cuda.lower_graph(graph, plan=None)
    with pytest.raises(CodegenError, match="the CUDA backend cannot compile op 'fourier'"):
        numba_cuda.lower_graph(graph, plan=None)


@pytest.mark.parametrize("loop", [
    lambda i, x: sg.fori_loop(0, 3, lambda i, c: np.sin(c) * x, x),
    lambda i, x: sg.while_loop(lambda c: np.sum(c) < 9.0, lambda c: c * 2.0, x),
    lambda i, x: sg.switch(i, [np.sin, np.cos], x),
])
def test_control_flow_is_not_on_cuda_yet_and_the_error_names_the_users_line(loop):
    graph = sg.trace(loop, np.int64(1), np.ones(2))
    with pytest.raises(MissingLoweringError, match=r"cannot compile op '(scan|while|switch)'.*"
                                                   r"not on CUDA yet.*device='cpu'") as error:
        numba_cuda.lower_graph(graph, plan=None)
    assert "test_cuda.py" in str(error.value)


def test_unknown_device_is_refused_at_once():
    with pytest.raises(ValueError, match="unknown device 'tpu'.*'cpu', 'cuda'"):
        sg.jit(np.sum, device="tpu")


def test_reference_backend_runs_only_on_the_cpu():
    with pytest.raises(ValueError, match="backend='reference'.*device='cuda'"):
        sg.jit(np.sum, backend="reference", device="cuda")(np.ones(2))


@needs_numba_cuda
def test_without_gpu_or_simulator_the_error_says_so(tmp_path):
    code = ("import numpy as np, symgrad as sg\n"
            "from numba import cuda\n"
            "if cuda.is_available(): print('GPU'); raise SystemExit\n"
            "for attempt in (lambda: sg.grad(lambda x: np.sum(x * x), device='cuda')(np.ones(3)),\n"
            "                lambda: sg.tensor([1.0]).cuda(), lambda: sg.nn.Linear(2, 1).to('cuda')):\n"
            "    try:\n"
            "        attempt()\n"
            "    except RuntimeError as error:\n"
            "        print(type(error).__name__, error)\n")
    done = _run(["-c", code], tmp_path, simulator=False)
    if done.stdout.strip() == "GPU":
        pytest.skip("a GPU is visible here")
    lines = done.stdout.splitlines()
    assert len(lines) == 3, done.stdout + done.stderr
    for line in lines:
        assert line.startswith("CudaUnavailableError"), line
        assert "needs an NVIDIA GPU" in line and "NUMBA_ENABLE_CUDASIM=1" in line


def test_devices_are_named_as_in_pytorch():
    assert sg.device("cuda") == "cuda:0" and sg.device("cuda:1") != "cuda"
    assert str(sg.device("cuda", 0)) == "cuda:0" and sg.device("cpu").type == "cpu"
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        sg.device("tpu")
    x = sg.tensor([1.0, 2.0])
    assert x.device == "cpu" and not x.is_cuda and x.to("cpu") is x and x.cpu() is x
    assert x.to("cpu", sg.float64).dtype == np.float64
