"""Convolution and pooling on the GPU (the ``conv`` family of symgrad.core.ops.conv): direct
kernels, every output element computed by one thread of a grid-stride loop.

- ``conv2d``: each output sums its window over input channels and kernel taps;
- ``conv2d_input_grad`` and the pooling gradients gather: each input element sums the
  cotangents of the windows that read it (no atomics, so results are deterministic);
- ``conv2d_weight_grad`` is a block reduction over batch and output positions per weight
  (symgrad.compiler.cuda.reduce, split across blocks when the batch is large);
- max pooling picks each window's first maximum in scan order, as PyTorch does (NaN wins).

Operands are read through their :class:`~symgrad.compiler.cuda.kernel.Value`, so views need
no copies. Taps outside the input (padding) are skipped.
"""
import math

from .kernel import Kernel, unflatten
from .reduce import reduce
from ..codegen.source import literal
from ..codegen.window_geometry import close_loops


# -- window geometry: lines of generated code ----------------------------------------------------
def _open_tap(body, name, out, stride, padding, tap, dilation, extent):
    """Input coordinate ``name`` of output ``out``'s tap ``tap``; opens ``if`` it is inside."""
    body.line(f"{name} = {out} * {stride} - {padding} + {tap} * {dilation}")
    body.open(f"if {name} >= 0 and {name} < {extent}:")


def _open_window(body, name, position, stride, padding, tap, dilation, extent):
    """Output coordinate ``name`` whose tap ``tap`` reads input ``position``; opens ``if``
    there is one."""
    body.line(f"{name}_ = {position} + {padding} - {tap} * {dilation}")
    body.open(f"if {name}_ >= 0 and {name}_ % {stride} == 0 and {name}_ // {stride} < {extent}:")
    body.line(f"{name} = {name}_ // {stride}")


def _open_taps(body, at, geometry, size, outer=None):
    """Loops over the taps (``ki``, ``kj``) of output position ``at`` that fall inside an
    input of spatial ``size`` (input coordinates ``r``, ``q``), inside a loop over
    ``outer`` = (name, extent) if given; returns the number of levels opened."""
    return _open_loops(body, _open_tap, ("r", "q"), at, geometry, size, outer)


def _open_windows(body, at, geometry, size, outer=None):
    """Loops over the windows (``oh``, ``ow``, of an output of spatial ``size``) whose tap
    (``ki``, ``kj``) reads input position ``at``; as :func:`_open_taps`."""
    return _open_loops(body, _open_window, ("oh", "ow"), at, geometry, size, outer)


def _open_loops(body, open_axis, names, at, geometry, size, outer):
    kernel_size, stride, padding, dilation = geometry
    if outer is not None:
        body.open(f"for {outer[0]} in range({outer[1]}):")
    for axis, tap in enumerate(("ki", "kj")):
        body.open(f"for {tap} in range({kernel_size[axis]}):")
        open_axis(body, names[axis], at[axis], stride[axis], padding[axis], tap, dilation[axis],
                  size[axis])
    return 4 + (outer is not None)


def _conv_geometry(lowering, node, weight):
    p = lowering.attrs(node)["params"]
    return lowering.shape(weight)[2:], p["stride"], p["padding"], p["dilation"]


def _pool_geometry(lowering, node):
    p = lowering.attrs(node)["params"]
    return p["kernel"], p["stride"], p["padding"], (1, 1)


def _gathering_kernel(lowering, node, initial, open_loops, accumulate,
                      result=lambda kernel, indices: "acc"):
    """A grid-stride kernel over ``node``'s (N, C, H, W) elements: ``acc`` starts at
    ``initial``; ``open_loops(body, indices)`` opens loops (returns how many levels) in which
    ``accumulate(kernel, indices)`` writes lines; then ``result(kernel, indices)`` is stored."""
    lowering.allocate(node)
    kernel = Kernel(lowering, f"{lowering.graph.op(node)}_{node}")
    indices = kernel.grid_stride(lowering.shape(node))
    kernel.body.line(f"acc = {literal(initial, lowering.dtype(node))}")
    levels = open_loops(kernel.body, indices)
    accumulate(kernel, indices)
    close_loops(kernel.body, levels)
    kernel.body.line(f"{kernel.read(lowering.values[node], indices)} = {result(kernel, indices)}")
    kernel.finish(f"grid({math.prod(lowering.shape(node))}), THREADS")


def _read(lowering, kernel, operand, indices):
    return kernel.read(lowering.values[operand], indices)


