"""The state a PyTorch-style training step carries from one step to the next.

``discover_slots`` finds the modules, optimizers and tensors a step function refers to
(through its closure, globals, defaults and ``self``, and the objects these hold) and lists
every array they hold: parameters, their gradients, optimizer state. ``traced_slots`` swaps
those arrays for graph inputs while the step is traced, and puts the arrays back afterwards
whatever happens.
"""
import contextlib
import functools
import types

import numpy as np

from symgrad.eager.device import CudaArray, to_host
from symgrad.eager.sampling import default_generator
from symgrad.core.errors import TracingError
from symgrad.core.tracing import Tracer


class TensorSlot:
    """The value of one tensor object."""

    def __init__(self, tensor, name):
        self.tensor = tensor
        self.name = name

    def get(self):
        return self.tensor._value

    def set(self, value):
        self.tensor._value = value

    dtype = property(lambda self: np.dtype(self.get().dtype))

    def buffer(self):
        """The slot's array, made C-contiguous and writable (the loop updates it in place)."""
        value = np.asarray(self.get())
        if not (value.flags.c_contiguous and value.flags.writeable) or value is not self.get():
            value = np.array(value, order="C")
            self.set(value)
        return value


class GradSlot(TensorSlot):
    """``param.grad``'s value (the grad tensor object may be replaced by a step)."""

    def get(self):
        return self.tensor.grad._value

    def set(self, value):
        from symgrad.eager.tensor import Tensor
        if self.tensor.grad is None or isinstance(value, Tracer) != isinstance(self.get(), Tracer):
            self.tensor.grad = Tensor(value)
        else:
            self.tensor.grad._value = value


class ItemSlot:
    """A number a scheduler changes (its counters, a group's learning rate): carried as a
    0-d array of ``dtype``; Python numbers outside the loop, as the scheduler keeps them."""

    def __init__(self, container, key, name, dtype):
        from symgrad.optim.lr_scheduler.base import read_item, write_item
        self.container, self.key, self.name = container, key, name
        self.dtype = np.dtype(dtype)
        self._read, self._write = read_item, write_item

    def get(self):
        value = self._read(self.container, self.key)
        return value if isinstance(value, Tracer) else np.asarray(value, self.dtype)

    def set(self, value):
        if not isinstance(value, Tracer):
            value = np.asarray(to_host(value), self.dtype).item()
        self._write(self.container, self.key, value)

    def buffer(self):
        return np.array(self.get())


# How far from the step function its state is looked for: step -> self -> self.model, or
# step -> a helper function it calls -> the object in that helper's closure -> its model.
SEARCH_DEPTH = 4
_LEAVES = (type, types.ModuleType, str, bytes, int, float, complex, np.ndarray, np.generic)
_MODULE_TABLES = {"_parameters", "_buffers", "_modules", "_non_persistent_buffers"}


def _referenced_objects(step):
    """The modules, optimizers and tensors ``step`` can reach: through its closure cells,
    the globals it names, its default arguments and ``self``, and from there through the
    attributes of plain objects (a ``Trainer`` holding ``self.model`` and ``self.opt``),
    dicts, lists and tuples, functions and ``functools.partial`` objects, up to
    ``SEARCH_DEPTH`` steps away."""
    from symgrad.optim.lr_scheduler import LRScheduler
    Module, Optimizer, Tensor = _kinds()
    found, seen = [], set()

    def visit(obj, depth):
        if obj is None or id(obj) in seen:
            return
        seen.add(id(obj))
        if isinstance(obj, (Module, Optimizer, Tensor, LRScheduler)):
            found.append(obj)
        if depth < SEARCH_DEPTH and not isinstance(obj, (Optimizer, Tensor) + _LEAVES) \
                and not _is_internal(obj):
            for child in _children(obj, Module):
                visit(child, depth + 1)
    visit(step, 0)
    return found


def _is_internal(obj):
    """symgrad's own functions and objects hold no user state (their globals are caches)."""
    module = getattr(obj, "__module__", None) if callable(obj) else type(obj).__module__
    return isinstance(module, str) and module.split(".")[0] in ("symgrad", "compiler") \
        and not hasattr(obj, "__self__")


