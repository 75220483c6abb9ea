"""How many threads BLAS may use: one for eager numpy, all cores for compiled code.

numpy and scipy each bundle their own OpenBLAS; numba's BLAS calls go to scipy's, eager
numpy calls numpy's. Idle OpenBLAS threads spin, and so do numba's OpenMP threads between
parallel loops: two pools of spinning threads on a 2-core machine starve each other (an
eager step with both OpenBLAS libraries on two threads ran tens of times slower). So only
one pool has threads at a time:

- Once compiled code may call BLAS (``settle_blas_threads``), every BLAS library gets one
  thread (``SYMGRAD_BLAS_THREADS`` chooses another count) except scipy's own bundled
  OpenBLAS, the one compiled code calls, which gets every core (``SYMGRAD_LOOP_BLAS_THREADS``
  chooses another count); eager 2-D float products run on it too (``eager_matmul``).
- From the first call of a function on numba's threads on (``on_numba_threads``; see
  symgrad.compiler.cpu.threads), compiled code's BLAS has one thread too: numba's threads own
  the cores (an eager convolutional step whose backward runs on them took nearly twice as
  long with OpenBLAS's threads spinning beside them).
- A compiled training loop not on numba's threads gives every BLAS library every core for
  its run.
- Every pool gets only the cores other processes leave free (symgrad.compiler.cpu.free_cores),
  measured before each compiled call: a pool wanting a core another process keeps busy
  waits at every barrier for its descheduled thread.
"""
import contextlib
import importlib.machinery
import importlib.util
import os
import sys

import numpy as np
from symgrad.core.settings import compiled_blas_threads, numpy_blas_threads

from .free_cores import FREE_CORES

_compiled_blas = []  # threadpoolctl's controllers of the OpenBLAS compiled code calls
_compiled_blas_threads = []   # their thread count outside loops; empty until settled
_numba_threads_used = []      # [True] once a function on numba's threads has run
_numba_thread_count = []      # the count last given to numba.set_num_threads
LINALG = "scipy.linalg"
# numba's BLAS calls go through cython_blas; eager products through _fblas (f2py wrappers of
# the same library)
EXTENSIONS = ("cython_blas", "_fblas")


