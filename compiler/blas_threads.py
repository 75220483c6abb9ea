"""How many threads BLAS may use: one while eager code runs, all cores inside compiled loops.

numpy and scipy each bundle their own OpenBLAS; numba's ``np.dot`` calls scipy's, eager
numpy calls numpy's. Idle OpenBLAS threads spin, so when both libraries alternate within a
training step on a 2-core machine they starve each other: the W1 eager step measured 60 ms
instead of 0.56 ms. So once compiled code may call BLAS, every BLAS library gets one thread
(``SYMGRAD_BLAS_THREADS`` chooses another count). A compiled training loop calls only
scipy's BLAS for its whole run, so there BLAS gets every core (W1: 238 µs per step instead
of 327; ``SYMGRAD_LOOP_BLAS_THREADS`` chooses another count).
"""
import os

_settled = []


def settle_blas_threads():
    if _settled:
        return
    import scipy.linalg.cython_blas  # noqa: F401  (loads the OpenBLAS that numba calls)
    from threadpoolctl import threadpool_limits
    threadpool_limits(int(os.environ.get("SYMGRAD_BLAS_THREADS", "1")), user_api="blas")
    _settled.append(True)


def loop_blas_threads():
    """A context manager: BLAS on every core while a compiled loop runs."""
    from threadpoolctl import threadpool_limits
    count = int(os.environ.get("SYMGRAD_LOOP_BLAS_THREADS", str(os.cpu_count() or 1)))
    return threadpool_limits(count, user_api="blas")
