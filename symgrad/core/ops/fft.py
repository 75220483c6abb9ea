"""``np.fft`` on traced values: one primitive, ``fft`` (the complex discrete Fourier transform
over some axes, forward or inverse, with numpy's ``norm``), and the rest composites of it.

The DFT matrix is symmetric, so with autograd's (and JAX's) convention for complex
cotangents the VJP of ``fft`` is ``fft`` of the cotangent over the same axes with the same
norm (autograd's ``fft_grad``). The real transforms are composites, so their gradients are
exact for every length (autograd refuses odd last axes): ``rfftn`` keeps the first
``n // 2 + 1`` outputs of the complex transform of the real input, and ``irfftn`` completes
the half spectrum by Hermitian symmetry and takes the real part of the inverse transform
(whose imaginary parts at 0 and ``n / 2`` are dropped, as numpy's ``c2r`` does).

>>> import numpy as np, symgrad as sg
>>> sg.grad(lambda x: np.sum(np.abs(np.fft.fft(x)) ** 2), backend="reference")(np.ones(2))
array([4., 4.])
"""
import numpy as np

import symgrad.core.ops.batch_rules as batch_rules
from symgrad.core.ops.common import normalize_axis
from symgrad.core.ops.complex_parts import conj, real
from symgrad.core.ops.construction import composite
from symgrad.core.ops.elementwise import astype
from symgrad.core.ops.reordering import flip, roll
from symgrad.core.ops.registry import declare
from symgrad.core.ops.shape import concatenate, getitem
from symgrad.core.tracing import bind, constant, error_here

NORMS = ("backward", "ortho", "forward")


def _fft_rule(x, axes, inverse, norm):
    if x.dtype.kind != "c":
        raise TypeError(f"needs a complex operand, got {x.dtype.name}")
    return x.shape, x.dtype


def _fft_reference(x, axes, inverse, norm):
    transform = np.fft.ifftn if inverse else np.fft.fftn
    return transform(x, axes=axes, norm=norm).astype(x.dtype)


def _fft_batch(name, operands, dims, axes, **params):
    (x,), (dim,) = operands, dims
    return bind(name, x, axes=tuple(batch_rules.full_axis(a, dim) for a in axes), **params), dim


declare("fft", _fft_rule, _fft_reference,
        [lambda g, out, x, axes, inverse, norm: bind("fft", g, axes=axes, inverse=inverse,
                                                     norm=norm)],
        family="fft", params=("axes", "inverse", "norm"), batch=_fft_batch)


def complex_dtype(x):
    """The complex dtype numpy's FFT computes ``x`` in: complex64 for float32/complex64."""
    dtype = np.dtype(x.dtype)
    return dtype if dtype.kind == "c" else np.result_type(dtype, np.complex64)


def _norm(norm, what):
    norm = "backward" if norm is None else norm
    if norm not in NORMS:
        raise error_here(f'{what}: Invalid norm value {norm!r}; should be "backward", "ortho" '
                         'or "forward".', ValueError)
    return norm


def _axes_and_sizes(a, s, axes, default_axes, what):
    """numpy's ``s``/``axes`` rules: the axes (normalized, in order) and each one's length."""
    if axes is None:
        axes = default_axes if s is None else range(a.ndim - len(s), a.ndim)
    axes = [normalize_axis(int(axis), a.ndim, what) for axis in np.atleast_1d(axes)]
    sizes = [a.shape[axis] for axis in axes] if s is None else [int(n) for n in s]
    if len(sizes) != len(axes):
        raise error_here(f"{what}: when given, axes and shape arguments have to be of the same "
                         "length", ValueError)
    if any(n < 1 for n in sizes):
        raise error_here(f"{what}: invalid number of data points {sizes} specified", ValueError)
    return axes, sizes


def truncate_pad(x, axis, size):
    """``x`` cut to ``size`` along ``axis``, or padded with zeros at the end up to it."""
    extent = x.shape[axis]
    if size < extent:
        return getitem(x, (slice(None),) * axis + (slice(0, size),))
    if size == extent:
        return x
    zeros = constant(x.graph, np.zeros(x.shape[:axis] + (size - extent,) + x.shape[axis + 1:],
                                       x.dtype))
    return concatenate([x, zeros], axis)


def _transform(a, sizes, axes, norm, inverse, what):
    """The complex transform of ``a`` cut or padded to ``sizes`` along ``axes``."""
    x = astype(a, complex_dtype(a))
    for axis, size in zip(axes, sizes):
        x = truncate_pad(x, axis, size)
    return bind("fft", x, axes=tuple(axes), inverse=inverse, norm=_norm(norm, what))


