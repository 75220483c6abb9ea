"""The compile process of symgrad.tiers: numba compiles a new graph in another process.

numba holds the GIL while it types and lowers a function, so a compile on a thread of the
program slows the program's own Python (its interpreted calls among it) by about half.
Instead a child process (``python -m symgrad.background_compile``, in its own session so a
Ctrl-C at the terminal does not reach it) builds the same graph, compiles it into the disk
cache and exits; the program's background thread, which only waited for it, then loads
the entry from the cache. Where that cannot work (no usable disk cache; a graph whose
params do not pickle, such as a custom Function's rule) the thread compiles in-process.
A program that exits while its child compiles leaves the child to finish the entry.

The child gets ``(module, function, arguments, prepare_arguments)`` on stdin: it calls
``module.function(*arguments).prepare(*prepare_arguments)``; arrays among the prepare
arguments travel as empty arrays of their dtype and rank (numba compiles for dtype, rank
and layout, not the data).
"""
import importlib
import os
import pickle
import subprocess
import sys
import tempfile

import numpy as np

from symgrad.core.settings import cache_dir, cache_enabled


def _skeleton(value):
    if isinstance(value, np.ndarray):
        return np.empty((0,) * value.ndim, value.dtype)
    if isinstance(value, (list, tuple)):
        return type(value)(_skeleton(item) for item in value)
    return value


def payload(module, function, arguments, prepare_arguments):
    """The child's input, or None when it does not pickle (then compile in-process)."""
    try:
        return pickle.dumps((module, function, arguments, _skeleton(prepare_arguments)),
                            protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:       # a param that is a local function, a lock, ...: any pickling error
        return None


def usable():
    """Whether a child's compile can reach this process: through a writable disk cache."""
    if not cache_enabled():
        return False
    folder = cache_dir()
    os.makedirs(folder, exist_ok=True)
    return os.access(folder, os.W_OK | os.X_OK)


def compile_in_child(data, started=None):
    """Run the child on ``data`` and wait (without the GIL); raise RuntimeError with its
    error output if it failed. ``started(process)`` is told the child process."""
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen([sys.executable, "-m", "symgrad.background_compile"],
                                   stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                   stderr=errors, start_new_session=True)
        if started is not None:
            started(process)
        process.communicate(data)
        if process.returncode != 0:
            errors.seek(0)
            text = errors.read().decode(errors="replace").strip().splitlines()
            raise RuntimeError(f"the compile process exited with status {process.returncode}: "
                               + (text[-1] if text else "no error output"))


def main():
    module, function, arguments, prepare_arguments = pickle.load(sys.stdin.buffer)
    getattr(importlib.import_module(module), function)(*arguments).prepare(*prepare_arguments)


if __name__ == "__main__":
    main()
