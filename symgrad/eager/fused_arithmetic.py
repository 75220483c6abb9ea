"""PyTorch's fused arithmetic on Tensors: ``lerp``, ``addcmul``, ``addcdiv``, ``addmm``,
``baddbmm``, ``addbmm``, ``addmv``, ``addr``, ``rsqrt``, ``cross``, ``cdist`` and ``dist``,
composites of numpy-level ops (differentiable eagerly and inside a compiled step).

>>> import symgrad as torch
>>> torch.lerp(torch.tensor([0.0, 10.0]), torch.tensor([10.0, 20.0]), 0.5).tolist()
[5.0, 15.0]
>>> torch.cdist(torch.tensor([[0.0, 0.0]]), torch.tensor([[3.0, 4.0]])).tolist()
[[5.0]]
"""
import numpy as np

import symgrad.core.ops as ops
from symgrad.eager.dims import normalize_dim
from symgrad.eager.tensor import Tensor, apply


# -- module-level functions the tape replays (their identity is part of the cache key) -------
def lerped(start, end, weight):
    return ops.add(start, ops.multiply(weight, ops.subtract(end, start)))


def added_product(x, a, b, value):
    return ops.add(x, ops.multiply(value, ops.multiply(a, b)))


def added_quotient(x, a, b, value):
    return ops.add(x, ops.multiply(value, ops.true_divide(a, b)))


def scaled_sum(x, product, beta, alpha):
    """``beta * x + alpha * product``; ``x`` is ignored when beta is 0 (its nan too), as in
    PyTorch."""
    scaled = product if alpha == 1 else ops.multiply(alpha, product)
    if beta == 0:
        return ops.add(scaled, ops.multiply(0, ops.nan_to_num(x)))
    return ops.add(x if beta == 1 else ops.multiply(beta, x), scaled)


def batch_product_sum(x, a, b, beta, alpha):
    return scaled_sum(x, ops.sum(ops.matmul(a, b), 0), beta, alpha)


def matrix_product_sum(x, a, b, beta, alpha):
    return scaled_sum(x, ops.matmul(a, b), beta, alpha)


def outer_sum(x, a, b, beta, alpha):
    return scaled_sum(x, ops.multiply(ops.expand_dims(a, -1), b), beta, alpha)


def reciprocal_root(x):
    return ops.true_divide(1, ops.sqrt(x))


def crossed(a, b, axis):
    ahead, behind = np.array([1, 2, 0]), np.array([2, 0, 1])
    return ops.subtract(ops.multiply(ops.take(a, ahead, axis), ops.take(b, behind, axis)),
                        ops.multiply(ops.take(a, behind, axis), ops.take(b, ahead, axis)))


def safe_root(total, power):
    """``total ** (1 / power)`` with gradient 0 where ``total`` is 0 (PyTorch's subgradient
    of a norm at 0, where the plain root's would be 0 * inf = nan)."""
    positive = ops.greater(total, 0)
    safe = ops.where(positive, total, 1)
    root = ops.sqrt(safe) if power == 2 else ops.power(safe, 1.0 / power)
    return ops.where(positive, root, 0)


def p_norm(x, p, axes, keepdims):
    """The vector ``p``-norm over ``axes`` (None: all), PyTorch's gradients at 0."""
    magnitude = ops.absolute(x)
    if p == np.inf:
        return ops.amax(magnitude, axes, keepdims=keepdims)
    if p == -np.inf:
        return ops.amin(magnitude, axes, keepdims=keepdims)
    if p == 0:
        return ops.sum(ops.astype(ops.not_equal(x, 0), x.dtype), axes, keepdims=keepdims)
    if p == 1:
        return ops.sum(magnitude, axes, keepdims=keepdims)
    powered = ops.multiply(x, x) if p == 2 else ops.power(magnitude, p)
    return safe_root(ops.sum(powered, axes, keepdims=keepdims), p)


def pairwise_distances(a, b, p):
    differences = ops.subtract(ops.expand_dims(a, -2), ops.expand_dims(b, -3))
    return p_norm(differences, p, -1, False)


# -- functions and methods ------------------------------------------------------------------
def _tensor(value):
    return value if isinstance(value, Tensor) else Tensor(np.asarray(value))


def lerp(self, end, weight):
    """``start + weight * (end - start)``, ``weight`` a number or a tensor."""
    return apply("LerpBackward0", lerped, self, end, weight)


def addcmul(self, tensor1, tensor2, *, value=1):
    return apply("AddcmulBackward0", added_product, self, tensor1, tensor2, value)


def addcdiv(self, tensor1, tensor2, *, value=1):
    if not (_tensor(tensor1).dtype.is_floating_point or _tensor(tensor2).dtype.is_floating_point):
        raise RuntimeError("Integer division with addcdiv is no longer supported, and in a "
                           "future release addcdiv will perform a true division of tensor1 and "
                           "tensor2. The historic addcdiv behavior can be implemented as "
                           "(input + value * torch.trunc(tensor1 / tensor2)).to(input.dtype) for "
                           "integer inputs and as (input + value * tensor1 / tensor2) for float "
                           "inputs. The future addcdiv behavior is just the latter "
                           "implementation: (input + value * tensor1 / tensor2), for all dtypes.")
    return apply("AddcdivBackward0", added_quotient, self, tensor1, tensor2, value)


