"""``gemm(alpha, a, b, beta, c)``: ``c = alpha * a @ b + beta * c`` in one BLAS call.

numba's ``np.dot`` always passes alpha=1, beta=0; an SGD update ``w - lr * (x.T @ g)`` then
needs the product in a buffer and a second pass over it. This calls the same BLAS
(``numba_xxgemm``, scipy's sgemm/dgemm) with alpha and beta, so the product accumulates
straight into ``w``. ``a``, ``b`` and ``c`` are 2-D, C or F contiguous (a transpose is an F
view), of one float dtype.
"""
import numba
from llvmlite import ir
from numba.core import cgutils, types
from numba.core.imputils import impl_ret_borrowed
from numba.extending import intrinsic


def character(letter):
    return ir.Constant(ir.IntType(8), ord(letter))


def item_size(context, dtype):
    return context.get_constant(types.intp, context.get_abi_sizeof(context.get_data_type(dtype)))


def leading_dimension(context, builder, stride, extent, dtype):
    """A C array's row stride (an F array's column stride) in elements: a block of rows of
    a transposed matrix has a longer one than its shape says. At least ``extent`` and 1, as
    BLAS requires (a size-1 axis may have any stride)."""
    elements = builder.sdiv(stride, item_size(context, dtype))
    least = builder.select(builder.icmp_signed(">", extent, extent.type(1)), extent, extent.type(1))
    return builder.select(builder.icmp_signed("<", elements, least), least, elements)


@intrinsic
def with_layout_of(typingctx, view, array):
    """``view`` typed with ``array``'s layout: the generated code takes blocks of rows of C
    or F arrays, which are still unit-strided along the same axis (numba calls a block of
    an F array's rows layout 'A')."""
    result = types.Array(view.dtype, view.ndim, array.layout)
    return result(view, array), _same_array(result)


@intrinsic
def strided(typingctx, array):
    """A C- or F-contiguous matrix typed with layout 'A': ``gemm`` reads its order from its
    strides at run time, so it is compiled once for every mix of operand layouts (each
    specialization is a noticeable part of a cold compile)."""
    if not (isinstance(array, types.Array) and array.ndim == 2 and array.layout in "CF"):
        raise numba.TypingError(f"strided takes a 2-D C- or F-contiguous array, not {array}")
    result = array.copy(layout="A")
    return result(array), _same_array(result)


def _same_array(result):
    """Codegen of a retyping intrinsic: its first argument, as ``result``."""
    def codegen(context, builder, signature, arguments):
        return impl_ret_borrowed(context, builder, result, arguments[0])
    return codegen


@intrinsic
def blas_gemm(typingctx, alpha, a, b, beta, c):
    """The BLAS call itself: every dimension must be at least 1 (BLAS's leading-dimension
    rule). ``a`` and ``b`` of layout 'A' must be C- or F-contiguous (made by ``strided``)."""
    if not all(isinstance(x, types.Array) and x.ndim == 2 for x in (a, b, c)) or \
            any(x.layout not in "CFA" for x in (a, b)) or c.layout not in "CF":
        raise numba.TypingError("gemm takes 2-D C- or F-contiguous arrays")
    if not (a.dtype == b.dtype == c.dtype) or a.dtype not in (types.float32, types.float64):
        raise numba.TypingError("gemm takes float32 or float64 arrays of one dtype")

    def codegen(context, builder, signature, arguments):
        alpha_value, a_value, b_value, beta_value, c_value = arguments
        dtype = c.dtype
        a_array, b_array, c_array = (context.make_array(t)(context, builder, v)
                                     for t, v in ((a, a_value), (b, b_value), (c, c_value)))
        m, k = cgutils.unpack_tuple(builder, a_array.shape)
        n = cgutils.unpack_tuple(builder, b_array.shape)[1]

        def blas_operand(array, array_type):
            # BLAS is column-major: a C-ordered result is computed as c.T = b.T @ a.T
            shape = cgutils.unpack_tuple(builder, array.shape)
            strides = cgutils.unpack_tuple(builder, array.strides)
            data = builder.bitcast(array.data, cgutils.voidptr_t)
            leading = {order: leading_dimension(context, builder, strides[axis], shape[1 - axis], dtype)
                       for order, axis in (("C", 0), ("F", 1))}      # C: the long stride on axis 0
            if array_type.layout != "A":
                same = array_type.layout == c.layout
                return character("n" if same else "t"), leading[array_type.layout], data
            as_c = builder.icmp_signed("==", strides[1], item_size(context, dtype))
            same = as_c if c.layout == "C" else builder.not_(as_c)
            return (builder.select(same, character("n"), character("t")),
                    builder.select(as_c, leading["C"], leading["F"]), data)

        def slot(value, value_type):
            return builder.bitcast(cgutils.alloca_once_value(
                builder, context.cast(builder, value, value_type, dtype)), cgutils.voidptr_t)

        first, second = ((b_array, b), (a_array, a)) if c.layout == "C" else ((a_array, a), (b_array, b))
        rows, columns = (n, m) if c.layout == "C" else (m, n)
        trans_first, ld_first, data_first = blas_operand(*first)
        trans_second, ld_second, data_second = blas_operand(*second)
        _, ldc, _ = blas_operand(c_array, c)
        intp = context.get_value_type(types.intp)
        function_type = ir.FunctionType(ir.IntType(32), [
            ir.IntType(8), ir.IntType(8), ir.IntType(8), intp, intp, intp,
            cgutils.voidptr_t, cgutils.voidptr_t, intp, cgutils.voidptr_t, intp,
            cgutils.voidptr_t, cgutils.voidptr_t, intp])
        function = cgutils.get_or_insert_function(builder.module, function_type, "numba_xxgemm")
        kind = character("s" if dtype == types.float32 else "d")
        builder.call(function, (kind, trans_first, trans_second, rows, columns, k,
                                slot(alpha_value, signature.args[0]), data_first, ld_first,
                                data_second, ld_second, slot(beta_value, signature.args[3]),
                                builder.bitcast(c_array.data, cgutils.voidptr_t), ldc))
        return context.get_dummy_value()
    return types.none(alpha, a, b, beta, c), codegen


