"""autograd.wrap_util.unary_to_nary: an operator on unary functions, made n-ary by argnum."""
import functools


def unary_of(fun, argnum, args, kwargs):
    """``(unary, x)``: ``fun`` as a function of ``args[argnum]`` alone (a tuple of arguments
    for a tuple ``argnum``), and that argument's value."""
    def unary(x):
        full = list(args)
        if isinstance(argnum, int):
            full[argnum] = x
        else:
            for position, value in zip(argnum, x):
                full[position] = value
        return fun(*full, **kwargs)
    unary.__name__ = getattr(fun, "__name__", "f")
    x = args[argnum] if isinstance(argnum, int) else tuple(args[i] for i in argnum)
    return unary, x


def unary_to_nary(unary_operator):
    @functools.wraps(unary_operator)
    def nary_operator(fun, argnum=0, *op_args, **op_kwargs):
        def nary_f(*args, **kwargs):
            unary_f, x = unary_of(fun, argnum, args, kwargs)
            return unary_operator(unary_f, x, *op_args, **op_kwargs)
        return nary_f
    return nary_operator