def _front(numpy_function, transform, one_axis, default_axes=None):
    """``np.fft.<name>`` on traced values: ``transform(a, axes, sizes, norm, what, n_given)``
    behind numpy's signature, ``(a, n, axis, norm)`` or ``(a, s, axes, norm)``."""
    what = f"np.fft.{numpy_function.__name__}"

    def check_out(out):
        if out is not None:
            raise error_here(f"{what}(out=...) is not supported on traced arrays", TypeError)

    if one_axis:
        def front(a, n=None, axis=-1, norm=None, out=None):
            check_out(out)
            axes, sizes = _axes_and_sizes(a, None if n is None else [n], [axis], [axis], what)
            return transform(a, axes, sizes, norm, what, n is not None)
    else:
        def front(a, s=None, axes=default_axes, norm=None, out=None):
            check_out(out)
            axes, sizes = _axes_and_sizes(a, s, axes, _all_axes(a), what)
            return transform(a, axes, sizes, norm, what, s is not None)
    front.__name__ = front.__qualname__ = numpy_function.__name__
    front.__doc__ = f"``{what}`` of a traced array (numpy's arguments)."
    return composite(numpy_function)(front)


def _all_axes(a):
    return list(range(a.ndim))


def _forward(a, axes, sizes, norm, what, _sized):
    return _transform(a, sizes, axes, norm, False, what)


def _inverse(a, axes, sizes, norm, what, _sized):
    return _transform(a, sizes, axes, norm, True, what)


def _along(x, axis, index):
    return getitem(x, (slice(None),) * axis + (index,))


def _real_forward(a, axes, sizes, norm, what):
    if np.dtype(a.dtype).kind == "c":
        raise error_here(f"{what}: the input is complex ({a.dtype.name}); rfft takes real "
                         "arrays (np.fft.fft transforms complex ones)", TypeError)
    full = _transform(a, sizes, axes, norm, False, what)
    return _along(full, axes[-1], slice(0, sizes[-1] // 2 + 1))


def _real_inverse(a, axes, sizes, norm, what):
    """``irfftn``: the inverse over all but the last axis, then the Hermitian completion and
    the real part of the inverse along the last one."""
    x = astype(a, complex_dtype(a))
    if len(axes) > 1:
        x = _transform(x, sizes[:-1], axes[:-1], norm, True, what)
    last, n = axes[-1], sizes[-1]
    half = truncate_pad(x, last, n // 2 + 1)
    mirrored = conj(flip(_along(half, last, slice(1, n - n // 2)), last))
    full = concatenate([half, mirrored], last) if mirrored.shape[last] else half
    return real(bind("fft", full, axes=(last,), inverse=True, norm=_norm(norm, what)))


def _real_inverse_sized(a, axes, sizes, norm, what, sized):
    if not sized:        # the output length along the last axis: 2 (m - 1)
        sizes[-1] = 2 * (a.shape[axes[-1]] - 1)
    return _real_inverse(a, axes, sizes, norm, what)


def _real_forward_sized(a, axes, sizes, norm, what, _sized):
    return _real_forward(a, axes, sizes, norm, what)


# each np.fft transform: how it computes, and its n-d form's default axes (None: 1-d form)
_TRANSFORMS = {"fft": (_forward, None), "ifft": (_inverse, None),
               "fft2": (_forward, (-2, -1)), "ifft2": (_inverse, (-2, -1)),
               "fftn": (_forward, ()), "ifftn": (_inverse, ()),
               "rfft": (_real_forward_sized, None), "irfft": (_real_inverse_sized, None),
               "rfft2": (_real_forward_sized, (-2, -1)), "irfft2": (_real_inverse_sized, (-2, -1)),
               "rfftn": (_real_forward_sized, ()), "irfftn": (_real_inverse_sized, ())}
TRANSFORMS = {name: _front(getattr(np.fft, name), transform, axes is None, axes or None)
              for name, (transform, axes) in _TRANSFORMS.items()}


def _shift(x, axes, sign):
    axes = _all_axes(x) if axes is None else list(np.atleast_1d(axes))
    axes = [normalize_axis(int(axis), x.ndim, "fftshift") for axis in axes]
    return roll(x, [sign * (x.shape[axis] // 2) for axis in axes], axes)


@composite(np.fft.fftshift)
def fftshift(x, axes=None):
    """``np.fft.fftshift``: the zero frequency moved to the middle (a roll by ``n // 2``)."""
    return _shift(x, axes, 1)


@composite(np.fft.ifftshift)
def ifftshift(x, axes=None):
    """``np.fft.ifftshift``: the inverse of :func:`fftshift`."""
    return _shift(x, axes, -1)
