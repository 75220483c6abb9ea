"""Training loops on the GPU: a step graph compiled into CUDA kernels (compiler.cuda), run
step after step with the state, the data and the loss history resident on the device.

Entering :meth:`CudaTrainingLoop.bound` copies the state and the data to the device once.
Each step then launches the batch gathers (compiler.codegen.cuda_loop_kernels), the step's
kernels and the loss record; new state is computed into the old state's buffers where that
is safe (compiler.passes.memory.plan_in_place), the rest is copied there (device to device). The loss history comes back one chunk at a time; the state when the
loop ends (or is interrupted: then the state of the last finished step).
"""
import contextlib

import numpy as np

from compiler.cuda import compile_graph


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
        from compiler.codegen import cuda_loop_kernels as kernels
        from numba import cuda
        program = self.compiled.prepare()
        state_buffers = program.inputs[:self.state_count]
        for buffer, array in zip(state_buffers, state):
            buffer.copy_to_device(array)
        feeders = self._batch_feeders(program.inputs[self.state_count:], data, order, batch_size)
        carries = [(buffer, new) for buffer, new in zip(state_buffers, program.outputs[1:])
                   if new is not buffer]
        losses = cuda.device_array(len(history), np.float64)
        fetched = [int(progress[0])]

        def fetch_history():
            done = int(progress[0])
            if done > fetched[0]:
                losses[fetched[0]:done].copy_to_host(history[fetched[0]:done])
                fetched[0] = done

        def run_steps(start, count):
            for step in range(start, start + count):
                for feed in feeders:
                    feed(step)
                program.launch()
                kernels.record_loss[1, 1](losses, program.outputs[0], step)
                for buffer, new in carries:
                    buffer.copy_to_device(new)
                progress[0] = step + 1
            fetch_history()
        try:
            yield run_steps
        finally:
            fetch_history()
            for buffer, array in zip(state_buffers, state):
                buffer.copy_to_host(array)

    def _batch_feeders(self, buffers, data, order, batch_size):
        """Functions of the step that fill the batch inputs (none when the whole data is the
        batch: it is copied into them once)."""
        from compiler.codegen.cuda_loop_kernels import THREADS, blocks, gather_rows
        from numba import cuda
        if self.batching == "full":
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


def compile_training_loop(graph, state_count, batching):
    """The step graph's kernels, run as a loop by :class:`CudaTrainingLoop`."""
    compiled = compile_graph(graph, kind="training_loop", state_count=state_count)
    return CudaTrainingLoop(compiled, state_count, batching)
