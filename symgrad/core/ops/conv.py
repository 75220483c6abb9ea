"""Convolution and pooling over NCHW arrays: ``conv2d``, ``max_pool2d``, ``avg_pool2d``.

Each primitive's VJP is another primitive of this family, and those VJPs close the family,
so gradients of any order stay inside it:

- ``conv2d(x, w)`` is bilinear. Its cotangents are ``conv2d_input_grad(g, w)`` (a transposed
  convolution: col2im) and ``conv2d_weight_grad(x, g)``; each of the three is the adjoint of
  another in one argument, so their VJPs are the other two.
- ``max_pool2d(x)`` sends its cotangent to each window's first maximum:
  ``max_pool2d_grad(x, g)``. That is linear in ``g`` with a piecewise-constant dependence on
  ``x``; its adjoint in ``g`` is ``max_pool2d_gather(x, h)`` (``h`` read at each window's
  maximum of ``x``), whose adjoint is ``max_pool2d_grad`` again.
- ``avg_pool2d(x)`` is linear; its adjoint spreads the cotangent: ``avg_pool2d_grad(g)``.

Static params are pairs ``(rows, cols)``: ``stride``, ``padding``, ``dilation``, ``kernel``;
the gradient ops also carry the spatial ``input_size`` (or ``kernel`` for the weight
gradient), which the output shape cannot determine when the stride skips rows.

>>> import numpy as np
>>> x = np.arange(16.0).reshape(1, 1, 4, 4)
>>> conv2d(x, np.ones((1, 1, 2, 2)), stride=2)[0, 0]
array([[10., 18.],
       [42., 50.]])
>>> max_pool2d(x, 2)[0, 0]
array([[ 5.,  7.],
       [13., 15.]])
"""
import numpy as np

from symgrad.core.ops.batch_rules import image_rule, per_example
from symgrad.core.ops.common import apply, no_gradient
from symgrad.core.ops.registry import OPS, Aval, declare
from symgrad.core.tracing import find_graph


