"""One BLAS thread per library, by default, once compiled code may call BLAS.

numpy and scipy each bundle their own OpenBLAS; numba's ``np.dot`` calls scipy's, eager
numpy calls numpy's. Idle OpenBLAS threads spin, so when both libraries alternate within a
training step on a 2-core machine they starve each other: the W1 eager step measured 60 ms
instead of 0.56 ms. ``SYMGRAD_BLAS_THREADS=N`` chooses another count.
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
