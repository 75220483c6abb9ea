"""Data-parallel training over MPI: W1 (SGD) and W2 (Adam) at a global batch of 1024, on 1
and 2 ranks with threads per rank set so that ranks x threads = cores, symgrad's compiled
loop (``sg.train`` on a ``DistributedDataParallel`` model, gradients averaged inside the
loop through numba-mpi) against PyTorch's ``DistributedDataParallel`` on the gloo backend,
in the same run. Reports time per step (compile excluded), the all-reduce time per step
(the step's gradient bytes through the same collective, timed alone) and the ratios.

Run: ``python benchmarks/bench_distributed.py [--steps 30]`` (needs ``symgrad[mpi]``; torch
optional). Each configuration runs as one ``mpiexec`` job of this file in worker mode.
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

BATCH, D_in, H, D_out = 1024, 1000, 100, 10
WORKLOADS = ("W1", "W2")


def model_and_data(nn, manual_seed, randn):
    manual_seed(0)
    model = nn.Sequential(nn.Linear(D_in, H), nn.ReLU(), nn.Linear(H, D_out))
    return model, randn(BATCH, D_in), randn(BATCH, D_out)


def optimizer_for(optim, workload, params):
    return optim.SGD(params, lr=1e-6) if workload == "W1" else optim.Adam(params, lr=1e-4)


def gradient_elements():
    return D_in * H + H + H * D_out + D_out


def symgrad_times(workload, steps):
    """(seconds per step, seconds per all-reduce of the gradients) of sg.train on this rank."""
    import symgrad as sg
    import symgrad.distributed as dist
    net, x, y = model_and_data(sg.nn, sg.manual_seed, sg.randn)
    model = sg.nn.parallel.DistributedDataParallel(net)
    optimizer = optimizer_for(sg.optim, workload, model.parameters())
    loss_fn = sg.nn.MSELoss(reduction="sum")

    def step(x, y):
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        return loss
    sg.train(step, data=(x, y), steps=2, progress=False)            # compile
    dist.barrier()
    start = time.perf_counter()
    sg.train(step, data=(x, y), steps=steps, progress=False)
    per_step = (time.perf_counter() - start) / steps
    return per_step, _numba_all_reduce_seconds(dist.get_world_size())


def _numba_all_reduce_seconds(ranks, repeats=50):
    """The compiled loop's collective on the step's gradients (float32, one bucket)."""
    if ranks == 1:
        return 0.0
    import numba
    from symgrad.compiler.cpu.runtime.collectives import collective_all_reduce_mean

    @numba.njit
    def many(x, out, count):
        for _ in range(count):
            collective_all_reduce_mean(x, out)
    x = np.ones(gradient_elements(), np.float32)
    out = np.empty_like(x)
    many(x, out, 2)
    start = time.perf_counter()
    many(x, out, repeats)
    return (time.perf_counter() - start) / repeats


def torch_times(workload, steps, rank, ranks, threads):
    import torch
    import torch.distributed as tdist
    torch.set_num_threads(threads)
    tdist.init_process_group("gloo", init_method="tcp://127.0.0.1:29533", rank=rank,
                             world_size=ranks)
    net, x, y = model_and_data(torch.nn, torch.manual_seed, torch.randn)
    model = torch.nn.parallel.DistributedDataParallel(net)
    optimizer = optimizer_for(torch.optim, workload, model.parameters())
    loss_fn = torch.nn.MSELoss(reduction="sum")
    share = slice(rank * BATCH // ranks, (rank + 1) * BATCH // ranks)
    x, y = x[share], y[share]

    def run(count):
        for _ in range(count):
            optimizer.zero_grad()
            loss_fn(model(x), y).backward()
            optimizer.step()
    run(3)
    tdist.barrier()
    start = time.perf_counter()
    run(steps)
    per_step = (time.perf_counter() - start) / steps
    flat = torch.ones(gradient_elements())
    tdist.all_reduce(flat)
    start = time.perf_counter()
    for _ in range(50):
        tdist.all_reduce(flat)
    reduce = (time.perf_counter() - start) / 50 if ranks > 1 else 0.0
    tdist.destroy_process_group()
    return per_step, reduce


def worker(steps, threads):
    import symgrad.distributed as dist
    dist.init_process_group()
    rank, ranks = dist.get_rank(), dist.get_world_size()
    rows = []
    for workload in WORKLOADS:
        row = {"workload": workload, "ranks": ranks, "threads": threads}
        row["symgrad"], row["symgrad_reduce"] = symgrad_times(workload, steps)
        try:
            row["torch"], row["torch_reduce"] = torch_times(workload, steps, rank, ranks, threads)
        except ImportError:
            row["torch"] = row["torch_reduce"] = None
        rows.append(row)
    if rank == 0:
        print("RESULT " + json.dumps(rows))


def run_configuration(ranks, threads, steps):
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "NUMBA_NUM_THREADS": str(threads),
           "OPENBLAS_NUM_THREADS": str(threads), "SYMGRAD_COMPILE_IN_BACKGROUND": "0"}
    mpiexec = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    command = [mpiexec if os.path.exists(mpiexec) else "mpiexec", "-n", str(ranks),
               sys.executable, __file__, "--worker", "--threads", str(threads),
               "--steps", str(steps)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode or not lines:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return json.loads(lines[0][len("RESULT "):])


def milliseconds(seconds):
    return "-" if seconds is None else f"{seconds * 1e3:8.2f}"


def print_rows(rows):
    print(f"{'workload':8} {'ranks':>5} {'thr':>3} {'symgrad ms':>10} {'allreduce ms':>12} "
          f"{'torch ms':>9} {'allreduce ms':>12} {'sg/torch':>8} {'speedup':>7}")
    single = {row["workload"]: row["symgrad"] for row in rows if row["ranks"] == 1}
    for row in rows:
        ratio = "-" if row["torch"] is None else f"{row['symgrad'] / row['torch']:8.2f}"
        print(f"{row['workload']:8} {row['ranks']:5} {row['threads']:3} "
              f"{milliseconds(row['symgrad']):>10} {milliseconds(row['symgrad_reduce']):>12} "
              f"{milliseconds(row['torch']):>9} {milliseconds(row['torch_reduce']):>12} "
              f"{ratio:>8} {single[row['workload']] / row['symgrad']:7.2f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--worker", action="store_true")
    parser.add_argument("--threads", type=int, default=1)
    arguments = parser.parse_args()
    if arguments.worker:
        return worker(arguments.steps, arguments.threads)
    cores = os.cpu_count() or 1
    rows = []
    for ranks in (1, 2):
        rows += run_configuration(ranks, max(1, cores // ranks), arguments.steps)
    print(f"global batch {BATCH}, {cores} cores; ms per step (compile excluded), all-reduce of "
          f"the {gradient_elements()} gradient elements per step timed alone")
    print_rows(rows)


if __name__ == "__main__":
    main()
