"""Trains tiny models with ``sg.train(..., distributed=...)`` and saves rank 0's results
(``python data_parallel_program.py OUT.npz``), so that tests/distributed/test_mpi.py can
compare ``mpiexec -n 2`` (each rank a half of every batch, gradients averaged in the
compiled loop) with one process on the whole batches. Every trainer sees the same global
batches; only the split across ranks differs."""
import sys

import numpy as np

import symgrad as sg
import symgrad.distributed as dist

ROWS, FEATURES, BATCH, EPOCHS = 16, 3, 8, 2


def data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((ROWS, FEATURES)).astype(np.float32)
    return x, (x @ np.array([1.0, -2.0, 0.5], np.float32))[:, None] + 0.3


def mse(w, b, x, y):
    return np.mean((x @ w + b - y) ** 2)


def functional_sgd_momentum(x, y):
    def step(state, x, y):
        (w, b), (vw, vb) = state
        loss, (gw, gb) = sg.value_and_grad(mse, argnums=(0, 1))(w, b, x, y)
        vw, vb = 0.9 * vw + gw, 0.9 * vb + gb
        return ((w - 0.1 * vw, b - 0.1 * vb), (vw, vb)), loss
    zeros = (np.zeros((FEATURES, 1), np.float32), np.zeros(1, np.float32))
    (params, _), history = sg.train(step, (zeros, zeros), data=(x, y), epochs=EPOCHS,
                                    batch_size=BATCH, progress=False, distributed=True)
    return [*params, history]


def functional_adam(x, y):
    def step(state, x, y):
        w, m, v, t = state
        loss, g = sg.value_and_grad(lambda w: mse(w[:-1], w[-1], x, y))(w)
        t = t + 1.0
        m, v = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g * g
        update = (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
        return (w - 0.05 * update, m, v, t), loss
    zeros = np.zeros((FEATURES + 1, 1), np.float32)
    (w, *_), history = sg.train(step, (zeros, zeros, zeros, np.float32(0)), data=(x, y),
                                steps=4, progress=False, distributed=True)
    LOOP_CALLS_MPI.append("collective_all_reduce_mean(" in sg.compiled_loops(step)[-1].source)
    return [w, history]


LOOP_CALLS_MPI = []     # whether functional_adam's compiled loop calls numba-mpi


def tiny_net():
    sg.manual_seed(0)
    return sg.nn.Sequential(sg.nn.Linear(FEATURES, 4), sg.nn.Tanh(), sg.nn.Linear(4, 1))


def pytorch_style(make_optimizer, wrap):
    def train(x, y):
        net = tiny_net()
        model = wrap(net)
        optimizer = make_optimizer(model.parameters())

        def step(x, y):
            optimizer.zero_grad()
            loss = sg.nn.functional.mse_loss(model(x), y)
            loss.backward()
            optimizer.step()
            return loss
        history = sg.train(step, data=(x, y), epochs=EPOCHS, batch_size=BATCH, progress=False,
                           distributed=None if wrap is ddp else True)
        return [p.detach().numpy() for p in net.parameters()] + [history]
    return train


def torch_momentum_ddp_eager(x, y):
    """torch_momentum_ddp's training as a Python loop over a DistributedSampler's batches."""
    net = tiny_net()
    model = ddp(net)
    optimizer = sg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    world, rank = dist.get_world_size(), dist.get_rank()
    history = []
    for epoch in range(EPOCHS):
        for start in range(0, ROWS, BATCH):
            share = slice(start + rank * BATCH // world, start + (rank + 1) * BATCH // world)
            optimizer.zero_grad()
            loss = sg.nn.functional.mse_loss(model(sg.tensor(x[share])), sg.tensor(y[share]))
            loss.backward()
            optimizer.step()
            history.append(loss.item())
    dist.all_reduce(history := np.array(history), op=dist.ReduceOp.AVG)
    return [p.detach().numpy() for p in net.parameters()] + [history]


def ddp(net):
    return sg.nn.parallel.DistributedDataParallel(net)


def plain(net):
    return net


TRAINERS = {
    "functional_sgd_momentum": functional_sgd_momentum,
    "functional_adam": functional_adam,
    "torch_sgd": pytorch_style(lambda p: sg.optim.SGD(p, lr=0.1), plain),
    "torch_momentum_ddp": pytorch_style(lambda p: sg.optim.SGD(p, lr=0.1, momentum=0.9), ddp),
    "torch_adam_ddp": pytorch_style(lambda p: sg.optim.Adam(p, lr=0.05), ddp),
    "torch_momentum_ddp_eager": torch_momentum_ddp_eager,
}


def main(out_path, names):
    dist.init_process_group()
    x, y = data()
    results = {}
    for name in names:
        for k, array in enumerate(TRAINERS[name](x, y)):
            results[f"{name}/{k}"] = np.asarray(array)
    if dist.get_rank() == 0:
        np.savez(out_path, world=dist.get_world_size(), loop_calls_mpi=LOOP_CALLS_MPI, **results)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2].split(",") if len(sys.argv) > 2 else list(TRAINERS))
