"""How many threads BLAS may use: one for eager numpy, all cores for compiled code.

numpy and scipy each bundle their own OpenBLAS; numba's BLAS calls go to scipy's, eager
numpy calls numpy's. Idle OpenBLAS threads spin, so when both libraries have threads and
alternate within a training step on a 2-core machine they starve each other: the W1 eager
step measured 60 ms instead of 0.56 ms. So once compiled code may call BLAS, every BLAS
library gets one thread (``SYMGRAD_BLAS_THREADS`` chooses another count), except scipy's own
bundled OpenBLAS, the one compiled code calls, which gets every core
(``SYMGRAD_LOOP_BLAS_THREADS`` chooses another count): with numpy's on one thread only one
pool spins (W1 eager step with its compiled backward: 609 -> 536 µs). A compiled training
loop gives every BLAS library every core for its run (W1: 238 µs per step instead of 327).
Functions on numba's threads keep BLAS on one thread while they run (``one_blas_thread``;
see compiler.codegen.threads).
"""
import contextlib
import importlib.machinery
import importlib.util
import os
import sys

_settled = []
_compiled_blas = []  # threadpoolctl's controllers of the OpenBLAS compiled code calls
BLAS_MODULE = "scipy.linalg.cython_blas"


class _AttachToParent:
    """A meta path finder that only watches for ``scipy.linalg``: once the package is
    imported for real, the already loaded ``cython_blas`` becomes its attribute, as a
    regular import would have made it. It then removes itself."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "scipy.linalg":
            return None
        with contextlib.suppress(ValueError):
            sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is None or not hasattr(spec.loader, "exec_module"):
            return spec
        run = spec.loader.exec_module        # this spec's own loader instance

        def exec_module(module):
            if BLAS_MODULE in sys.modules:
                module.cython_blas = sys.modules[BLAS_MODULE]
            run(module)

        spec.loader.exec_module = exec_module
        return spec


def load_scipy_blas():
    """Import ``scipy.linalg.cython_blas`` (whose OpenBLAS numba's ``np.dot`` calls) without
    running ``scipy.linalg/__init__.py``: that package import costs ~0.15 s (scipy's array
    API layer imports numpy.f2py and more), a third of a warm first call. The extension
    module itself loads in 2 ms; ``scipy.linalg`` gets it as its attribute when imported."""
    if BLAS_MODULE in sys.modules:
        return
    try:
        import scipy
        folder = os.path.join(os.path.dirname(scipy.__file__), "linalg")
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            path = os.path.join(folder, "cython_blas" + suffix)
            if os.path.exists(path):
                break
        else:
            raise ImportError(f"no cython_blas extension in {folder}")
        spec = importlib.util.spec_from_file_location(BLAS_MODULE, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[BLAS_MODULE] = module
        spec.loader.exec_module(module)
    except Exception:
        sys.modules.pop(BLAS_MODULE, None)
        import scipy.linalg.cython_blas  # noqa: F401  (the ordinary way)
        return
    if "scipy.linalg" in sys.modules:
        sys.modules["scipy.linalg"].cython_blas = module
    else:
        sys.meta_path.insert(0, _AttachToParent())


def settle_blas_threads():
    if _settled:
        return
    load_scipy_blas()  # the OpenBLAS that numba calls
    from threadpoolctl import ThreadpoolController, threadpool_limits
    threadpool_limits(int(os.environ.get("SYMGRAD_BLAS_THREADS", "1")), user_api="blas")
    import scipy
    own = os.path.dirname(os.path.realpath(scipy.__file__)) + ".libs"    # where wheels bundle it
    _compiled_blas.extend(library for library in ThreadpoolController().lib_controllers
                          if library.user_api == "blas"
                          and os.path.realpath(library.filepath).startswith(own))
    _set_compiled_blas_threads(_compiled_thread_count())
    _settled.append(True)


def _compiled_thread_count():
    return int(os.environ.get("SYMGRAD_LOOP_BLAS_THREADS", str(os.cpu_count() or 1)))


def _set_compiled_blas_threads(count):
    for library in _compiled_blas:
        library.set_num_threads(count)


@contextlib.contextmanager
def one_blas_thread():
    """numba's BLAS on one thread while a function that runs on numba's threads runs."""
    _set_compiled_blas_threads(1)
    try:
        yield
    finally:
        _set_compiled_blas_threads(_compiled_thread_count())


def loop_blas_threads():
    """A context manager: BLAS on every core while a compiled loop runs."""
    from threadpoolctl import threadpool_limits
    return threadpool_limits(_compiled_thread_count(), user_api="blas")