# -- geometry ----------------------------------------------------------------------------------
def pair(value, name="value"):
    """``3`` -> ``(3, 3)``; ``(2, 3)`` stays; as Python ints (hashable static params)."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return (int(value), int(value))
    try:
        rows, cols = value
        return (int(rows), int(cols))
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}") from None


def output_size(size, kernel, stride, padding, dilation=(1, 1)):
    """Spatial output size of a window of ``kernel`` sliding over ``size`` (PyTorch's
    floor rule); entries below 1 mean the input is too small."""
    return tuple((n + 2 * p - d * (k - 1) - 1) // s + 1
                 for n, k, s, p, d in zip(size, kernel, stride, padding, dilation))


def _windowed(operand, kernel, stride, padding, dilation, what):
    """The output size of a window op over ``operand`` (N, C, H, W), or a ValueError."""
    if operand.ndim != 4:
        raise ValueError(f"{what} expects a 4-D input (N, C, H, W), got shape "
                         f"{list(operand.shape)}")
    if min(stride) < 1 or min(dilation) < 1 or min(kernel) < 1 or min(padding) < 0:
        raise ValueError(f"{what}: kernel, stride and dilation must be positive and padding "
                         f"non-negative, got kernel {kernel}, stride {stride}, padding {padding}, "
                         f"dilation {dilation}")
    out = output_size(operand.shape[2:], kernel, stride, padding, dilation)
    if min(out) < 1:
        reach = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
        raise ValueError(f"{what}: input of spatial size {tuple(operand.shape[2:])} (padded by "
                         f"{padding}) is too small for a kernel reaching {reach}")
    return out


def _same_float(*avals):
    dtype = avals[0].dtype
    if dtype.kind != "f" or any(a.dtype != dtype for a in avals):
        raise TypeError(f"needs operands of one floating-point dtype, got "
                        f"{[a.dtype.name for a in avals]}")
    return dtype


def _conv_rule(x, w, *bias, stride, padding, dilation):
    if w.ndim != 4:
        raise ValueError(f"conv2d expects a 4-D weight (O, C, KH, KW), got shape {list(w.shape)}")
    out = _windowed(x, w.shape[2:], stride, padding, dilation, "conv2d")
    if x.shape[1] != w.shape[1]:
        raise ValueError(f"the weight of shape {list(w.shape)} expects input with {w.shape[1]} "
                         f"channels, got {x.shape[1]} channels (input shape {list(x.shape)})")
    if bias and tuple(bias[0].shape) != (w.shape[0],):
        raise ValueError(f"the bias should have shape ({w.shape[0]},) (one per output channel), "
                         f"got {list(bias[0].shape)}")
    return (x.shape[0], w.shape[0]) + out, _same_float(x, w, *bias)


def _conv_input_grad_rule(g, w, stride, padding, dilation, input_size):
    n, c = g.shape[0], w.shape[1]
    probe = _conv_rule(_Shape((n, c) + tuple(input_size), w.dtype), w, stride=stride,
                       padding=padding, dilation=dilation)
    if probe[0] != g.shape:
        raise ValueError(f"cotangent of shape {list(g.shape)} does not match the convolution "
                         f"output {list(probe[0])}")
    return (n, c) + tuple(input_size), _same_float(g, w)


def _conv_weight_grad_rule(x, g, stride, padding, dilation, kernel):
    out = _windowed(x, kernel, stride, padding, dilation, "conv2d_weight_grad")
    if g.ndim != 4 or g.shape[0] != x.shape[0] or tuple(g.shape[2:]) != out:
        raise ValueError(f"cotangent of shape {list(g.shape)} does not match the convolution "
                         f"output {[x.shape[0], '*', *out]}")
    return (g.shape[1], x.shape[1]) + tuple(kernel), _same_float(x, g)


class _Shape:
    """A stand-in aval for a shape check."""

    def __init__(self, shape, dtype):
        self.shape, self.dtype, self.ndim = tuple(shape), dtype, len(shape)


def _pool_rule(x, kernel, stride, padding, **_params):
    if any(2 * p > k for p, k in zip(padding, kernel)):
        raise ValueError(f"padding {padding} should be at most half of the kernel {kernel}")
    out = _windowed(x, kernel, stride, padding, (1, 1), "pooling")
    return x.shape[:2] + out, _same_float(x)


def _pool_grad_rule(x, g, kernel, stride, padding):
    (shape, dtype) = _pool_rule(x, kernel, stride, padding)
    if g.shape != shape:
        raise ValueError(f"cotangent of shape {list(g.shape)} does not match the pooling "
                         f"output {list(shape)}")
    return x.shape, _same_float(x, g)


def _pool_gather_rule(x, h, kernel, stride, padding):
    if h.shape != x.shape:
        raise ValueError(f"gathered array of shape {list(h.shape)} must have the pooled "
                         f"input's shape {list(x.shape)}")
    return _pool_rule(x, kernel, stride, padding)[0], _same_float(x, h)


def _avg_grad_rule(g, kernel, stride, padding, count_include_pad, input_size):
    probe = _pool_rule(_Shape(g.shape[:2] + tuple(input_size), g.dtype), kernel, stride, padding)
    if probe[0] != g.shape:
        raise ValueError(f"cotangent of shape {list(g.shape)} does not match the pooling "
                         f"output {list(probe[0])}")
    return g.shape[:2] + tuple(input_size), _same_float(g)


# -- numpy references: one loop over kernel offsets, each a strided slice -----------------------
def _taps(kernel, stride, padding, dilation, out):
    """For each kernel offset (i, j): the slices of the padded input it reads."""
    for i in range(kernel[0]):
        for j in range(kernel[1]):
            rows = slice(i * dilation[0], i * dilation[0] + stride[0] * (out[0] - 1) + 1, stride[0])
            cols = slice(j * dilation[1], j * dilation[1] + stride[1] * (out[1] - 1) + 1, stride[1])
            yield i, j, (slice(None), slice(None), rows, cols)


def _pad(x, padding, value=0.0):
    (ph, pw) = padding
    if ph == pw == 0:
        return x
    return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=value)


def _crop(x, padding, size):
    (ph, pw) = padding
    return np.ascontiguousarray(x[:, :, ph:ph + size[0], pw:pw + size[1]])


def conv2d_reference(x, w, *bias, stride, padding, dilation):
    out = output_size(x.shape[2:], w.shape[2:], stride, padding, dilation)
    padded = _pad(x, padding)
    result = np.zeros((x.shape[0], w.shape[0]) + out, x.dtype)
    for i, j, window in _taps(w.shape[2:], stride, padding, dilation, out):
        result += np.einsum("nchw,oc->nohw", padded[window], w[:, :, i, j])
    if bias:
        result += bias[0].reshape(-1, 1, 1)
    return result


def conv2d_input_grad_reference(g, w, stride, padding, dilation, input_size):
    n, c = g.shape[0], w.shape[1]
    padded = np.zeros((n, c, input_size[0] + 2 * padding[0], input_size[1] + 2 * padding[1]),
                      g.dtype)
    for i, j, window in _taps(w.shape[2:], stride, padding, dilation, g.shape[2:]):
        padded[window] += np.einsum("nohw,oc->nchw", g, w[:, :, i, j])
    return _crop(padded, padding, input_size)


def conv2d_weight_grad_reference(x, g, stride, padding, dilation, kernel):
    padded = _pad(x, padding)
    result = np.zeros((g.shape[1], x.shape[1]) + tuple(kernel), x.dtype)
    for i, j, window in _taps(kernel, stride, padding, dilation, g.shape[2:]):
        result[:, :, i, j] = np.einsum("nohw,nchw->oc", g, padded[window])
    return result


def _windows(x, kernel, stride, padding, fill):
    """(KH*KW, N, C, OH, OW): every window's elements, in scan order (row by row)."""
    out = output_size(x.shape[2:], kernel, stride, padding)
    padded = _pad(x, padding, fill)
    taps = _taps(kernel, stride, padding, (1, 1), out)
    return np.stack([padded[window] for _, _, window in taps])


