"""Compiled training loops: ``train`` runs every step of a loop in one native call.

A training step (forward, gradient, optimizer update) is traced once into one graph whose
inputs are the carried state and a batch, and whose outputs are the loss and the new state.
The compiler turns it into a loop over steps, epochs and minibatches with every buffer made
once (symgrad.compiler.cpu.training_loop). Two styles of step:

- functional: ``step(params, *batch) -> (new_params, loss)``, called as
  ``params, history = sg.train(step, params, data=(x, y), steps=500)``;
- PyTorch style: ``step(*batch) -> loss`` that updates modules and optimizers in place,
  called as ``history = sg.train(step, data=(x, y), steps=500)``. Its first step runs
  eagerly (optimizers create their state), the rest in the compiled loop.

>>> import numpy as np, symgrad as sg
>>> def step(w, x, y):
...     loss, g = sg.value_and_grad(lambda w: np.sum((x * w - y) ** 2))(w)
...     return w - 0.01 * g, loss
>>> w, history = sg.train(step, 1.0, data=(np.array([1.0, 2, 3]), np.array([2.0, 4, 6])),
...                       epochs=100, progress=False)
>>> round(float(w), 4)
2.0
"""
from collections.abc import Callable
from typing import Any
import numpy as np

import symgrad.core.pytree as pytree
from symgrad.core.bounded_cache import BoundedCache
from symgrad.training.epoch_end import EpochClock, run_eagerly, traced_epoch_end
from symgrad.arguments import parameter_name
from symgrad.training.distributed import data_parallel
from symgrad.training.minibatches import plan_batches
from symgrad.training.progress import TrainingBar, chunked
from symgrad.training.tiered_loop import TieredLoop
from symgrad.core.errors import TracingError
from symgrad.core.graph import Graph
from symgrad.core.settings import compile_in_background
from symgrad.core.ops.shape import reshape
from symgrad.eager.device import CudaArray, place, to_host
from symgrad.training.state import (TensorSlot, discover_slots, hyperparameters, leaked_tracers,
                                    prepare_schedules, scheduler_counts, snapshot, state_on_host,
                                    traced_slots)
from symgrad.core.tracing import Tracer, check_dtype, tracing_into
from symgrad.core.trace_function import set_outputs


def train(step: Callable, *state: Any, data: Any = (), steps: int | None = None,
          epochs: int | None = None, batch_size: int | None = None, shuffle: bool = False,
          seed: int = 0, progress: bool = True, device: str | None = None,
          epoch_end: Callable | None = None, distributed: bool | None = None) -> Any:
    """Run ``step`` over ``data`` in one compiled loop; see the module docstring.

    ``data`` is a tuple of arrays (or Tensors), one per batch argument of the step; a
    single array is one argument. ``steps`` alone feeds the whole data every step;
    ``epochs`` without ``batch_size`` feeds one sample (no batch axis) per step; with
    ``batch_size`` minibatches of that many rows (a last partial batch is dropped).
    ``shuffle`` permutes the rows every epoch (numpy generator seeded by ``seed``).
    ``data`` may also be a ``DataLoader`` over a ``TensorDataset`` (its batch size and
    shuffling; a last partial batch needs ``drop_last=True``), drawn with ``epochs``.
    ``device="cuda"`` runs the loop on the GPU with the state and data resident there
    (symgrad.compiler.cuda.training_loop); by default the loop runs on "cuda" when the data or the step's
    modules and tensors are there (``model.cuda()``), else on "cpu", and a PyTorch-style
    step's state ends up on that device. ``progress`` shows a bar: "compiling… N s" until
    the compiled loop runs, then its rate, ETA and latest loss (symgrad.training.progress).
    ``epoch_end`` (PyTorch style): a function called after the last step of each epoch,
    traced into the loop (``scheduler.step`` of a schedule stepped per epoch; with
    ``steps=`` alone every step is an epoch). Returns the per-step loss history (and, in
    the functional style, the new params). ``distributed=True`` (the default when the step
    reaches a ``DistributedDataParallel`` model in an MPI job): each rank trains on its
    share of every batch (``batch_size`` is the global batch) with the gradients averaged
    across ranks inside the compiled loop; the history is the ranks' mean
    (symgrad.training.distributed)."""
    if len(state) > 1:
        raise TypeError(f"train(step, params, data=...): got {len(state)} arguments after the "
                        f"step; pass the params as one pytree and the arrays as data=(...)")
    if hasattr(data, "dataset") and hasattr(data, "collate_fn"):      # a DataLoader
        from symgrad.utils.data import loader_data
        data, batch_size, shuffle, seed = loader_data(data)
    values = [getattr(d, "_value", d) for d in _data_tuple(data)]
    arrays = [np.ascontiguousarray(to_host(value)) for value in values]
    for k, array in enumerate(arrays):
        check_dtype(array.dtype, f"train: data[{k}] (shape {list(array.shape)})",
                    allow_complex=False)
    data_on_cuda = any(isinstance(value, CudaArray) for value in values)
    plan = plan_batches(arrays, steps, epochs, batch_size, shuffle, seed)
    parallel = data_parallel(distributed, step if epoch_end is None else (step, epoch_end))
    plan, arrays = parallel.shard(plan, arrays)
    if state and epoch_end is not None:
        raise TypeError("train: epoch_end= is for PyTorch-style steps; a functional step "
                        "returns its new params")
    with TrainingBar(plan.total_steps, enabled=progress and parallel.rank == 0) as bar, \
            parallel.averaging():
        if state:
            return _train_functional(step, state[0], arrays, plan, bar,
                                     _where(device, data_on_cuda), parallel)
        return _train_stateful(step, arrays, plan, bar, device, data_on_cuda, epoch_end,
                               parallel)


