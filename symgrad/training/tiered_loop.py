"""``sg.train``'s interpreter tier: steps run on the interpreter until the loop is compiled.

While a background thread compiles a new loop (symgrad.tiers), each step runs the step
graph on the reference interpreter and writes the new state into the same arrays the
compiled loop updates in place, the loss into the same history and the finished-step
count into the same progress cell. When the machine code is ready the remaining steps
run compiled from that state: one loop, two engines, results equal to float tolerance
(each step evaluates the same graph; only rounding differs).
"""
import contextlib

from symgrad.core.interpreter import evaluate
from symgrad.tiers import Tiered
from symgrad.training.minibatches import BatchPlan


class TieredLoop(Tiered):
    """A compiled loop's protocol (``bound``; ``source``, ``graph``, ... of the compiled
    loop, waiting for it) with interpreted steps in front while it is compiled.
    ``build()`` returns symgrad.compiler.compile_training_loop's loop."""

    def __init__(self, graph, build, mode, child=None):
        super().__init__(graph, build, child)
        self.mode = mode

    def __getattr__(self, name):
        if name.startswith("__") or name in ("build", "built", "job", "graph", "mode", "child"):
            raise AttributeError(name)
        return getattr(self.compiled(), name)

    @contextlib.contextmanager
    def bound(self, state, data, order, batch_size, history, progress):
        """Yields ``run_steps(start, count)``, as the compiled loop's ``bound`` does."""
        arguments = (state, data, order, batch_size, history, progress)
        self.start(*arguments)
        self.job.warn_if_failed()
        step = _interpreted_step(self.graph, BatchPlan(self.mode, len(history), batch_size, order),
                                 state, data, history, progress)
        with contextlib.ExitStack() as stack:
            compiled = []

            def run_steps(start, count):
                for offset in range(count):
                    if self.ready:
                        if not compiled:
                            compiled.append(stack.enter_context(self.built.bound(*arguments)))
                        compiled[0](start + offset, count - offset)
                        return
                    step(start + offset)
            yield run_steps


def _interpreted_step(graph, plan, state, data, history, progress):
    """``step(k)``: step ``k`` on the interpreter, as the compiled loop runs it (scalar state
    arrives as one-element arrays: written through 0-d views of them)."""
    views = [s.view() for s in state]
    for view, node in zip(views, graph.inputs):
        view.shape = graph[node]["shape"]       # raises rather than reshape into a copy

    def step(k):
        outputs = evaluate(graph, views + [plan.batch(array, k) for array in data])
        for view, value in zip(views, outputs[1:]):
            view[...] = value
        history[k] = outputs[0]
        progress[0] = k + 1
    return step
