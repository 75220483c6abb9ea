"""How many threads BLAS may use: one while eager code runs, all cores inside compiled loops.

numpy and scipy each bundle their own OpenBLAS; numba's ``np.dot`` calls scipy's, eager
numpy calls numpy's. Idle OpenBLAS threads spin, so when both libraries alternate within a
training step on a 2-core machine they starve each other: the W1 eager step measured 60 ms
instead of 0.56 ms. So once compiled code may call BLAS, every BLAS library gets one thread
(``SYMGRAD_BLAS_THREADS`` chooses another count). A compiled training loop calls only
scipy's BLAS for its whole run, so there BLAS gets every core (W1: 238 µs per step instead
of 327; ``SYMGRAD_LOOP_BLAS_THREADS`` chooses another count).
"""
import contextlib
import importlib.machinery
import importlib.util
import os
import sys

_settled = []
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
    from threadpoolctl import threadpool_limits
    threadpool_limits(int(os.environ.get("SYMGRAD_BLAS_THREADS", "1")), user_api="blas")
    _settled.append(True)


def loop_blas_threads():
    """A context manager: BLAS on every core while a compiled loop runs."""
    from threadpoolctl import threadpool_limits
    count = int(os.environ.get("SYMGRAD_LOOP_BLAS_THREADS", str(os.cpu_count() or 1)))
    return threadpool_limits(count, user_api="blas")