def _data_tuple(data):
    """``data=``: a tuple or list of arrays, one per batch argument of the step; a single
    array (or Tensor) is the only one (not a sequence of rows)."""
    from symgrad.eager.tensor import Tensor
    if isinstance(data, (np.ndarray, Tensor, CudaArray)):
        return (data,)
    if not isinstance(data, (tuple, list)):
        raise TypeError(f"train: data= must be a tuple of arrays (one per batch argument of the "
                        f"step) or a single array, got {type(data).__name__}")
    return data


def _where(device, on_cuda):
    """The device the loop runs on: ``device``, else where the data or state is."""
    from symgrad.staging import check_device
    return check_device(device or ("cuda" if on_cuda else "cpu"))


def _scalar_loss(loss, where):
    loss = getattr(loss, "_value", loss)
    if not isinstance(loss, Tracer):
        raise TracingError(f"{where}: the loss must be computed from the step's inputs, got "
                           f"{type(loss).__name__}")
    if loss.size != 1:
        raise TracingError(f"{where}: the loss must be a scalar, got shape {list(loss.shape)}")
    return reshape(loss, ())


def _eager_loss(loss):
    value = np.asarray(getattr(loss, "_value", loss))
    if value.size != 1:
        raise TracingError(f"train: the loss must be a scalar, got shape {list(value.shape)}")
    return float(value.reshape(()))


def _batch_tracers(graph, plan, arrays, wrap=lambda value: value):
    tracers = []
    for k, array in enumerate(arrays):
        example = plan.example(array)
        node = graph.add_input(example.shape, example.dtype, name=f"batch{k}")
        tracers.append(wrap(Tracer(graph, node)))
    return tracers


def _train_functional(step, params, arrays, plan, bar, device, parallel):
    leaves, treedef = pytree.flatten(params)
    state = [np.array(leaf, copy=True) for leaf in leaves]
    for k, leaf in enumerate(state):
        check_dtype(leaf.dtype, f"train: params leaf {k} (shape {list(leaf.shape)})",
                    allow_complex=False)
    parallel.check_start([(f"params leaf {k}", leaf) for k, leaf in enumerate(state)], "params")
    key = (step, treedef, _signature(state), _signature(plan.example(a) for a in arrays), plan.mode,
           device, parallel.world)
    loop = _loop_for(key, lambda: _trace_functional(step, treedef, state, plan, arrays), len(state),
                     plan.mode, device, background=not parallel.active)
    history = _run(loop, state, arrays, plan, bar, first_step=0, history=None)
    return pytree.unflatten(treedef, state), parallel.global_history(history)


