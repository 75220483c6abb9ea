"""Data-parallel training across MPI ranks (symgrad.distributed, nn.parallel, sg.train's
distributed=True; the all_reduce_mean lowering in compiler/cpu/collectives.py and its runtime
collectives.py), run as ``mpiexec -n 2`` jobs from here (skipped without mpi4py and mpiexec):
two ranks on halves of every batch train the same weights as one process on the whole batches,
eager DDP equals compiled, and a failing rank ends the job with its error."""
import os
import pathlib
import shutil
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("mpi4py")
pytest.importorskip("numba_mpi")
HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
MPIEXEC = shutil.which("mpiexec", path=f"{pathlib.Path(sys.executable).parent}{os.pathsep}"
                                       f"{os.environ.get('PATH', '')}")
pytestmark = pytest.mark.skipif(MPIEXEC is None, reason="no mpiexec (pip install mpich)")
# the jobs compile their loops in memory on each rank (numba cannot cache MPI calls):
# minutes on a loaded machine; a hang is what the limits are for
TRAINING_LIMIT_S, FAULT_LIMIT_S = 900, 120


def environment():
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path, "OMP_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1"}


def start(ranks, program, *arguments):
    command = [sys.executable, str(HERE / program), *arguments]
    if ranks:
        command = [MPIEXEC, "-n", str(ranks), *command]
    return subprocess.Popen(command, env=environment(), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def finish(process, limit):
    try:
        output, _ = process.communicate(timeout=limit)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
        pytest.fail(f"the job did not end within {limit} s (a hang):\n{output[-3000:]}")
    return process.returncode, output


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Rank 0's results of the 2-rank job and those of one process, run side by side."""
    folder = tmp_path_factory.mktemp("data_parallel")
    jobs = {ranks: start(ranks, "data_parallel_program.py", str(folder / f"{ranks}.npz"))
            for ranks in (2, 0)}
    results = {}
    for ranks, job in jobs.items():
        code, output = finish(job, TRAINING_LIMIT_S)
        assert code == 0, output[-3000:]
        results[ranks] = dict(np.load(folder / f"{ranks}.npz"))
    return results


TRAINERS = ["functional_sgd_momentum", "functional_adam", "torch_sgd", "torch_momentum_ddp",
            "torch_adam_ddp", "torch_momentum_ddp_eager"]


@pytest.mark.parametrize("name", TRAINERS)
def test_two_ranks_on_half_batches_equal_one_process_on_whole_batches(trained, name):
    two, one = trained[2], trained[0]
    assert (int(two["world"]), int(one["world"])) == (2, 1)
    keys = [key for key in one if key.startswith(name + "/")]
    assert len(keys) >= 2
    # weights, and the loss history: the ranks' mean equals the loss on the whole batch
    for key in keys:
        np.testing.assert_allclose(two[key], one[key], rtol=1e-5, atol=1e-6, err_msg=key)


def test_the_gradients_are_averaged_inside_the_compiled_loop(trained):
    assert list(trained[2]["loop_calls_mpi"]) == [True]      # numba-mpi, called from njit
    assert list(trained[0]["loop_calls_mpi"]) == [False]     # one process: no MPI at all


def test_the_example_trains_the_same_on_two_ranks_as_on_one():
    example = str(ROOT / "examples" / "w1_data_parallel.py")
    jobs = [subprocess.Popen(launcher + [sys.executable, example, "--steps", "3"],
                             env=environment(), stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
            for launcher in ([MPIEXEC, "-n", "2"], [])]
    losses = []
    for job in jobs:
        code, output = finish(job, TRAINING_LIMIT_S)
        assert code == 0, output[-3000:]
        line = next(line for line in output.splitlines() if "rank(s): loss" in line)
        losses.append([float(word) for word in line.split() if word[0].isdigit() and "." in word])
    assert output.count("rank(s): loss") == 1 and "2 rank(s)" not in output
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-5)
    assert losses[1][1] < losses[1][0]


def test_ddp_eager_loop_equals_the_compiled_loop(trained):
    for ranks in (2, 0):
        eager = {k.split("/")[1]: v for k, v in trained[ranks].items()
                 if k.startswith("torch_momentum_ddp_eager/")}
        for position, value in eager.items():
            np.testing.assert_allclose(value, trained[ranks][f"torch_momentum_ddp/{position}"],
                                       rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("case, message", [
    ("rank_raises", "ValueError: rank 1 got bad input"),
    ("params_differ", "params differ between rank 0 and rank 1: params leaf 0 has other values"),
    ("model_differs", "weight is float32[1, 2] on rank 0, float32[1, 3] there"),
    ("sampler_too_small", "a dataset of 1 samples split over 2 ranks with drop_last=True gives "
                          "rank 1 no samples"),
])
def test_a_failing_rank_ends_every_rank_with_its_error(case, message):
    code, output = finish(start(2, "fault_program.py", case), FAULT_LIMIT_S)
    assert code != 0
    assert message in output
    assert "aborting every rank" in output
    assert "no error" not in output