class _AttachToParent:
    """A meta path finder that only watches for ``scipy.linalg``: once the package is
    imported for real, the already loaded extensions become its attributes, as a regular
    import would have made them. It then removes itself."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != LINALG:
            return None
        with contextlib.suppress(ValueError):
            sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is None or not hasattr(spec.loader, "exec_module"):
            return spec
        run = spec.loader.exec_module        # this spec's own loader instance

        def exec_module(module):
            _attach(module)
            run(module)

        spec.loader.exec_module = exec_module
        return spec


def _attach(package):
    for name in EXTENSIONS:
        if f"{LINALG}.{name}" in sys.modules:
            setattr(package, name, sys.modules[f"{LINALG}.{name}"])


def _load_extension(name):
    import scipy
    folder = os.path.join(os.path.dirname(scipy.__file__), "linalg")
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        path = os.path.join(folder, name + suffix)
        if os.path.exists(path):
            break
    else:
        raise ImportError(f"no {name} extension in {folder}")
    spec = importlib.util.spec_from_file_location(f"{LINALG}.{name}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[f"{LINALG}.{name}"] = module
    spec.loader.exec_module(module)


def load_scipy_blas():
    """Import ``scipy.linalg.cython_blas`` (whose OpenBLAS numba's BLAS calls go to) and
    ``scipy.linalg._fblas`` without running ``scipy.linalg/__init__.py``: that package
    import (scipy's array API layer imports numpy.f2py and more) is a large part of a warm
    first call. The extension modules load at once; ``scipy.linalg`` gets them as its
    attributes when imported."""
    missing = [name for name in EXTENSIONS if f"{LINALG}.{name}" not in sys.modules]
    if not missing:
        return
    try:
        for name in missing:
            _load_extension(name)
    except Exception:
        for name in missing:
            sys.modules.pop(f"{LINALG}.{name}", None)
        import scipy.linalg._fblas  # noqa: F401  (the ordinary way)
        import scipy.linalg.cython_blas  # noqa: F401
        return
    if LINALG in sys.modules:
        _attach(sys.modules[LINALG])
    else:
        sys.meta_path.insert(0, _AttachToParent())


def settle_blas_threads():
    if _compiled_blas_threads:
        return
    load_scipy_blas()  # the OpenBLAS that numba calls
    from threadpoolctl import ThreadpoolController, threadpool_limits
    threadpool_limits(numpy_blas_threads(), user_api="blas")
    import scipy
    own = os.path.dirname(os.path.realpath(scipy.__file__)) + ".libs"    # where wheels bundle it
    _compiled_blas.extend(library for library in ThreadpoolController().lib_controllers
                          if library.user_api == "blas"
                          and os.path.realpath(library.filepath).startswith(own))
    # without a library of its own (scipy built on numpy's, or a system BLAS) nothing differs
    _set_compiled_blas_threads(_compiled_thread_count() if _compiled_blas else 1)


def _compiled_thread_count():
    return compiled_blas_threads()


def _set_compiled_blas_threads(count):
    _compiled_blas_threads[:] = [count]
    for library in _compiled_blas:
        library.set_num_threads(count)


def fit_blas_threads():
    """Before a compiled call not on numba's threads: compiled code's BLAS on the free
    cores (one thread once numba's threads own the cores)."""
    if not _compiled_blas:
        return
    wanted = 1 if _numba_threads_used else min(_compiled_thread_count(), FREE_CORES.count())
    if _compiled_blas_threads != [wanted]:
        _set_compiled_blas_threads(wanted)


def fit_numba_threads():
    """Before a call of a function on numba's threads: compiled code's BLAS has one thread
    from now on (numba's threads own the cores), and numba runs on the free cores."""
    import numba
    _numba_threads_used[:] = [True]
    if _compiled_blas_threads != [1]:
        _set_compiled_blas_threads(1)
    threads = min(numba.config.NUMBA_NUM_THREADS, FREE_CORES.count())
    if _numba_thread_count != [threads]:
        numba.set_num_threads(threads)
        _numba_thread_count[:] = [threads]


@contextlib.contextmanager
def on_numba_threads():
    """Around a call of a function on numba's threads (``fit_numba_threads``)."""
    fit_numba_threads()
    yield


def loop_blas_threads():
    """A context manager: BLAS on every free core while a compiled loop runs."""
    from threadpoolctl import threadpool_limits
    return threadpool_limits(min(_compiled_thread_count(), FREE_CORES.count()), user_api="blas")


GEMMS = {np.dtype(np.float32): "sgemm", np.dtype(np.float64): "dgemm"}


def eager_matmul(a, b):
    """``a @ b`` of two 2-D float arrays on the BLAS compiled code calls, while it has more
    threads than numpy's; None when that does not apply (the caller uses numpy). The result
    is C-ordered, as numpy's."""
    if not (_compiled_blas_threads and _compiled_blas_threads[0] > 1
            and isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.ndim == b.ndim == 2
            and a.dtype == b.dtype and a.dtype in GEMMS and a.shape[1] == b.shape[0]
            and a.size and b.size):
        return None
    # column-major BLAS computes the row-major product as its transpose: b.T @ a.T
    (first, transpose_first), (second, transpose_second) = _column_major(b), _column_major(a)
    if first is None or second is None:
        return None
    gemm = getattr(sys.modules[f"{LINALG}._fblas"], GEMMS[a.dtype])
    return gemm(1.0, first, second, trans_a=transpose_first, trans_b=transpose_second).T


def _column_major(array):
    """(an F-ordered view, whether BLAS must transpose it) giving ``array.T``; (None, 0)
    when the array is neither C- nor F-contiguous."""
    if array.flags.c_contiguous:
        return array.T, 0
    if array.flags.f_contiguous:
        return array, 1
    return None, 0