def _check_dims(name, tensor, ndim):
    if tensor.ndim != ndim:
        raise RuntimeError(f"{name} must be a {ndim}D tensor")


def addmm(self, mat1, mat2, *, beta=1, alpha=1):
    _check_dims("mat1", mat1, 2)
    _check_dims("mat2", mat2, 2)
    if mat1.shape[1] != mat2.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({mat1.shape[0]}x"
                           f"{mat1.shape[1]} and {mat2.shape[0]}x{mat2.shape[1]})")
    return apply("AddmmBackward0", matrix_product_sum, self, mat1, mat2, beta=beta, alpha=alpha)


def _check_batches(batch1, batch2):
    _check_dims("batch1", batch1, 3)
    _check_dims("batch2", batch2, 3)
    if batch1.shape[0] != batch2.shape[0] or batch1.shape[2] != batch2.shape[1]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{batch1.shape[0]}, {batch1.shape[2]}] but got: "
                           f"[{batch2.shape[0]}, {batch2.shape[1]}].")


def baddbmm(self, batch1, batch2, *, beta=1, alpha=1):
    """``beta * input + alpha * (batch1 @ batch2)``."""
    _check_batches(batch1, batch2)
    return apply("BaddbmmBackward0", matrix_product_sum, self, batch1, batch2, beta=beta,
                 alpha=alpha)


def addbmm(self, batch1, batch2, *, beta=1, alpha=1):
    """``beta * input + alpha * sum_b(batch1[b] @ batch2[b])``."""
    _check_batches(batch1, batch2)
    return apply("AddbmmBackward0", batch_product_sum, self, batch1, batch2, beta=beta,
                 alpha=alpha)


def addmv(self, mat, vec, *, beta=1, alpha=1):
    _check_dims("vector", vec, 1)
    _check_dims("matrix", mat, 2)
    if mat.shape[1] != vec.shape[0]:
        raise RuntimeError(f"size mismatch, got input ({self.shape[0] if self.ndim else 1}), "
                           f"mat ({mat.shape[0]}x{mat.shape[1]}), vec ({vec.shape[0]})")
    return apply("AddmvBackward0", matrix_product_sum, self, mat, vec, beta=beta, alpha=alpha)


def addr(self, vec1, vec2, *, beta=1, alpha=1):
    _check_dims("addr: Expected 1-D argument vec1, but got", vec1, 1)
    return apply("AddrBackward0", outer_sum, self, vec1, vec2, beta=beta, alpha=alpha)


def rsqrt(self):
    return apply("RsqrtBackward0", reciprocal_root, self)


def cross(self, other, dim=None):
    """``torch.cross``: the cross product along ``dim`` (the first dim of size 3 when None,
    as ``torch.cross``; ``torch.linalg.cross`` takes the last)."""
    other = _tensor(other)
    shape = np.broadcast_shapes(tuple(self.shape), tuple(other.shape))
    if dim is None:
        dim = next((d for d, size in enumerate(shape) if size == 3), None)
        if dim is None:
            raise RuntimeError("no dimension of size 3 in input")
    axis = normalize_dim(dim, shape, "cross()")
    if shape[axis] != 3 or self.shape[axis - len(shape) + self.ndim] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got "
                           f"{self.shape[axis - len(shape) + self.ndim]} and "
                           f"{other.shape[axis - len(shape) + other.ndim]}")
    return apply("LinalgCrossBackward0", crossed, self.expand(*shape), other.expand(*shape),
                 axis=axis)


def _norm_order(p):
    return float(p) if not isinstance(p, str) else p


def cdist(x1, x2, p=2.0, compute_mode=None):
    """``torch.cdist``: the ``p``-norm distances between the rows of ``x1`` and ``x2``
    (batches broadcast); the gradient at distance 0 is 0, as PyTorch's."""
    if x1.ndim < 2 or x2.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X1 got: {x1.ndim}D")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: "
                           f"{x1.shape[-1]} X2: {x2.shape[-1]}")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    return apply("CdistBackward0", pairwise_distances, x1, x2, p=_norm_order(p))


def dist(self, other, p=2):
    """``torch.dist``: the ``p``-norm of ``self - other``."""
    return apply("NormBackward1", p_norm, self - other, p=_norm_order(p), axes=None,
                 keepdims=False)


def fused_methods():
    return {"lerp": lerp, "addcmul": addcmul, "addcdiv": addcdiv, "addmm": addmm,
            "baddbmm": baddbmm, "addbmm": addbmm, "addmv": addmv, "addr": addr, "rsqrt": rsqrt,
            "cross": cross, "dist": dist}


def fused_functions():
    return {**fused_methods(), "cdist": cdist}