def _children(obj, Module):
    """The objects ``obj`` refers to where a training step keeps its state."""
    if isinstance(obj, dict):
        return list(obj.values())
    if isinstance(obj, (list, tuple, set, frozenset)):
        return list(obj)
    if isinstance(obj, functools.partial):
        return [obj.func, *obj.args, *obj.keywords.values()]
    code = getattr(obj, "__code__", None)
    if code is not None:                           # a function or bound method
        cells = [_cell_contents(cell) for cell in getattr(obj, "__closure__", None) or ()]
        named = [obj.__globals__[name] for name in code.co_names if name in obj.__globals__]
        return [getattr(obj, "__self__", None), *cells, *named,
                *(getattr(obj, "__defaults__", None) or ()),
                *(getattr(obj, "__kwdefaults__", None) or {}).values()]
    attributes = getattr(obj, "__dict__", None)
    if not isinstance(attributes, dict):
        return []
    if isinstance(obj, Module):                    # its plain attributes (``self.opt``)
        return [value for name, value in attributes.items() if name not in _MODULE_TABLES]
    return list(attributes.values())


def _cell_contents(cell):
    try:
        return cell.cell_contents
    except ValueError:   # an empty cell
        return None


def _kinds():
    from symgrad.nn import Module
    from symgrad.optim.optimizer import Optimizer
    from symgrad.eager.tensor import Tensor
    return Module, Optimizer, Tensor


def _schedulers(objects):
    from symgrad.optim.lr_scheduler import LRScheduler
    return [obj for obj in objects if isinstance(obj, LRScheduler)]


def discover_slots(step):
    """Every array slot of the modules, optimizers and tensors ``step`` refers to."""
    Module, Optimizer, Tensor = _kinds()
    slots, seen = [], set()

    def add(tensor, name):
        if id(tensor) not in seen:
            seen.add(id(tensor))
            slots.append(TensorSlot(tensor, name))
            if tensor.grad is not None:
                slots.append(GradSlot(tensor, name + ".grad"))

    # modules first, so that parameters are named after their module ("linear1.weight")
    kinds = (Module, Optimizer, Tensor)
    objects = sorted(_referenced_objects(step),
                     key=lambda obj: next((i for i, kind in enumerate(kinds) if isinstance(obj, kind)), 3))
    for obj in objects:
        if isinstance(obj, Module):
            for name, tensor in obj.named_parameters():
                add(tensor, name)
            for name, tensor in getattr(obj, "named_buffers", lambda: [])():
                add(tensor, name)
        elif isinstance(obj, Optimizer):
            for index, group in enumerate(obj.param_groups):
                for position, param in enumerate(group["params"]):
                    add(param, f"param_groups[{index}][{position}]")
            for param, state in obj.state.items():
                for key, value in state.items():
                    if isinstance(value, Tensor):
                        add(value, f"optimizer state {key!r}")
        elif isinstance(obj, Tensor):
            add(obj, "tensor")
    stream = default_generator.counter_stream
    if stream.drawn:           # dropout's key: the step draws masks from it
        add(stream.key, "random stream (dropout)")
    for scheduler in _schedulers(objects):
        for container, key, name, dtype in scheduler.carried_items():
            if (id(container), key) not in seen:
                seen.add((id(container), key))
                slots.append(ItemSlot(container, key, name, dtype))
    return slots


@contextlib.contextmanager
def traced_slots(graph, slots):
    """Make every slot a graph input while the block runs; yields a function that lists the
    slots' values at the end of the step (the step's new state)."""
    saved = [slot.get() for slot in slots]
    for slot, value in zip(slots, saved):
        array = np.asarray(value)
        slot.set(Tracer(graph, graph.add_input(array.shape, array.dtype, name=slot.name)))
    try:
        yield lambda: [_final_value(slot, np.asarray(value)) for slot, value in zip(slots, saved)]
    finally:
        for slot, value in zip(slots, saved):
            slot.set(value)


def _final_value(slot, before):
    """The slot's value after the step, as a tracer or array of its old shape and dtype."""
    if isinstance(slot, GradSlot) and slot.tensor.grad is None:
        raise TracingError(f"train: the step left {slot.name} as None; symgrad carries it "
                           "between steps, so every step must compute it")
    value = slot.get()
    if np.shape(value) != before.shape:
        raise TracingError(f"train: the step changed the shape of {slot.name} from "
                           f"{list(before.shape)} to {list(np.shape(value))}")
    if isinstance(value, Tracer):
        return value.astype(before.dtype)
    return np.asarray(value, before.dtype)


@contextlib.contextmanager
def state_on_host(step):
    """Bring the step's tensors that are on the GPU to host memory for the block (the eager
    first step and the tracing run on host values); yields whether any was there. If the
    block fails, they go back to the GPU as they were."""
    moved = [(slot, slot.get()) for slot in discover_slots(step) if isinstance(slot.get(), CudaArray)]
    for slot, value in moved:
        slot.set(to_host(value))
    try:
        yield bool(moved)
    except BaseException:
        for slot, value in moved:
            slot.set(value)
        raise


