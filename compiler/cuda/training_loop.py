"""Training loops on the GPU: a step graph compiled into CUDA kernels (symgrad.compiler.cuda.host), run
step after step with the state, the data and the loss history resident on the device.

Entering :meth:`CudaTrainingLoop.bound` copies the state and the data to the device once
(:class:`ResidentRun`). Each step then launches the batch gathers
(symgrad.compiler.cuda.loop_kernels), the step's kernels and the loss record; new state is
computed into the old state's buffers where that is safe (symgrad.compiler.passes.memory.
plan_in_place), the rest is copied there (device to device). The loss history comes back one
chunk of steps at a time; the state when the loop ends (or is interrupted: then the state of
the last finished step).
"""
import contextlib
import signal
import threading

import numpy as np

from .host import compile_graph


class CudaTrainingLoop:
    """A step graph (inputs: state then batch; outputs: loss then new state) on the GPU;
    ``.source`` is the generated kernel module."""

    def __init__(self, compiled, state_count, batching):
        self.compiled = compiled
        self.graph = compiled.graph
        self.optimized = compiled.optimized
        self.source = compiled.source
        self.state_count = state_count
        self.batching = batching
        self.in_place = compiled.in_place   # new state written over the old: no copy

    @contextlib.contextmanager
    def bound(self, state, data, order, batch_size, history, progress):
        """Upload ``state`` and ``data``; yields ``run_steps(start, count)``. On exit the
        device state is copied back into ``state`` (host arrays, in place)."""
        run = ResidentRun(self, state, data, order, batch_size, history, progress)
        try:
            with run.interrupts_between_steps():
                yield run.steps
        finally:
            run.finish(state)


class ResidentRun:
    """One ``train`` call's loop on the device: state and data uploaded once, the loss
    history recorded on the device and fetched after each chunk of steps."""

    def __init__(self, loop, state, data, order, batch_size, history, progress):
        from . import loop_kernels as kernels
        from numba import cuda
        self.program = loop.compiled.prepare()
        self.state_buffers = self.program.inputs[:loop.state_count]
        for buffer, array in zip(self.state_buffers, state):
            buffer.copy_to_device(array)
        self.feeders = _batch_feeders(loop.batching, self.program.inputs[loop.state_count:],
                                      data, order, batch_size)
        self.carries = [(buffer, new) for buffer, new in
                        zip(self.state_buffers, self.program.outputs[1:]) if new is not buffer]
        self.record_loss = kernels.record_loss[1, 1]
        self.losses = cuda.device_array(len(history), np.float64)
        self.history, self.progress = history, progress
        self.fetched = int(progress[0])
        self.interrupted = False

    @contextlib.contextmanager
    def interrupts_between_steps(self):
        """Ctrl-C during a step takes effect when the step is done: the CPU loop cannot be
        interrupted inside a step either, and a step cut short would leave the state half
        updated (new state is written over the old)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = signal.signal(signal.SIGINT, lambda *_: setattr(self, "interrupted", True))
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)

    def steps(self, start, count):
        """Run steps ``start .. start + count``, then fetch their losses."""
        program, loss = self.program, self.program.outputs[0]
        for step in range(start, start + count):
            for feed in self.feeders:
                feed(step)
            program.launch()
            self.record_loss(self.losses, loss, step)
            for buffer, new in self.carries:
                buffer.copy_to_device(new)
            self.progress[0] = step + 1
            if self.interrupted:
                raise KeyboardInterrupt
        self.fetch_history()

    def fetch_history(self):
        done = int(self.progress[0])
        if done > self.fetched:
            self.losses[self.fetched:done].copy_to_host(self.history[self.fetched:done])
            self.fetched = done

    def finish(self, state):
        """Fetch the losses not fetched yet; copy the device state into ``state``."""
        self.fetch_history()
        for buffer, array in zip(self.state_buffers, state):
            buffer.copy_to_host(array)


def _batch_feeders(batching, buffers, data, order, batch_size):
    """Functions of the step that fill the batch inputs (none when the whole data is the
    batch: it is copied into them once)."""
    from .loop_kernels import THREADS, blocks, gather_rows
    from numba import cuda
    if batching == "full":
        for buffer, array in zip(buffers, data):
            buffer.copy_to_device(array.reshape(buffer.shape))
        return []
    rows = cuda.to_device(order)
    feeders = []
    for buffer, array in zip(buffers, data):
        width = buffer.size // batch_size
        batch = buffer.reshape(batch_size, width)
        table = cuda.to_device(np.ascontiguousarray(array).reshape(len(array), width))
        launch = gather_rows[blocks(buffer.size), THREADS]
        feeders.append(lambda step, launch=launch, batch=batch, table=table:
                       launch(batch, table, rows, step * batch_size))
    return feeders


def compile_training_loop(graph, optimized, state_count, batching):
    """The step graph's kernels (optimized by the driver), run as a loop by
    :class:`CudaTrainingLoop`."""
    compiled = compile_graph(graph, optimized, kind="training_loop")
    return CudaTrainingLoop(compiled, state_count, batching)
