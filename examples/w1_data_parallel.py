"""W1 (the two-layer MLP of seed 002, ``nn.Sequential`` + ``MSELoss(reduction="sum")`` +
SGD) trained data-parallel: every rank holds the model, wrapped in
``DistributedDataParallel``, and trains in one compiled loop on its share of the batch; the
gradients are averaged across the ranks inside the loop (numba-mpi). The same program runs
as one process.

Run: ``mpiexec -n 2 python examples/w1_data_parallel.py`` (or ``python examples/w1_data_parallel.py``;
``--steps 50`` for a short run). Needs ``pip install 'symgrad[mpi]'``.
"""
import argparse
import time

import symgrad as torch
import symgrad.distributed as dist
from symgrad import nn, optim

N, D_in, H, D_out = 64, 1000, 100, 10


def make_data(seed=0):
    """The whole batch, the same on every rank (same seed); each rank trains on N / ranks rows."""
    torch.manual_seed(seed)
    return torch.randn(N, D_in), torch.randn(N, D_out)


def train(steps=500, learning_rate=1e-4):
    """Returns the loss of every step (the whole batch's) and the trained model."""
    x, y = make_data()
    model = nn.parallel.DistributedDataParallel(
        nn.Sequential(nn.Linear(D_in, H), nn.ReLU(), nn.Linear(H, D_out)))
    loss_fn = nn.MSELoss(reduction="sum")
    optimizer = optim.SGD(model.parameters(), lr=learning_rate)
    ranks = dist.get_world_size()

    def step(x, y):
        optimizer.zero_grad()
        # DDP averages the ranks' gradients; a summed loss times the ranks makes that average
        # the gradient of the whole batch's sum, as one process computes it
        loss = loss_fn(model(x), y) * ranks
        loss.backward()
        optimizer.step()
        return loss
    history = torch.train(step, data=(x, y), steps=steps)
    return history, model.module


def main(steps=500):
    dist.init_process_group()
    start = time.perf_counter()
    history, _ = train(steps)
    if dist.get_rank() == 0:
        print(f"{dist.get_world_size()} rank(s): loss {history[0]:.6g} -> {history[-1]:.6g} "
              f"after {steps} steps ({time.perf_counter() - start:.2f} s)")
    return history


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=500)
    main(parser.parse_args().steps)
