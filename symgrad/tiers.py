"""A tier below the compiler: a new graph answers at once, from the reference interpreter.

The first calls of a newly compiled graph (``sg.jit``, ``sg.grad``, ``sg.value_and_grad``,
``sg.vjp`` on the numba CPU backend; an eager backward's tape structure) run the traced
graph on symgrad's numpy interpreter (symgrad.core.interpreter) while one background
thread has its machine code made; once that is ready, calls run the compiled code. The
thread leaves numba's compile to a child process that fills the disk cache
(symgrad.background_compile: numba holds the GIL while it types and lowers, which would
slow the program's own Python), then loads the entry. Both tiers compute the same graph,
so their results agree to float tolerance (the compiled-vs-reference tests check exactly
that); only rounding differs. A background compile that fails warns once, naming the
error, and the graph stays on the interpreter: never a hang, never a wrong result.
``sg.train`` does the same for its compiled loop (symgrad.training.tiered_loop).

``SYMGRAD_COMPILE_IN_BACKGROUND=0`` makes every call wait for the compiled code (the test
suite sets it, so that compiled-vs-reference tests test compiled code).

>>> import numpy as np, symgrad as sg
>>> f = sg.jit(lambda x: np.tanh(x).sum())
>>> float(f(np.zeros(3)))          # interpreted while numba compiles; later calls switch
0.0
"""
import atexit
import queue
import threading
import warnings

import symgrad.background_compile as background_compile
from symgrad.core.interpreter import evaluate
from symgrad.core.settings import compile_in_background


class Job:
    """One background load-or-compile; ``error`` is what it raised (None if it worked)."""

    def __init__(self, work, name):
        self.work = work
        self.name = name
        self.in_child = False          # waiting for a compile process (left to it at exit)
        self.error = None
        self.finished = threading.Event()
        self.warned = False

    def run(self):
        try:
            self.work()
        except BaseException as error:     # reported in the foreground (warn_if_failed)
            self.error = error
        finally:
            self.work = None               # the compiled object may be collected once done
            self.finished.set()

    def done(self):
        return self.finished.is_set()

    def wait(self, timeout=None):
        """Block until the job is finished (or ``timeout`` seconds); True when finished."""
        return self.finished.wait(timeout)

    def succeeded(self):
        return self.done() and self.error is None

    def warn_if_failed(self):
        """Warn (the first time only) when the job is finished and failed."""
        if self.done() and self.error is not None and not self.warned:
            self.warned = True
            warnings.warn(f"symgrad: compiling {self.name} in the background failed "
                          f"({type(self.error).__name__}: {self.error}); its calls keep running "
                          "on the reference interpreter (set SYMGRAD_COMPILE_IN_BACKGROUND=0 to "
                          "see the error where it happens)", RuntimeWarning, stacklevel=4)


class _Worker:
    """One daemon thread that runs jobs in order: numba compiles one function at a time
    anyway (its compiler lock), and one thread leaves the other cores to the foreground.
    At exit, jobs not started are dropped and the running one is waited for unless a
    compile process does its work (that process finishes the disk cache entry alone)."""

    def __init__(self):
        self.jobs = queue.Queue()
        self.thread = None
        self.running = None
        self.closing = False
        self.lock = threading.Lock()

    def submit(self, job):
        with self.lock:
            if self.thread is None:
                self.thread = threading.Thread(target=self._loop, name="symgrad-compile",
                                               daemon=True)
                self.thread.start()
                atexit.register(self.close)
        self.jobs.put(job)
        return job

    def _loop(self):
        while True:
            job = self.jobs.get()
            if self.closing:
                job.error = RuntimeError("the program exited before it was compiled")
                job.finished.set()
                continue
            self.running = job
            job.run()
            self.running = None

    def close(self):
        self.closing = True
        running = self.running
        if running is not None and not running.in_child:
            running.wait()


_WORKER = _Worker()


def in_background(work, name):
    """A :class:`Job` running ``work()`` on the background thread."""
    return _WORKER.submit(Job(work, name))


def wait_for_background_compiles(timeout=None):
    """Block until every background compile started so far is done; True if they are
    (benchmarks, and scripts that want compiled code before they time it)."""
    return in_background(lambda: None, "waiting for the compiles before it").wait(timeout)


class Tiered:
    """What a background job builds (a compiled graph or loop) and makes ready, for the
    tiers: ``build()`` compiles the graph into Python-level code (importing the compiler,
    numba among it, on the background thread too) and ``compiled.prepare(...)`` loads or
    compiles its machine code."""

    def __init__(self, graph, build, child=None):
        self.graph = graph
        self.build = build
        self.child = child      # (module, function, arguments) of build, for a compile process
        self.job = None
        self.built = None

    def start(self, *prepare_arguments):
        """Start the background job once; later calls do nothing."""
        if self.job is None:
            def work():
                if self.built is None:
                    self._compile_in_child(prepare_arguments)
                built = self.built or self.build()
                built.prepare(*prepare_arguments)       # a disk cache hit after the child
                self.built = built
            self.job = in_background(work, f"{self.graph.name!r} ({len(self.graph)} nodes)")

    def _compile_in_child(self, prepare_arguments):
        """Have a compile process fill the disk cache (symgrad.background_compile), where
        it can; if it fails, this thread compiles and reports the error itself."""
        data = background_compile.payload(*self.child, prepare_arguments) \
            if self.child is not None and background_compile.usable() else None
        if data is None:
            return
        _WORKER.running.in_child = True
        try:
            background_compile.compile_in_child(data)
        except (RuntimeError, OSError) as error:
            from symgrad.core.compile_log import LOG, configure
            configure()
            LOG.info("compiling %s in a process failed (%s); compiling it in this one",
                     self.graph.name, error)
        finally:
            _WORKER.running.in_child = False

    @property
    def ready(self):
        """Whether calls run compiled code (the job finished and did not fail)."""
        return self.job is not None and self.job.succeeded()

    def wait_until_compiled(self, timeout=None):
        """Block until the background compile is done; True if it succeeded."""
        if self.job is not None:
            self.job.wait(timeout)
        return self.ready

    def compiled(self):
        """The compiled object (waits for the background job; raises its error)."""
        if self.job is None:
            self.built = self.built or self.build()
        elif not self.job.wait() or self.job.error is not None:
            raise self.job.error
        return self.built


class TieredGraph(Tiered):
    """A new graph's calls: on the interpreter until its machine code is ready, then compiled."""

    def __call__(self, *inputs):
        if self.ready:
            return self.built(*inputs)
        self.start(*inputs)
        self.job.warn_if_failed()
        return tuple(evaluate(self.graph, inputs))


def tiered(graph, build, has_tier=True, child=None):
    """``build()`` at once when every call must wait for compiled code
    (``SYMGRAD_COMPILE_IN_BACKGROUND=0``) or the backend has no interpreter tier (CUDA),
    else a :class:`TieredGraph` that answers from the interpreter meanwhile (``child``:
    ``build`` as (module, function, arguments), for a compile process)."""
    if has_tier and compile_in_background():
        return TieredGraph(graph, build, child)
    return build()