def _first_max(x, kernel, stride, padding):
    """Index (in scan order) of each window's first maximum, as PyTorch picks it."""
    return np.argmax(_windows(x, kernel, stride, padding, -np.inf), axis=0)


def max_pool2d_reference(x, kernel, stride, padding):
    out = output_size(x.shape[2:], kernel, stride, padding)
    padded = _pad(x, padding, -np.inf)
    taps = [padded[window] for _, _, window in _taps(kernel, stride, padding, (1, 1), out)]
    result = taps[0].copy()
    for tap in taps[1:]:
        np.maximum(result, tap, out=result)     # propagates NaN, as np.max does
    return result


def max_pool2d_grad_reference(x, g, kernel, stride, padding):
    argmax = _first_max(x, kernel, stride, padding)
    padded = _pad(np.zeros_like(x), padding)
    for k, (_, _, window) in enumerate(_taps(kernel, stride, padding, (1, 1), g.shape[2:])):
        padded[window] += np.where(argmax == k, g, 0)
    return _crop(padded, padding, x.shape[2:])


def max_pool2d_gather_reference(x, h, kernel, stride, padding):
    argmax = _first_max(x, kernel, stride, padding)
    return np.take_along_axis(_windows(h, kernel, stride, padding, 0), argmax[None], 0)[0]


def _divisor(size, kernel, stride, padding, count_include_pad):
    """(OH, OW) window sizes: the whole kernel, or only the part inside the input."""
    out = output_size(size, kernel, stride, padding)
    if count_include_pad:
        return np.full(out, kernel[0] * kernel[1])
    counts = [np.minimum(np.arange(o) * s - p + k, n) - np.maximum(np.arange(o) * s - p, 0)
              for n, k, s, p, o in zip(size, kernel, stride, padding, out)]
    return np.outer(counts[0], counts[1])


def avg_pool2d_reference(x, kernel, stride, padding, count_include_pad):
    total = _windows(x, kernel, stride, padding, 0).sum(axis=0)
    divisor = _divisor(x.shape[2:], kernel, stride, padding, count_include_pad)
    return (total / divisor).astype(x.dtype)


