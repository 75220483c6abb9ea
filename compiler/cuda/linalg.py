"""The LAPACK primitives (symgrad/core/ops/decompositions.py) are not on CUDA yet: each has
a lowering that says so, naming the op and the numpy function, instead of a missing entry."""

NUMPY_NAMES = {"solve": "np.linalg.solve / inv", "slogdet": "np.linalg.slogdet / det",
               "cholesky": "np.linalg.cholesky", "eigh": "np.linalg.eigh / eigvalsh",
               "svd": "np.linalg.svd / norm(ord=2 or 'nuc')", "pinv": "np.linalg.pinv"}


def _not_on_cuda_yet(op):
    def lower(lowering, node):
        raise NotImplementedError(
            f"op {op!r} ({NUMPY_NAMES[op]}, node %{node}) is not on CUDA yet: the CUDA backend "
            "has no dense linear algebra; compile this function with device='cpu'")
    return lower


LOWERINGS = {op: _not_on_cuda_yet(op) for op in NUMPY_NAMES}
