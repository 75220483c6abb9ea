"""Python operators and ndarray methods of :class:`~symgrad.core.tracing.Tracer`, as op calls."""
import symgrad.core.ops as ops
import symgrad.core.views as views
from symgrad.core.tracing import Tracer, copy_of


def _flipped(function):
    return lambda self, other: function(other, self)


def _reshape(self, *shape, order="C"):
    if order != "C":
        from symgrad.core.tracing import error_here
        raise error_here(f"reshape(order={order!r}) is not supported; only 'C'")
    return views.reshape(self, *shape)


def _transpose(self, *axes):
    return views.transpose(self, axes[0] if len(axes) == 1 and not isinstance(axes[0], int)
                           else (axes or None))


# operator name -> (function, the numpy ufunc's name for in-place error messages)
BINARY = {"add": (ops.add, "add"), "sub": (ops.subtract, "subtract"),
          "mul": (ops.multiply, "multiply"), "truediv": (ops.true_divide, "divide"),
          "pow": (ops.power, "power"), "matmul": (ops.matmul, "matmul")}
for _name, (_function, _ufunc_name) in BINARY.items():
    setattr(Tracer, f"__{_name}__", _function)
    setattr(Tracer, f"__r{_name}__", _flipped(_function))
    setattr(Tracer, f"__i{_name}__", views.in_place(_function, _ufunc_name))

for _name, _function in {"lt": ops.less, "le": ops.less_equal, "gt": ops.greater,
                         "ge": ops.greater_equal, "eq": ops.equal, "ne": ops.not_equal}.items():
    setattr(Tracer, f"__{_name}__", _function)

Tracer.__neg__ = ops.negative
Tracer.__pos__ = copy_of
Tracer.__abs__ = ops.absolute
Tracer.__getitem__ = views.getitem
Tracer.__setitem__ = views.setitem
Tracer.fill = views.fill
Tracer.T = property(views.transpose)
Tracer.mT = property(views.matrix_transpose)
Tracer.sum = lambda self, axis=None, keepdims=False, dtype=None: ops.sum(self, axis, keepdims, dtype)
Tracer.mean = lambda self, axis=None, keepdims=False, dtype=None: ops.mean(self, axis, keepdims, dtype)
Tracer.max = lambda self, axis=None, keepdims=False: ops.amax(self, axis, keepdims)
Tracer.min = lambda self, axis=None, keepdims=False: ops.amin(self, axis, keepdims)
Tracer.prod = lambda self, axis=None, keepdims=False, dtype=None: ops.prod(self, axis, keepdims, dtype)
Tracer.dot = ops.dot
Tracer.reshape = _reshape
Tracer.transpose = _transpose
Tracer.swapaxes = views.swapaxes
Tracer.squeeze = views.squeeze
Tracer.ravel = views.ravel
Tracer.flatten = views.flatten
Tracer.astype = views.astype
Tracer.clip = ops.clip
Tracer.copy = views.copy