def _trace_functional(step, treedef, state, plan, arrays):
    graph = Graph(getattr(step, "__name__", "step"))
    params_name = parameter_name(step, 0)
    state_tracers = [Tracer(graph, graph.add_input(s.shape, s.dtype, name=params_name + path))
                     for s, path in zip(state, pytree.leaf_paths(pytree.unflatten(treedef, state)))]
    with tracing_into(graph):      # the graph that loop bodies traced in the step capture from
        loss, new_leaves = _functional_outputs(step, treedef, state, state_tracers,
                                               _batch_tracers(graph, plan, arrays))
        set_outputs(graph, [_scalar_loss(loss, "train")] + new_leaves)
    return graph.name_outputs(["loss"] + [f"new {graph[node]['name']}"
                                          for node in graph.inputs[:len(state)]])


def _functional_outputs(step, treedef, state, state_tracers, batch):
    """``(loss, new param leaves)`` of a functional step, checked against the params."""
    out = step(pytree.unflatten(treedef, state_tracers), *batch)
    if not (isinstance(out, (tuple, list)) and len(out) == 2):
        raise TracingError("train: a functional step must return (new_params, loss)")
    new_params, loss = out
    new_leaves, new_tree = pytree.flatten(new_params)
    if new_tree != treedef:
        raise TracingError("train: the step returned params of another structure than it took")
    for old, new in zip(state, new_leaves):
        if np.shape(new) != old.shape:
            raise TracingError(f"train: the step turned a param of shape {list(old.shape)} into "
                               f"one of shape {list(np.shape(new))}")
    return loss, [leaf.astype(old.dtype) if isinstance(leaf, Tracer) else leaf
                  for leaf, old in zip(new_leaves, state)]


def _signature(arrays):
    return tuple((np.shape(a), np.asarray(a).dtype.str) for a in arrays)


# The compiled loops of the last LOOPS_SIZE step structures used (bounded).
LOOPS_SIZE = 64
_LOOPS = BoundedCache(LOOPS_SIZE)


def _loop_for(key, trace_graph, state_count, mode, device, background=True):
    """The compiled loop for ``key``: traced and compiled once, then reused on new data of
    the same shapes. As with jax.jit, values a step reads from its closure are captured
    when it is first traced. On the CPU, steps run on the interpreter while the loop is
    compiled in the background (symgrad.training.tiered_loop), but for a loop across MPI
    ranks (``background=False``: its compile needs this process's MPI job)."""
    def make():
        graph = trace_graph()

        def build():
            from symgrad.compiler import compile_training_loop
            return compile_training_loop(graph, state_count, mode, device)
        if device != "cpu" or not (background and compile_in_background()):
            return build()
        return TieredLoop(graph, build, mode, child=("symgrad.compiler", "compile_training_loop",
                                                     (graph, state_count, mode, device)))
    return _LOOPS.get_or_make(key, make)


def compiled_loops(step: Callable) -> list:
    """The compiled loops ``train`` keeps for ``step`` (one per shape, batching and device),
    the most recently used last: each has its step ``.graph``, ``.optimized`` graph and
    generated ``.source``.

    >>> import numpy as np, symgrad as sg
    >>> def step(w, x):
    ...     loss, g = sg.value_and_grad(lambda w: np.sum((x * w) ** 2))(w)
    ...     return w - 0.1 * g, loss
    >>> w, history = sg.train(step, 1.0, data=(np.ones(3),), steps=2, progress=False)
    >>> loop = sg.compiled_loops(step)[-1]
    >>> "def train_loop(" in loop.source
    True
    """
    return [_LOOPS[key] for key in _LOOPS if key[0] == step]


