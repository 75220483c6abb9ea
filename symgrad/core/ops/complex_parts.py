"""Complex numbers: the parts of a complex array (``np.real``, ``np.imag``, ``np.conj``,
``np.angle``, ``.real`` / ``.imag``) and the questions about them (``np.iscomplexobj``...).

Gradients follow HIPS autograd's convention, which is JAX's: a VJP rule maps the cotangent
``g`` of an output to ``conj(J^H conj(g))`` (for a holomorphic ``f``, ``g * f'(z)``), so the
gradient of a real function ``f(x + iy)`` is ``df/dx - i df/dy``, and a real operand takes
the real part of a complex cotangent (autograd's ``match_complex``).

>>> import numpy as np, symgrad as sg
>>> sg.grad(lambda z: np.abs(z) ** 2, backend="reference")(np.complex128(3 + 4j))
np.complex128(6-8j)
"""
import numpy as np

from symgrad.core.ops.elementwise import astype, floating, where
from symgrad.core.ops.elementwise import conjugate_of as _conjugate, imag_part, real_part
from symgrad.core.ops.elementwise_math import arctan2
from symgrad.core.ops.registry import faced
from symgrad.core.tracing import Tracer, constant, copy_of, find_graph


def is_complex(x):
    return np.dtype(getattr(x, "dtype", None) or np.asarray(x).dtype).kind == "c"


@faced(numpy=(np.real,))
def real(x):
    """The real part; of a real array, the array itself.

    >>> import numpy as np, symgrad as sg
    >>> sg.jit(lambda z: np.real(z * 1j), backend="reference")(np.array([1 + 2j]))
    array([-2.])
    """
    if not isinstance(x, Tracer):
        return np.real(x)
    return real_part(x) if is_complex(x) else copy_of(x)


@faced(numpy=(np.imag,))
def imag(x):
    """The imaginary part; of a real array, zeros (with no gradient)."""
    if not isinstance(x, Tracer):
        return np.imag(x)
    if is_complex(x):
        return imag_part(x)
    return constant(x.graph, np.zeros(x.shape, x.dtype))


@faced(numpy=(np.conjugate,), method=("conj", "conjugate"))
def conj(x):
    """The complex conjugate; of a real array, the array itself."""
    if not isinstance(x, Tracer):
        return np.conjugate(x)
    return _conjugate(x) if is_complex(x) else copy_of(x)


@faced(numpy=(np.angle,))
def angle(z, deg=False):
    """``np.angle``: ``arctan2(imag, real)``; of a real array 0 for positive values and pi
    (180) for negative ones (no gradient there)."""
    half_turn = 180.0 if deg else np.pi
    if not is_complex(z):
        return astype(where(z < 0, half_turn, 0.0), floating(z))
    radians = arctan2(imag(z), real(z))
    return radians * (180 / np.pi) if deg else radians


@faced(numpy=(np.real_if_close,))
def real_if_close(a, tol=100):
    """``np.real_if_close`` of a real array: the array itself; a complex one stays complex
    (whether its imaginary part is small depends on the values, which are traced)."""
    return a


@faced(numpy=(np.iscomplexobj,))
def iscomplexobj(x):
    """Whether ``x`` has a complex dtype (known while tracing)."""
    return is_complex(x)


@faced(numpy=(np.isrealobj,))
def isrealobj(x):
    """Whether ``x`` has a real dtype (known while tracing)."""
    return not is_complex(x)


@faced(numpy=(np.iscomplex,))
def iscomplex(x):
    """``np.iscomplex``: where the imaginary part is not 0 (all False for a real array)."""
    if is_complex(x):
        return imag(x) != 0
    return _all(x, False)


@faced(numpy=(np.isreal,))
def isreal(x):
    """``np.isreal``: where the imaginary part is 0 (all True for a real array)."""
    if is_complex(x):
        return imag(x) == 0
    return _all(x, True)


def _all(x, value):
    graph = find_graph([x])
    if graph is None:
        return np.full(np.shape(x), value)
    return constant(graph, np.full(x.shape, value))