def snapshot(step):
    """Remember everything ``step`` can change in the modules, optimizers and tensors it
    reaches: values (each buffer by identity and contents), ``.grad`` objects, optimizer
    state and hyperparameters, train/eval flags. Returns a function that puts them back
    (when a compiled step fails after its eager first step ran)."""
    Module, Optimizer, Tensor = _kinds()
    slots = discover_slots(step)
    values = [(slot, slot.get(), np.array(slot.get(), copy=True)) for slot in slots]
    grads = [(slot.tensor, slot.tensor.grad) for slot in slots if type(slot) is TensorSlot]
    objects = _referenced_objects(step)
    optimizers = [(opt, list(opt.param_groups), [dict(group) for group in opt.param_groups],
                   [(param, dict(state)) for param, state in opt.state.items()])
                  for opt in objects if isinstance(opt, Optimizer)]
    flags = [(module, module.training) for obj in objects if isinstance(obj, Module)
             for module in obj.modules()]

    def restore():
        for tensor, grad in grads:
            tensor.grad = grad
        for slot, buffer, value in values:
            slot.set(buffer)
            if isinstance(buffer, np.ndarray) and buffer.flags.writeable:
                np.copyto(buffer, value)
            else:
                slot.set(value)
        for opt, groups, hyperparameters, entries in optimizers:
            opt.param_groups[:] = groups
            for group, saved in zip(groups, hyperparameters):
                group.clear()
                group.update(saved)
            opt.state.clear()
            for param, state in entries:
                opt.state[param] = state
        for module, training in flags:
            object.__setattr__(module, "training", training)
    return restore


def leaked_tracers(step):
    """Names of tensors still holding traced values after tracing: state the step created
    or replaced that symgrad cannot carry between steps."""
    Module, Optimizer, Tensor = _kinds()
    return [slot.name for slot in discover_slots(step) if isinstance(slot.get(), Tracer)]


def hyperparameters(step):
    """The optimizers' settings (learning rates, betas, ...), the schedulers' settings and
    the modules' train/eval flags: constants in a traced step, so part of its cache key
    (but for the numbers a scheduler changes, which are carried)."""
    Module, Optimizer, Tensor = _kinds()
    objects = _referenced_objects(step)
    carried = {(id(container), key) for scheduler in _schedulers(objects)
               for container, key, *_ in scheduler.carried_items()}
    found = []
    for obj in objects:
        if isinstance(obj, Optimizer):
            found.append(tuple(_group_constants(group, carried) for group in obj.param_groups))
        elif isinstance(obj, Module):
            found.append(tuple(getattr(m, "training", True) for m in obj.modules()))
    for scheduler in _schedulers(objects):
        own = {key for container, key, *_ in scheduler.carried_items() if container is scheduler.__dict__}
        found.append(tuple(sorted((k, repr(v)) for k, v in scheduler.state_dict().items()
                                  if k not in own and k != "_last_lr")))
        found.append(repr(getattr(scheduler, "_planned", None)))    # LambdaLR's table
    return tuple(found)


def _group_constants(group, carried):
    """A parameter group's settings but the carried ones (a pair keeps its other entry)."""
    constants = []
    for key, value in group.items():
        if key == "params" or (id(group), key) in carried:
            continue
        if isinstance(value, tuple):
            value = tuple(None if (id(group), (key, k)) in carried else entry
                          for k, entry in enumerate(value))
        constants.append((key, repr(value)))
    return tuple(sorted(constants))


def scheduler_counts(owner):
    """Each scheduler ``owner`` reaches, with its ``last_epoch`` now."""
    return [(scheduler, scheduler.last_epoch)
            for scheduler in _schedulers(_referenced_objects(owner))]


def prepare_schedules(counts_before, remaining_steps, epoch_end=None, remaining_epochs=0):
    """Tell each scheduler how many steps the compiled loop will make it take (counted from
    how far the eager first step moved it, plus one per remaining epoch for the schedulers
    ``epoch_end`` reaches): OneCycleLR refuses too many, LambdaLR tables its lambda."""
    per_epoch = {id(s) for s, _ in scheduler_counts(epoch_end)} if epoch_end else set()
    for scheduler, before in counts_before:
        count = (scheduler.last_epoch - before) * remaining_steps
        scheduler.prepare_future_steps(count + (remaining_epochs if id(scheduler) in per_epoch
                                                else 0))