@numba.njit
def gemm(alpha, a, b, beta, c):
    """``c = alpha * a @ b + beta * c``, empty dimensions included."""
    if c.size == 0:
        return
    if b.shape[0] == 0:          # an empty sum: c = beta * c
        for i in range(c.shape[0]):
            for j in range(c.shape[1]):
                c[i, j] = beta * c[i, j] if beta != 0 else 0
        return
    blas_gemm(alpha, a, b, beta, c)


@numba.njit
def gemm_block(first, last, alpha, a, b, beta, c):
    """``gemm`` of rows ``first:last`` of ``c`` (and ``a``)."""
    gemm(alpha, with_layout_of(a[first:last], a), b, beta, with_layout_of(c[first:last], c))


@numba.njit
def gemm_rows(part, parts, alpha, a, b, beta, c):
    """``gemm`` of the ``part``-th of ``parts`` blocks of rows of ``c`` (and ``a``): the
    generated code runs the parts on numba's threads, BLAS on one thread each."""
    gemm_block(c.shape[0] * part // parts, c.shape[0] * (part + 1) // parts, alpha, a, b, beta, c)


@numba.njit
def gemm_columns(part, parts, alpha, a, b, beta, c):
    """``gemm`` of the ``part``-th of ``parts`` blocks of columns of ``c`` (and ``b``)."""
    first, last = c.shape[1] * part // parts, c.shape[1] * (part + 1) // parts
    gemm(alpha, a, with_layout_of(b[:, first:last], b), beta, with_layout_of(c[:, first:last], c))


@numba.njit
def gemm_inner(part, parts, alpha, a, b, beta, c, partials):
    """``gemm`` over the ``part``-th of ``parts`` blocks of the summed dimension (columns of
    ``a``, rows of ``b``): part 0 computes into ``c`` (with ``beta``), part p > 0 into
    ``partials[p - 1]``; ``add_partials`` then completes ``c``. A thread reads only its own
    rows of ``b``: those its part of an update by rows has just written."""
    first, last = a.shape[1] * part // parts, a.shape[1] * (part + 1) // parts
    a_block, b_block = with_layout_of(a[:, first:last], a), with_layout_of(b[first:last], b)
    if part == 0:
        gemm(alpha, a_block, b_block, beta, c)
    else:
        gemm(alpha, a_block, b_block, 0.0, partials[part - 1])


@numba.njit
def add_partials(c, partials):
    """``c += partials.sum(axis=0)``, the partial products of ``gemm_inner``'s parts."""
    for part in range(partials.shape[0]):
        for i in range(c.shape[0]):
            for j in range(c.shape[1]):
                c[i, j] += partials[part, i, j]
