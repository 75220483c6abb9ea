"""How numpy code reaches symgrad's functions on a :class:`~symgrad.core.tracing.Tracer`:
the numpy functions that trace (``__array_function__`` and ``__array_ufunc__`` look them up
in ``NUMPY_FUNCTIONS``; anything missing raises a TracingError naming it), its operators
and ndarray methods. One loop over the faces of every front function builds them; the
methods whose signatures differ from any front follow it."""
import numpy as np

import symgrad.core.ops  # noqa: F401  (declares every op family and its faces)
import symgrad.core.views as views
from symgrad.core.ops.complex_parts import imag, real
from symgrad.core.ops.registry import FRONTS
from symgrad.core.tracing import NUMPY_FUNCTIONS, SCIPY_UFUNCS, Tracer, copy_of, error_here


def _flipped(function):
    return lambda self, other: function(other, self)


def _reshape(self, *shape, order="C"):
    if order != "C":
        raise error_here(f"reshape(order={order!r}) is not supported; only 'C'")
    return views.reshape(self, *shape)


def _transpose(self, *axes):
    return views.transpose(self, axes[0] if len(axes) == 1 and not isinstance(axes[0], int)
                           else (axes or None))


def _add_faces(front):
    faces = front.faces
    NUMPY_FUNCTIONS.update(dict.fromkeys(faces.numpy, front.function))
    SCIPY_UFUNCS.update(dict.fromkeys(faces.scipy, front.function))
    for name in faces.method:
        setattr(Tracer, name, front.function)
    if faces.operator:
        setattr(Tracer, f"__{faces.operator}__", front.function)
    if faces.reflected:
        setattr(Tracer, f"__r{faces.operator}__", _flipped(front.function))
        # the numpy ufunc's name, for in-place errors as numpy words them
        setattr(Tracer, f"__i{faces.operator}__",
                views.in_place(front.function, faces.numpy[0].__name__))


for _front in FRONTS:
    _add_faces(_front)

# numpy functions that are no op: a copy, and questions about the shape
NUMPY_FUNCTIONS.update({np.positive: copy_of, np.shape: lambda x: x.shape,
                        np.ndim: lambda x: x.ndim, np.size: lambda x: x.size})
Tracer.__pos__ = copy_of
Tracer.__getitem__ = views.getitem
Tracer.__setitem__ = views.setitem
Tracer.T = property(views.transpose)
Tracer.mT = property(views.matrix_transpose)
Tracer.real = property(real)
Tracer.imag = property(imag)
Tracer.reshape = _reshape
Tracer.transpose = _transpose
