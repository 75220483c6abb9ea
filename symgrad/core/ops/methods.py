"""Python operators and ndarray methods of :class:`~symgrad.core.tracing.Tracer`, as op calls."""
import symgrad.core.ops as ops
from symgrad.core.tracing import Tracer


def _flipped(function):
    return lambda self, other: function(other, self)


def _setitem(self, index, value):
    # Functional update: the Python object now names the new node, as `a[:2] = v` means.
    updated = ops.setitem(self, index, value)
    self.node, self.aval = updated.node, updated.aval


def _reshape(self, *shape, order="C"):
    if order != "C":
        from symgrad.core.tracing import error_here
        raise error_here(f"reshape(order={order!r}) is not supported; only 'C'")
    return ops.reshape(self, *shape)


def _transpose(self, *axes):
    return ops.transpose(self, axes[0] if len(axes) == 1 and not isinstance(axes[0], int)
                         else (axes or None))


BINARY = {"add": ops.add, "sub": ops.subtract, "mul": ops.multiply, "truediv": ops.true_divide,
          "pow": ops.power, "matmul": ops.matmul}
for _name, _function in BINARY.items():
    setattr(Tracer, f"__{_name}__", _function)
    setattr(Tracer, f"__r{_name}__", _flipped(_function))

for _name, _function in {"lt": ops.less, "le": ops.less_equal, "gt": ops.greater,
                         "ge": ops.greater_equal, "eq": ops.equal, "ne": ops.not_equal}.items():
    setattr(Tracer, f"__{_name}__", _function)

Tracer.__neg__ = ops.negative
Tracer.__pos__ = lambda self: self
Tracer.__abs__ = ops.absolute
Tracer.__getitem__ = ops.getitem
Tracer.__setitem__ = _setitem
Tracer.T = property(lambda self: ops.transpose(self))
Tracer.mT = property(lambda self: ops.swapaxes(self, -1, -2))
Tracer.sum = lambda self, axis=None, keepdims=False, dtype=None: ops.sum(self, axis, keepdims, dtype)
Tracer.mean = lambda self, axis=None, keepdims=False, dtype=None: ops.mean(self, axis, keepdims, dtype)
Tracer.max = lambda self, axis=None, keepdims=False: ops.amax(self, axis, keepdims)
Tracer.min = lambda self, axis=None, keepdims=False: ops.amin(self, axis, keepdims)
Tracer.prod = lambda self, axis=None, keepdims=False, dtype=None: ops.prod(self, axis, keepdims, dtype)
Tracer.dot = ops.dot
Tracer.reshape = _reshape
Tracer.transpose = _transpose
Tracer.swapaxes = ops.swapaxes
Tracer.squeeze = ops.squeeze
Tracer.ravel = ops.ravel
Tracer.flatten = ops.ravel
Tracer.astype = lambda self, dtype, copy=True: ops.astype(self, dtype)
Tracer.clip = ops.clip
Tracer.copy = ops.identity
