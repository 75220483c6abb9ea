"""``outlined(function, arguments)``: the call ``function(*arguments)`` of an outlined loop
nest (symgrad.compiler.cpu.outline), marked ``noinline`` so that LLVM keeps one copy of the
function instead of inlining, optimizing and vectorizing it again at every call."""
import numba
from numba.core import cgutils, types
from numba.extending import intrinsic


@intrinsic
def outlined(typingctx, function, arguments):
    """``function`` (a ``numba.njit`` function) called on the tuple ``arguments``."""
    if not isinstance(function, types.Dispatcher) or not isinstance(arguments, types.BaseTuple):
        raise numba.TypingError("outlined takes a numba.njit function and a tuple of arguments")
    inner = typingctx.resolve_function_type(function, tuple(arguments.types), {})
    if inner is None:
        raise numba.TypingError(f"outlined: {function} does not take {arguments}")

    def codegen(context, builder, signature, values):
        compiled = function.dispatcher.overloads[tuple(inner.args)]
        context.add_linking_libs([compiled.library])
        callee = context.declare_function(builder.module, compiled.fndesc)
        status, result = context.call_conv.call_function(
            builder, callee, inner.return_type, inner.args,
            cgutils.unpack_tuple(builder, values[1]), attrs=("noinline",))
        with cgutils.if_unlikely(builder, status.is_error):
            context.call_conv.return_status_propagate(builder, status)
        return result
    return inner.return_type(function, arguments), codegen
