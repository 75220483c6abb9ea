"""Every primitive, declared once per family module; ``OPS`` maps names to :class:`Op`."""
from symgrad.core.ops.registry import OPS, Aval, Op, declare  # noqa: F401  (registry first)
from symgrad.core.ops.elementwise import (  # noqa: F401
    absolute, add, astype, clip, cos, equal, exp, greater, greater_equal, identity, less,
    less_equal, log, log1p, maximum, minimum, multiply, negative, not_equal, power, relu,
    sigmoid, sign, sin, sqrt, square, subtract, tanh, true_divide, where)
from symgrad.core.ops.elementwise_math import (  # noqa: F401
    arccos, arccosh, arcsin, arcsinh, arctan, arctan2, arctanh, cbrt, copysign, cosh, deg2rad,
    exp2, expm1, fabs, float_power, hypot, log10, log2, logaddexp, logaddexp2, rad2deg,
    reciprocal, sinc, sinh, tan)
from symgrad.core.ops.special import (  # noqa: F401  (scipy.special's functions)
    betaln, digamma, erf, erfc, erfcinv, erfinv, expit, gamma, gammaln, i0, i1, logit,
    multigammaln, polygamma, xlog1py, xlogy)
from symgrad.core.ops.incomplete_gamma import beta, gammainc, gammaincc, rgamma  # noqa: F401
from symgrad.core.ops.rounding import (  # noqa: F401
    around, ceil, divmod_, floor, floor_divide, fmod, frac, heaviside, isfinite, isinf, isnan,
    nan_to_num, remainder, rint, select, trunc)
from symgrad.core.ops.complex_parts import (  # noqa: F401
    angle, conj, imag, iscomplex, iscomplexobj, isreal, isrealobj, real, real_if_close)
from symgrad.core.ops.logical import (  # noqa: F401
    bitwise_and, bitwise_or, bitwise_xor, invert, logical_and, logical_not, logical_or, logical_xor)
from symgrad.core.ops.reduction import amax, amin, mean, prod, sum  # noqa: F401
from symgrad.core.ops.statistics import (  # noqa: F401
    all, any, average, count_nonzero, cumprod, cumsum, logsumexp, nanmax, nanmean, nanmin,
    nansum, ptp, std, torch_correction, var)
from symgrad.core.ops.shape import (  # noqa: F401
    broadcast_to, concatenate, expand_dims, ravel, reshape, squeeze, stack, swapaxes, transpose)
from symgrad.core.ops.indexing import (  # noqa: F401  (getitem/setitem: basic and advanced)
    add_at, gather, getitem, scatter_add, setitem, take, take_along_axis)
from symgrad.core.ops.construction import (  # noqa: F401
    array, asarray, column_stack, dstack, hstack, split, vstack)
from symgrad.core.ops.array_likes import append  # noqa: F401  (np.mean([x, y]), np.r_, ...)
from symgrad.core.ops.differences import (  # noqa: F401
    diff, fmax, fmin, gradient, linspace)
from symgrad.core.ops.reordering import (  # noqa: F401
    flip, moveaxis, pad, repeat, roll, rot90, tile)
from symgrad.core.ops.sorting import argmax, argmin, argsort, sort  # noqa: F401
from symgrad.core.ops.linalg import matmul  # noqa: F401
from symgrad.core.ops.contraction import dot, inner, kron, outer, tensordot, vdot  # noqa: F401
from symgrad.core.ops.diagonal import diag, diagonal, trace, tril, triu  # noqa: F401
from symgrad.core.ops.einsum import einsum  # noqa: F401
import symgrad.core.ops.fft as fft  # noqa: F401  (np.fft.* on tracers)
import symgrad.core.ops.decompositions  # noqa: F401  (solve, slogdet, cholesky, eigh, svd, pinv)
import symgrad.core.ops.numpy_linalg as linalg  # noqa: F401  (np.linalg.* on tracers)
from symgrad.core.ops.norms import norm  # noqa: F401
import symgrad.core.ops.array_api_linalg  # noqa: F401  (np.linalg.matrix_norm, vecdot, ...)
from symgrad.core.ops.conv import (  # noqa: F401
    avg_pool2d, avg_pool2d_grad, conv2d, conv2d_input_grad, conv2d_weight_grad, max_pool2d,
    max_pool2d_gather, max_pool2d_grad)
import symgrad.core.ops.custom as custom  # noqa: F401  (custom_vjp, for autograd.Function)
from symgrad.core.ops.random import random_uniform  # noqa: F401
import symgrad.core.ops.control  # noqa: F401  (scan, while, switch: symgrad.control_flow)
import symgrad.core.ops.collective  # noqa: F401,E402  (all_reduce_mean across MPI ranks)
