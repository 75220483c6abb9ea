"""The names the op registry's scalar templates use (``np.exp({0})``, ``np.float32({0})``,
``max({0}, {1})``...), for CUDA kernels.

Generated CUDA modules import this module *as* ``np``, so every template is inlined
unchanged: numba-cuda lowers ``math`` functions to libdevice, while several numpy ufuncs on
scalars (``np.exp``, ``np.sqrt``, ``np.log1p``, ``np.sign``) have no CUDA lowering. Only the
names the templates and :func:`symgrad.compiler.codegen.source.literal` use are defined here.
"""
import math

import numpy
from numba.core import config, types
from numba.cuda.extending import intrinsic

exp = math.exp
log = math.log
log1p = math.log1p
sqrt = math.sqrt
sin = math.sin
cos = math.cos
tanh = math.tanh
tan = math.tan
arcsin, arccos, arctan, arctan2 = math.asin, math.acos, math.atan, math.atan2
sinh, cosh = math.sinh, math.cosh
arcsinh, arccosh, arctanh = math.asinh, math.acosh, math.atanh
expm1, log2, log10 = math.expm1, math.log2, math.log10
hypot, fmod, copysign = math.hypot, math.fmod, math.copysign
isnan, isinf, isfinite = math.isnan, math.isinf, math.isfinite
inf = math.inf
nan = math.nan


def _sign(x):
    """numpy's sign for the simulator: -1, 0 or 1 (NaN stays NaN)."""
    if x > 0:
        return 1
    if x < 0:
        return -1
    return x


@intrinsic
def _sign_on_device(typingctx, x):
    """numpy's sign in ``x``'s type, as inline IR: a device function would need a GPU
    context to be compiled (numba-cuda compiles it for the current device), so
    ``compile_ptx`` could not check kernels that call it."""
    def codegen(context, builder, signature, arguments):
        (value,) = arguments
        zero, one, minus_one = (context.get_constant(x, c) for c in (0, 1, -1))
        if isinstance(x, types.Float):
            above, below = (builder.fcmp_ordered(o, value, zero) for o in (">", "<"))
        else:
            above, below = (builder.icmp_signed(o, value, zero) for o in (">", "<"))
        return builder.select(above, one, builder.select(below, minus_one, value))
    return x(x), codegen


sign = _sign if config.ENABLE_CUDASIM else _sign_on_device


def _libdevice(name):
    """numpy's ``name`` for the simulator, libdevice's double-precision one on the device
    (``math.floor`` and ``math.ceil`` return integers; ``exp2`` and ``cbrt`` are not in
    ``math`` for numba-cuda)."""
    if config.ENABLE_CUDASIM:
        return getattr(numpy, name)
    from numba.cuda import libdevice
    return getattr(libdevice, name)


floor, ceil, trunc, rint, exp2, cbrt = map(
    _libdevice, ("floor", "ceil", "trunc", "rint", "exp2", "cbrt"))


# dtype constructors for casts and typed literals
bool_ = numpy.bool_
int8, int16, int32, int64 = numpy.int8, numpy.int16, numpy.int32, numpy.int64
uint8, uint16, uint32, uint64 = numpy.uint8, numpy.uint16, numpy.uint32, numpy.uint64
float16, float32, float64 = numpy.float16, numpy.float32, numpy.float64