def avg_pool2d_grad_reference(g, kernel, stride, padding, count_include_pad, input_size):
    share = (g / _divisor(input_size, kernel, stride, padding, count_include_pad)).astype(g.dtype)
    n, c = g.shape[:2]
    padded = np.zeros((n, c, input_size[0] + 2 * padding[0], input_size[1] + 2 * padding[1]),
                      g.dtype)
    for _, _, window in _taps(kernel, stride, padding, (1, 1), g.shape[2:]):
        padded[window] += share
    return _crop(padded, padding, input_size)


# -- declarations: each VJP is a member of the family ----------------------------------------------
CONV = ("stride", "padding", "dilation")
POOL = ("kernel", "stride", "padding")
# Batching: a batch of images folds into N when the weights are shared; a batch of weights
# (and the weight gradient, a sum over N) runs per example: there is no grouped convolution.
IMAGES, IMAGE_PAIRS = image_rule(0), image_rule(0, 1)

declare("conv2d", _conv_rule, conv2d_reference,
        [lambda g, out, x, w, *b, **p: conv2d_input_grad(g, w, input_size=x.shape[2:], **p),
         lambda g, out, x, w, *b, **p: conv2d_weight_grad(x, g, kernel=w.shape[2:], **p),
         lambda g, out, x, w, b, **p: channel_sums(g)],
        family="conv", params=CONV, batch=IMAGES)
declare("conv2d_input_grad", _conv_input_grad_rule, conv2d_input_grad_reference,
        [lambda h, out, g, w, input_size, **p: conv2d(h, w, **p),
         lambda h, out, g, w, input_size, **p: conv2d_weight_grad(h, g, kernel=w.shape[2:], **p)],
        family="conv", params=CONV + ("input_size",), batch=IMAGES)
declare("conv2d_weight_grad", _conv_weight_grad_rule, conv2d_weight_grad_reference,
        [lambda h, out, x, g, kernel, **p: conv2d_input_grad(g, h, input_size=x.shape[2:], **p),
         lambda h, out, x, g, kernel, **p: conv2d(x, h, **p)],
        family="conv", params=CONV + ("kernel",), batch=per_example)
declare("max_pool2d", _pool_rule, max_pool2d_reference,
        [lambda g, out, x, **p: max_pool2d_grad(x, g, **p)], family="conv", params=POOL,
        batch=IMAGES)
declare("max_pool2d_grad", _pool_grad_rule, max_pool2d_grad_reference,
        [no_gradient, lambda h, out, x, g, **p: max_pool2d_gather(x, h, **p)],
        family="conv", params=POOL, batch=IMAGE_PAIRS)
declare("max_pool2d_gather", _pool_gather_rule, max_pool2d_gather_reference,
        [no_gradient, lambda g, out, x, h, **p: max_pool2d_grad(x, g, **p)],
        family="conv", params=POOL, batch=IMAGE_PAIRS)
declare("avg_pool2d", _pool_rule, avg_pool2d_reference,
        [lambda g, out, x, **p: avg_pool2d_grad(g, input_size=x.shape[2:], **p)],
        family="conv", params=POOL + ("count_include_pad",), batch=IMAGES)
declare("avg_pool2d_grad", _avg_grad_rule, avg_pool2d_grad_reference,
        [lambda h, out, g, input_size, **p: avg_pool2d(h, **p)],
        family="conv", params=POOL + ("count_include_pad", "input_size"), batch=IMAGES)


# -- frontend functions: numpy arrays (eager reference) or tracers ---------------------------------
def _apply(name, values, **params):
    """Bind ``name`` on tracers, or check shapes and run the reference on arrays; integer
    operands compute in float64 (as numpy's transcendental functions do)."""
    from symgrad.core.ops.elementwise import floating
    dtype = floating(*values)
    if find_graph(values) is None:
        arrays = [np.asarray(v, dtype=dtype) for v in values]
        OPS[name].shape_rule(*(Aval(a.shape, a.dtype) for a in arrays), **params)
        return OPS[name].reference(*arrays, **params)
    return apply(name, values, dtype, **params)


