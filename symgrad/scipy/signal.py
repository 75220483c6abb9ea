"""``scipy.signal.convolve`` on traced values, with HIPS autograd's extension
(``autograd.scipy.signal.convolve``): ``axes`` pairs the convolved axes of the two arrays,
``dot_axes`` pairs axes that are summed over (a convolution layer's input channels), and the
result's axes are ``A``'s other axes, then ``B``'s, then the convolved ones. A composite:
one window of ``A`` per kernel position along each convolved axis, stacked, and one einsum
with the flipped kernel, so its gradient (and second order) is those ops'.

>>> import numpy as np, symgrad as sg
>>> from symgrad.scipy.signal import convolve
>>> sg.grad(lambda a: convolve(a, np.array([1.0, 2.0]), mode="valid").sum())(np.ones(3))
array([2., 3., 1.])
"""
import numpy as np

import symgrad.core.ops as ops
from symgrad.core.errors import TracingValueError
from symgrad.core.numpy_namespace import during_tracing_in, original_attribute
from symgrad.core.ops.decompositions import lifted_float
from symgrad.core.tracing import error_here, find_graph

MODES = ("full", "valid", "same")


@during_tracing_in("scipy.signal", "convolve")
def convolve(A, B, axes=None, dot_axes=((), ()), mode="full", method="auto"):  # noqa: N803
    """``scipy.signal.convolve(in1, in2, mode)`` of traced arrays, or autograd's
    ``convolve(A, B, axes=([..], [..]), dot_axes=([..], [..]), mode=...)``; ``method`` is
    scipy's and does not change the result. Untraced arrays without ``axes`` and
    ``dot_axes`` are scipy's own convolution; with them, numpy computes the same windows."""
    if isinstance(axes, str):          # scipy's positional (in1, in2, mode, method)
        axes, mode, dot_axes = None, axes, ((), ())
    if mode not in MODES:
        raise error_here(f"convolve: mode must be one of {MODES}, got {mode!r}", TracingValueError)
    graph = find_graph([A, B])
    if graph is None and axes is None and not any(dot_axes):
        return original_attribute("scipy.signal", "convolve")(A, B, mode, method)
    if graph is None:
        A, B = np.asarray(A, np.result_type(A, B, 1.0)), np.asarray(B, np.result_type(A, B, 1.0))
    else:
        A, B = lifted_float(graph, A), lifted_float(graph, B)
    if axes is None:
        if A.ndim != B.ndim:
            raise error_here(f"convolve: in1 and in2 should have the same dimensionality, "
                             f"got shapes {A.shape} and {B.shape}", TracingValueError)
        axes = (tuple(range(A.ndim)),) * 2
    axes = tuple(tuple(int(a) for a in pair) for pair in axes)
    dot_axes = tuple(tuple(int(a) for a in pair) for pair in dot_axes)
    return _convolve(A, B, axes, dot_axes, mode)


def _ignored(ndim, axes, dot_axes):
    return [i for i in range(ndim) if i not in axes and i not in dot_axes]


def _convolve(A, B, axes, dot_axes, mode):  # noqa: N803
    kernel_larger = [B.shape[b] > A.shape[a] for a, b in zip(*axes)]
    if mode == "valid" and any(kernel_larger):
        if not all(B.shape[b] >= A.shape[a] for a, b in zip(*axes)):
            raise error_here(f"convolve: in 'valid' mode one array must be at least as large "
                             f"as the other along every convolved axis, got shapes {A.shape} "
                             f"and {B.shape} on axes {axes}", TracingValueError)
        swapped = _convolve(B, A, axes[::-1], dot_axes[::-1], mode)
        ignored_b = len(_ignored(B.ndim, axes[1], dot_axes[1]))
        ignored_a = len(_ignored(A.ndim, axes[0], dot_axes[0]))
        order = [*range(ignored_b, ignored_b + ignored_a), *range(ignored_b),
                 *range(ignored_a + ignored_b, swapped.ndim)]
        return ops.transpose(swapped, order)
    windows = A
    if mode != "valid":                          # 'same' is the middle of 'full'
        widths = [(0, 0)] * A.ndim
        for a, b in zip(*axes):
            widths[a] = (B.shape[b] - 1,) * 2
        windows = ops.pad(A, widths)
    for a, b in zip(*axes):                      # a trailing axis per kernel position
        length = windows.shape[a] - B.shape[b] + 1
        windows = ops.stack([_slice(windows, a, start, length) for start in range(B.shape[b])],
                            axis=-1)
    result = _contract(windows, ops.flip(B, axes[1]), A.ndim, axes, dot_axes)
    if mode == "same":
        first = len(result.shape) - len(axes[0])
        for offset, (a, b) in enumerate(zip(*axes)):
            result = _slice(result, first + offset, (B.shape[b] - 1) // 2, A.shape[a])
    return result


def _slice(x, axis, start, length):
    index = [slice(None)] * x.ndim
    index[axis] = slice(start, start + length)
    return ops.getitem(x, tuple(index))


def _contract(windows, kernel, a_ndim, axes, dot_axes):
    """The einsum of ``windows`` (A's axes, then one per convolved axis) with ``kernel``:
    labels 0.. for A's axes, then the window axes, then B's own."""
    a_labels = list(range(a_ndim)) + [a_ndim + i for i in range(len(axes[0]))]
    b_labels = list(range(a_labels[-1] + 1, a_labels[-1] + 1 + kernel.ndim))
    for window, b in enumerate(axes[1]):
        b_labels[b] = a_ndim + window
    for a, b in zip(*dot_axes):
        b_labels[b] = a
    output = ([a_labels[i] for i in _ignored(a_ndim, axes[0], dot_axes[0])]
              + [b_labels[i] for i in _ignored(kernel.ndim, axes[1], dot_axes[1])]
              + list(axes[0]))
    return ops.einsum(windows, a_labels, kernel, b_labels, output)