# -- convolution ---------------------------------------------------------------------------------
def lower_conv2d(lowering, node):
    x, w, *bias = lowering.graph.operands(node)
    geometry = _conv_geometry(lowering, node, w)
    (_, channels, *size) = lowering.shape(x)

    def accumulate(kernel, indices):
        n, o = indices[:2]
        kernel.body.line(f"acc += {_read(lowering, kernel, x, [n, 'c', 'r', 'q'])} * "
                         f"{_read(lowering, kernel, w, [o, 'c', 'ki', 'kj'])}")

    def result(kernel, indices):
        return "acc" + "".join(f" + {_read(lowering, kernel, b, indices[1:2])}" for b in bias)

    _gathering_kernel(
        lowering, node, 0,
        lambda body, indices: _open_taps(body, indices[2:], geometry, size, ("c", channels)),
        accumulate, result)


def lower_conv2d_input_grad(lowering, node):
    g, w = lowering.graph.operands(node)
    geometry = _conv_geometry(lowering, node, w)
    (_, outs, *size) = lowering.shape(g)

    def accumulate(kernel, indices):
        n, c = indices[:2]
        kernel.body.line(f"acc += {_read(lowering, kernel, g, [n, 'o', 'oh', 'ow'])} * "
                         f"{_read(lowering, kernel, w, ['o', c, 'ki', 'kj'])}")

    _gathering_kernel(
        lowering, node, 0,
        lambda body, indices: _open_windows(body, indices[2:], geometry, size, ("o", outs)),
        accumulate)


def _define(body, flat, extents, names):
    """Lines setting each of ``names`` to its index in C-order flat index ``flat``."""
    for name, expression in zip(names, unflatten(body, flat, extents, names)):
        if expression != name:
            body.line(f"{name} = {expression}")


def lower_conv2d_weight_grad(lowering, node):
    x, g = lowering.graph.operands(node)
    _, stride, padding, dilation = _conv_geometry(lowering, node, node)
    (batch, _, height, width), (_, _, out_h, out_w) = lowering.shape(x), lowering.shape(g)
    shape = lowering.shape(node)
    out = lowering.allocate(node)

    def accumulate(kernel, reduction):
        body = kernel.body
        _define(body, "flat", (batch, out_h, out_w), ["n", "oh", "ow"])
        _open_tap(body, "r", "oh", stride[0], padding[0], "ki", dilation[0], height)
        _open_tap(body, "q", "ow", stride[1], padding[1], "kj", dilation[1], width)
        reduction.accumulate(f"{_read(lowering, kernel, g, ['n', 'o', 'oh', 'ow'])} * "
                             f"{_read(lowering, kernel, x, ['n', 'c', 'r', 'q'])}")
        close_loops(body, 2)

    reduce(lowering, f"conv2d_weight_grad_{node}", lowering.dtype(node), 0, "{acc} + {x}",
           math.prod(shape), batch * out_h * out_w,
           lambda kernel: _define(kernel.body, "element", shape, ["o", "c", "ki", "kj"]),
           accumulate, lambda kernel: f"{kernel.use(out)}[o, c, ki, kj]")


# -- pooling -------------------------------------------------------------------------------------
def _window_argmax(lowering, kernel, x, n, c, geometry):
    """Lines setting ``best_at`` to the scan-order index (``a * KW + b``) of the first
    maximum of window (``oh``, ``ow``) of ``x`` (NaN counts as the maximum, as in
    np.argmax); taps in the padding read as -inf."""
    (kh, kw), stride, padding, _ = geometry
    (_, _, height, width) = lowering.shape(x)
    body = kernel.body
    minus_infinity = literal(float("-inf"), lowering.dtype(x))
    body.line(f"best = {minus_infinity}")
    body.line("best_at = 0")
    body.open(f"for a in range({kh}):")
    body.open(f"for b in range({kw}):")
    body.line(f"v = {minus_infinity}")
    body.line(f"r = oh * {stride[0]} - {padding[0]} + a")
    body.line(f"q = ow * {stride[1]} - {padding[1]} + b")
    body.open(f"if r >= 0 and r < {height} and q >= 0 and q < {width}:")
    body.line(f"v = {_read(lowering, kernel, x, [n, c, 'r', 'q'])}")
    body.close()
    body.open("if v > best or (v != v and best == best):")
    body.line("best = v")
    body.line(f"best_at = a * {kw} + b")
    close_loops(body, 3)