def _conv_params(stride, padding, dilation):
    return dict(stride=pair(stride, "stride"), padding=pair(padding, "padding"),
                dilation=pair(dilation, "dilation"))


def conv2d(x, w, stride=1, padding=0, dilation=1, bias=None):
    """Cross-correlation of ``x`` (N, C, H, W) with ``w`` (O, C, KH, KW) -> (N, O, OH, OW),
    zero padding, plus ``bias`` (O,) per output channel when given, as
    ``torch.nn.functional.conv2d`` (groups=1). The bias is an operand of the op (not a
    broadcast add after it), so the compiled code adds it while the output is in cache."""
    operands = [x, w] if bias is None else [x, w, bias]
    return _apply("conv2d", operands, **_conv_params(stride, padding, dilation))


def channel_sums(g):
    """``g.sum(axis=(0, 2, 3))`` of a traced (N, C, H, W) array — a bias's gradient — as
    matrix products with ones: BLAS reads the whole array at full speed, where a reduction
    over the outer and inner axes at once compiles to a loop that adds one element at a time
    (many times slower)."""
    from symgrad.core.ops.linalg import matmul
    from symgrad.core.ops.shape import reshape
    from symgrad.core.tracing import constant
    n, c, h, w = g.shape
    per_image = matmul(reshape(g, (n * c, h * w)), constant(g.graph, np.ones((h * w, 1), g.dtype)))
    if n > 1:
        per_image = matmul(constant(g.graph, np.ones((1, n), g.dtype)), reshape(per_image, (n, c)))
    return reshape(per_image, (c,))


def conv2d_input_grad(g, w, input_size, stride=1, padding=0, dilation=1):
    """The transposed convolution: d<g, conv2d(x, w)>/dx for ``x`` of spatial ``input_size``."""
    return _apply("conv2d_input_grad", [g, w], input_size=pair(input_size, "input_size"),
                 **_conv_params(stride, padding, dilation))


def conv2d_weight_grad(x, g, kernel, stride=1, padding=0, dilation=1):
    """d<g, conv2d(x, w)>/dw for a weight of spatial size ``kernel``."""
    return _apply("conv2d_weight_grad", [x, g], kernel=pair(kernel, "kernel"),
                 **_conv_params(stride, padding, dilation))


def _pool_params(kernel, stride, padding):
    kernel = pair(kernel, "kernel_size")
    stride = kernel if stride is None or stride == () else pair(stride, "stride")
    return dict(kernel=kernel, stride=stride, padding=pair(padding, "padding"))


def max_pool2d(x, kernel, stride=None, padding=0):
    """Maximum over each window (padding counts as -inf); ``stride`` defaults to ``kernel``."""
    return _apply("max_pool2d", [x], **_pool_params(kernel, stride, padding))


def max_pool2d_grad(x, g, kernel, stride=None, padding=0):
    """``g`` sent to each window's first maximum of ``x`` (summed where windows overlap)."""
    return _apply("max_pool2d_grad", [x, g], **_pool_params(kernel, stride, padding))


def max_pool2d_gather(x, h, kernel, stride=None, padding=0):
    """``h`` read at each window's first maximum of ``x``."""
    return _apply("max_pool2d_gather", [x, h], **_pool_params(kernel, stride, padding))


def avg_pool2d(x, kernel, stride=None, padding=0, count_include_pad=True):
    """Mean over each window; padding counts as zeros unless ``count_include_pad=False``."""
    return _apply("avg_pool2d", [x], count_include_pad=bool(count_include_pad),
                 **_pool_params(kernel, stride, padding))


def avg_pool2d_grad(g, input_size, kernel, stride=None, padding=0, count_include_pad=True):
    """The adjoint of ``avg_pool2d``: each output's cotangent spread over its window."""
    return _apply("avg_pool2d_grad", [g], count_include_pad=bool(count_include_pad),
                 input_size=pair(input_size, "input_size"), **_pool_params(kernel, stride, padding))