def _train_stateful(step, arrays, plan, bar, device, data_on_cuda, epoch_end, parallel):
    """On any failure (but Ctrl-C inside the compiled loop, which keeps the finished steps)
    the step's state is put back as it was before ``train``."""
    if epoch_end is not None and not callable(epoch_end):
        raise TypeError(f"train: epoch_end must be a function, got {type(epoch_end).__name__}")
    owner = step if epoch_end is None else (step, epoch_end)     # what holds the state
    with state_on_host(owner) as state_on_cuda:
        restore = snapshot(owner)
        try:
            device = _where(device, data_on_cuda or state_on_cuda)
            parallel.check_start([(slot.name, slot.get()) for slot in discover_slots(owner)
                                  if type(slot) is TensorSlot and slot.tensor.requires_grad],
                                 "parameters")
            history, slots, loop = _first_step(step, owner, epoch_end, arrays, plan, device, bar,
                                               parallel)
            state = [slot.buffer() for slot in slots]
            history = _run(loop, state, arrays, plan, bar, first_step=1, history=history)
        except BaseException:
            restore()
            raise
        for slot, value in zip(slots, state):
            slot.set(place(np.asarray(value, slot.dtype), device))
    return parallel.global_history(history)


def _first_step(step, owner, epoch_end, arrays, plan, device, bar, parallel):
    """Run the first step eagerly (on the host: optimizers create their state) and compile
    the loop."""
    from symgrad.eager.creation import tensor
    history = np.empty(plan.total_steps)
    clock = EpochClock(plan.steps_per_epoch, 0) if epoch_end is not None else None
    counts = scheduler_counts(owner)
    loss = step(*[tensor(plan.batch(array, 0)) for array in arrays])
    history[0] = _eager_loss(loss)
    bar.advance(1, history[0])
    epochs_left = plan.total_steps // plan.steps_per_epoch if clock else 0
    prepare_schedules(counts, plan.total_steps - 1, epoch_end, epochs_left)
    if clock is not None:
        run_eagerly(epoch_end, clock)
    slots = discover_slots(owner) + ([clock.slot] if clock is not None else [])
    key = (step, tuple((slot.name, np.shape(slot.get()), slot.dtype.str) for slot in slots),
           _signature(plan.example(a) for a in arrays), plan.mode, hyperparameters(owner), device,
           parallel.world)
    if clock is not None:
        key += (epoch_end, plan.steps_per_epoch)
    loop = _loop_for(key, lambda: _trace_stateful(step, owner, epoch_end, clock, slots, plan,
                                                  arrays), len(slots), plan.mode, device,
                    background=not parallel.active)
    return history, slots, loop


def _trace_stateful(step, owner, epoch_end, clock, slots, plan, arrays):
    graph = Graph(getattr(step, "__name__", "step"))
    with tracing_into(graph), traced_slots(graph, slots) as outputs:
        loss = _scalar_loss(step(*_batch_tracers(graph, plan, arrays, wrap=tensor_of)), "train")
        state = outputs() if clock is None else traced_epoch_end(epoch_end, clock, outputs)
        set_outputs(graph, [loss] + state)
    graph.name_outputs(["loss"] + [f"new {slot.name}" for slot in slots])
    leaked = leaked_tracers(owner)
    if leaked:
        raise TracingError(f"train: the step created or replaced state that symgrad cannot "
                           f"carry between steps: {', '.join(leaked)}")
    return graph


def tensor_of(value):
    from symgrad.eager.tensor import Tensor
    return Tensor(value)


def _run(loop, state, arrays, plan, bar, first_step, history):
    """Run the compiled loop in chunks; ``state`` is updated in place. Ctrl-C stops between
    chunks, with the state of the last finished step. The bar says "compiling" until the
    loop's machine code is ready (a CPU loop compiles on its first chunk, or in the
    background while steps run on the interpreter; a CUDA loop when it is bound)."""
    history = np.empty(plan.total_steps) if history is None else history
    arguments = [s.reshape(1) if s.shape == () else s for s in state]
    done = np.array([first_step], np.int64)
    try:
        with loop.bound(arguments, arrays, plan.order, plan.batch_size, history, done) as run_steps:
            for start, count in chunked(first_step, plan.total_steps):
                if getattr(loop, "ready", True):
                    bar.compiled()
                run_steps(start, count)
                bar.advance(int(done[0]), history[int(done[0]) - 1])
    except KeyboardInterrupt:
        print(f"\ntraining interrupted: {int(done[0])} of {plan.total_steps} steps done")
    return history[:int(done[0])]
