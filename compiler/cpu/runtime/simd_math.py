"""``exp`` and ``tanh`` as inline LLVM arithmetic and selects, so that LLVM vectorizes the
loops that call them: numba lowers ``np.exp``/``np.tanh`` to one libm call per element
(no vector math library is linked), which made the elementwise loops of a tanh network
cost more than its matrix products. Both are Cephes' algorithms (relative error about
2e-16 in float64), every branch computed and one chosen by a select; NaN, infinities,
overflow and underflow give numpy's results. They compute in float64 and return their
argument's float type (float64 for integers). Intrinsics rather than inlined numba
functions: inlining numba IR at every call site cost a tenth of a second of compile each."""
from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic

F64 = ir.DoubleType()
I64 = ir.IntType(64)


def polynomial(builder, x, coefficients):
    """``c0 * x**n + ... + cn`` by Horner's rule (a ``None`` coefficient is 1: monic)."""
    total = F64(1.0) if coefficients[0] is None else F64(coefficients[0])
    for c in coefficients[1:]:
        total = builder.fadd(builder.fmul(total, x), F64(c))
    return total


def select_below(builder, x, bound):
    """``x if x < bound else bound`` (NaN gives ``bound``)."""
    return builder.select(builder.fcmp_ordered("<", x, bound), x, bound)


def select_above(builder, x, bound):
    return builder.select(builder.fcmp_ordered(">", x, bound), x, bound)


def power_of_two(builder, exponent):
    """``2.0 ** exponent`` for an int64 ``exponent`` in -1022..1023, made from its bits."""
    return builder.bitcast(builder.shl(builder.add(exponent, I64(1023)), I64(52)), F64)


def unless_nan(builder, x, value):
    return builder.select(builder.fcmp_ordered("==", x, x), value, x)


def exp_ir(builder, x):
    """``exp(x)``: ``x = n ln 2 + r`` with ``|r| <= ln 2 / 2``, a Padé approximant of
    ``exp(r)``, and ``2 ** n`` applied in two halves so that subnormal results and overflow
    to inf come out as numpy's."""
    clamped = select_above(builder, select_below(builder, x, F64(709.8)), F64(-745.2))
    floor = cgutils.get_or_insert_function(builder.module, ir.FunctionType(F64, [F64]),
                                           "llvm.floor.f64")
    n = builder.call(floor, [builder.fadd(builder.fmul(clamped, F64(1.4426950408889634)),
                                          F64(0.5))])
    r = builder.fsub(builder.fsub(clamped, builder.fmul(n, F64(6.93145751953125e-1))),
                     builder.fmul(n, F64(1.42860682030941723212e-6)))
    rr = builder.fmul(r, r)
    p = builder.fmul(r, polynomial(builder, rr, (1.26177193074810590878e-4,
                                                 3.02994407707441961300e-2,
                                                 9.99999999999999999910e-1)))
    q = polynomial(builder, rr, (3.00198505138664455042e-6, 2.52448340349684104192e-3,
                                 2.27265548208155028766e-1, 2.00000000000000000009e0))
    e = builder.fadd(F64(1.0), builder.fdiv(builder.fmul(F64(2.0), p), builder.fsub(q, p)))
    k = builder.fptosi(n, I64)
    half = builder.ashr(k, I64(1))
    e = builder.fmul(builder.fmul(e, power_of_two(builder, half)),
                     power_of_two(builder, builder.sub(k, half)))
    return unless_nan(builder, x, e)


def tanh_ir(builder, x):
    """``tanh(x)``: a rational approximation for ``|x| < 0.625``, else
    ``1 - 2 / (exp(2|x|) + 1)`` with the sign of ``x`` (``|x|`` capped at 22, where tanh
    rounds to 1)."""
    fabs = cgutils.get_or_insert_function(builder.module, ir.FunctionType(F64, [F64]),
                                          "llvm.fabs.f64")
    z = builder.call(fabs, [x])
    zz = builder.fmul(x, x)
    ratio = builder.fdiv(
        polynomial(builder, zz, (-9.64399179425052238628e-1, -9.92877231001918586564e1,
                                 -1.61468768441708447952e3)),
        polynomial(builder, zz, (None, 1.12811678491632931402e2, 2.23548839060100448583e3,
                                 4.84406305325125486048e3)))
    small = builder.fadd(x, builder.fmul(builder.fmul(x, zz), ratio))
    twice = builder.fmul(F64(2.0), select_below(builder, z, F64(22.0)))
    large = builder.fsub(F64(1.0), builder.fdiv(F64(2.0),
                                                builder.fadd(exp_ir(builder, twice), F64(1.0))))
    signed = builder.select(builder.fcmp_ordered(">=", x, F64(0.0)), large,
                            builder.fsub(F64(0.0), large))
    result = builder.select(builder.fcmp_ordered("<", z, F64(0.625)), small, signed)
    # NaN, and a zero keeping its sign
    return builder.select(builder.fcmp_unordered("==", x, F64(0.0)), x, result)


def float64_function(body):
    """An intrinsic of one number computing ``body(builder, x)`` in float64."""
    def typer(typingctx, x):
        if not isinstance(x, (types.Float, types.Integer, types.Boolean)):
            return None
        result = x if isinstance(x, types.Float) else types.float64

        def codegen(context, builder, signature, arguments):
            value = context.cast(builder, arguments[0], x, types.float64)
            return context.cast(builder, body(builder, value), types.float64, result)
        return result(x), codegen
    typer.__name__ = body.__name__
    return intrinsic(typer)


simd_exp = float64_function(exp_ir)
simd_tanh = float64_function(tanh_ir)