def lower_max_pool2d(lowering, node):
    (x,) = lowering.graph.operands(node)
    geometry = _pool_geometry(lowering, node)

    def accumulate(kernel, indices):
        kernel.body.line(f"v = {_read(lowering, kernel, x, indices[:2] + ['r', 'q'])}")
        kernel.body.open("if v > acc or v != v:")       # NaN propagates, as np.maximum does
        kernel.body.line("acc = v")
        kernel.body.close()

    _gathering_kernel(
        lowering, node, float("-inf"),
        lambda body, indices: _open_taps(body, indices[2:], geometry, lowering.shape(x)[2:]),
        accumulate)


def lower_max_pool2d_grad(lowering, node):
    x, g = lowering.graph.operands(node)
    geometry = _pool_geometry(lowering, node)
    kw = geometry[0][1]

    def accumulate(kernel, indices):
        n, c = indices[:2]
        _window_argmax(lowering, kernel, x, n, c, geometry)
        kernel.body.open(f"if best_at == ki * {kw} + kj:")
        kernel.body.line(f"acc += {_read(lowering, kernel, g, [n, c, 'oh', 'ow'])}")
        kernel.body.close()

    _gathering_kernel(
        lowering, node, 0,
        lambda body, indices: _open_windows(body, indices[2:], geometry, lowering.shape(g)[2:]),
        accumulate)


def lower_max_pool2d_gather(lowering, node):
    x, h = lowering.graph.operands(node)
    geometry = _pool_geometry(lowering, node)
    (_, kw), stride, padding, _ = geometry
    (_, _, height, width) = lowering.shape(x)

    def gather(body, indices):
        body.line(f"oh = {indices[2]}")
        body.line(f"ow = {indices[3]}")
        return 0

    def accumulate(kernel, indices):
        body = kernel.body
        _window_argmax(lowering, kernel, x, *indices[:2], geometry)
        body.line(f"r = oh * {stride[0]} - {padding[0]} + best_at // {kw}")
        body.line(f"q = ow * {stride[1]} - {padding[1]} + best_at % {kw}")
        body.open(f"if r >= 0 and r < {height} and q >= 0 and q < {width}:")
        body.line(f"acc = {_read(lowering, kernel, h, indices[:2] + ['r', 'q'])}")
        body.close()

    _gathering_kernel(lowering, node, 0, gather, accumulate)


def _divisor(lowering, node, size):
    """The expression dividing window (``oh``, ``ow``)'s sum: the kernel's size, or (without
    ``count_include_pad``) the number of its taps inside the input of spatial ``size``."""
    (kh, kw), stride, padding, _ = _pool_geometry(lowering, node)
    if lowering.attrs(node)["params"]["count_include_pad"]:
        return str(kh * kw)
    extents = [f"(min({o} * {s} - {p} + {k}, {n}) - max({o} * {s} - {p}, 0))"
               for o, s, p, k, n in zip(("oh", "ow"), stride, padding, (kh, kw), size)]
    return " * ".join(extents)


def lower_avg_pool2d(lowering, node):
    (x,) = lowering.graph.operands(node)
    geometry = _pool_geometry(lowering, node)
    size = lowering.shape(x)[2:]

    def open_loops(body, indices):
        body.line(f"oh = {indices[2]}")
        body.line(f"ow = {indices[3]}")
        return _open_taps(body, ("oh", "ow"), geometry, size)

    def accumulate(kernel, indices):
        kernel.body.line(f"acc += {_read(lowering, kernel, x, indices[:2] + ['r', 'q'])}")

    _gathering_kernel(lowering, node, 0, open_loops, accumulate,
                      lambda kernel, indices: f"acc / ({_divisor(lowering, node, size)})")


def lower_avg_pool2d_grad(lowering, node):
    (g,) = lowering.graph.operands(node)
    geometry = _pool_geometry(lowering, node)
    dtype = lowering.dtype(node)

    def accumulate(kernel, indices):
        share = (f"{_read(lowering, kernel, g, indices[:2] + ['oh', 'ow'])} / "
                 f"({_divisor(lowering, node, lowering.shape(node)[2:])})")
        kernel.body.line(f"acc += np.{dtype}({share})")   # each share rounded, as numpy does

    _gathering_kernel(
        lowering, node, 0,
        lambda body, indices: _open_windows(body, indices[2:], geometry, lowering.shape(g)[2:]),
        accumulate)


LOWERINGS = {
    "conv2d": lower_conv2d,
    "conv2d_input_grad": lower_conv2d_input_grad,
    "conv2d_weight_grad": lower_conv2d_weight_grad,
    "max_pool2d": lower_max_pool2d,
    "max_pool2d_grad": lower_max_pool2d_grad,
    "max_pool2d_gather": lower_max_pool2d_gather,
    "avg_pool2d": lower_avg_pool2d,
    "avg_pool2d_grad": lower_avg_pool2d_grad,
}
