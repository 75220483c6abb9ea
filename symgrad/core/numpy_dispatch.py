"""Which numpy function traces as which symgrad function (``__array_function__`` and
``__array_ufunc__`` look here); anything missing raises a TracingError naming it."""
import numpy as np

import symgrad.core.ops as ops
import symgrad.core.views as views
from symgrad.core.tracing import NUMPY_FUNCTIONS

NUMPY_FUNCTIONS.update({
    # ufuncs
    np.add: ops.add, np.subtract: ops.subtract, np.multiply: ops.multiply,
    np.true_divide: ops.true_divide, np.power: ops.power, np.negative: ops.negative,
    np.positive: lambda x: x, np.absolute: ops.absolute, np.sign: ops.sign,
    np.exp: ops.exp, np.log: ops.log, np.log1p: ops.log1p, np.sqrt: ops.sqrt,
    np.sin: ops.sin, np.cos: ops.cos, np.tanh: ops.tanh, np.square: ops.square,
    np.maximum: ops.maximum, np.minimum: ops.minimum, np.matmul: ops.matmul,
    np.less: ops.less, np.less_equal: ops.less_equal, np.greater: ops.greater,
    np.greater_equal: ops.greater_equal, np.equal: ops.equal, np.not_equal: ops.not_equal,
    # functions
    np.where: ops.where, np.clip: ops.clip, np.sum: ops.sum, np.mean: ops.mean,
    np.max: ops.amax, np.amax: ops.amax, np.min: ops.amin, np.amin: ops.amin, np.prod: ops.prod,
    np.dot: ops.dot, np.concatenate: ops.concatenate, np.stack: ops.stack,
    # views of their argument (symgrad.core.views), and a copy
    np.transpose: views.transpose, np.swapaxes: views.swapaxes, np.reshape: views.reshape,
    np.expand_dims: views.expand_dims, np.squeeze: views.squeeze, np.ravel: views.ravel,
    np.broadcast_to: views.broadcast_to, np.copy: views.array_copy,
    np.shape: lambda x: x.shape, np.ndim: lambda x: x.ndim, np.size: lambda x: x.size,
})
