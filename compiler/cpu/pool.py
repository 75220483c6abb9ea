"""Numba CPU lowerings of pooling (symgrad/core/ops/conv.py), registered into
``symgrad.compiler.cpu.lowering.LOWERINGS`` by ``compiler/cpu/__init__.py``.

Pooling is loops over windows. ``max_pool2d`` records each window's first maximum (a flat
index into the input plane) and its gradient ops read those indices when the forward is in
the graph. Large batches split their samples across threads
(compiler/cpu/sample_loop.py). Every buffer is made in the prologue; shapes and params
are literals in the generated source.
"""
from .lowering_state import numba_dtype
from .sample_loop import SampleLoop
from ..codegen.source import literal
from ..codegen.window_geometry import (Geometry, affine, close_loops, output_spatial,
                                              params_of, shape_of, shared_buffers, zero)


def _pool_geometry(lowering, x, node):
    p = params_of(lowering, node)
    shape = shape_of(lowering, x)
    return Geometry(shape, p["kernel"], p["stride"], p["padding"], (1, 1),
                     output_spatial(shape, p["kernel"], p))


def _open_windows(lowering, g, zeroed=None, dtype=None):
    """Loops over every output (n, c, oy, ox), the samples maybe split across threads
    (compiler/cpu/sample_loop.py); ``zeroed``: a buffer of the input's shape (and
    ``dtype``) set to zero per sample first. The window's valid rows and columns come from
    ``_open_taps``. Returns the sample loop, for ``_close_windows``."""
    loop = SampleLoop(lowering, g.n)
    loop.open()
    if zeroed is not None:
        loop.zero_sample(zeroed, g.c * g.h * g.w, dtype)
    out = lowering.out
    out.open(f"for c in range({g.c}):")
    out.open(f"for oy in range({g.oh}):")
    out.open(f"for ox in range({g.ow}):")
    return loop


def _close_windows(lowering, loop):
    close_loops(lowering.out, 3)
    loop.close()


def _open_taps(out, g):
    """Loops over the window of output (oy, ox): input rows iy and columns ix inside the input."""
    for axis, index, size, stride, pad, k in (("iy", "oy", g.h, g.sh, g.ph, g.kh),
                                              ("ix", "ox", g.w, g.sw, g.pw, g.kw)):
        start = affine(index, stride, 0, -pad)
        if pad == 0:
            out.open(f"for {axis} in range({start}, {start} + {k}):")
        else:
            out.open(f"for {axis} in range(max(0, {start}), min({size}, {start} + {k})):")


def _argmax(lowering, x, node):
    """The (N, C, OH, OW) int32 buffer of each window's first maximum (flat index in the
    H*W plane), and whether the caller must fill it."""
    p = params_of(lowering, node)
    key = ("argmax", x, p["kernel"], p["stride"], p["padding"])
    shared = shared_buffers(lowering)
    if key in shared:
        return shared[key], False
    name = f"arg{x}_{len(shared)}"
    g = _pool_geometry(lowering, x, node)
    lowering.buffer(name, (g.n, g.c, g.oh, g.ow), "int32")
    shared[key] = name
    return name, True


def _emit_max_scan(lowering, node, g, source, argmax, result=None):
    """Inside the window loops: find the window's first maximum, store its index in
    ``argmax`` and, when ``result`` is given, its value (NaN when the window holds one, as
    in PyTorch). Selects, not branches: a branch per element mispredicts half the time.
    Windows of unpadded input are unrolled."""
    out = lowering.out
    dtype = lowering.attrs(node)["dtype"]
    row, col = affine("oy", g.sh, 0, -g.ph), affine("ox", g.sw, 0, -g.pw)
    if not g.padded and g.taps <= 16:
        for k, (i, j) in enumerate((i, j) for i in range(g.kh) for j in range(g.kw)):
            iy, ix = affine("oy", g.sh, 0, i), affine("ox", g.sw, 0, j)
            value, at = f"{source}[n, c, {iy}, {ix}]", f"({iy}) * {g.w} + {ix}"
            if k == 0:
                out.line(f"best = {value}")
                out.line(f"at = {at}")
                out.line("nan = best != best")
            else:
                _emit_take(out, value, at)
    else:
        out.line(f"best = {literal(float('-inf'), dtype)}")
        out.line(f"at = max(0, {row}) * {g.w} + max(0, {col})")
        out.line("nan = False")
        _open_taps(out, g)
        _emit_take(out, f"{source}[n, c, iy, ix]", f"iy * {g.w} + ix")
        close_loops(out, 2)
    out.line(f"{argmax}[n, c, oy, ox] = at")
    if result is not None:
        out.line(f"{result}[n, c, oy, ox] = best if not nan else {literal(float('nan'), dtype)}")


def _emit_take(out, value, at):
    out.line(f"v = {value}")
    out.line("take = v > best")
    out.line("best = v if take else best")
    out.line(f"at = {at} if take else at")
    out.line("nan |= v != v")


def lower_max_pool2d(lowering, node):
    (x,) = lowering.graph.operands(node)
    g = _pool_geometry(lowering, x, node)
    source = lowering.contiguous(x)
    out_name = lowering.allocate(node)
    argmax, _ = _argmax(lowering, x, node)
    loop = _open_windows(lowering, g)
    _emit_max_scan(lowering, node, g, source, argmax, out_name)
    _close_windows(lowering, loop)


def _argmax_filled(lowering, x, node):
    """The argmax buffer of ``x`` for this node's window, computed here when no earlier op
    of the graph did."""
    g = _pool_geometry(lowering, x, node)
    argmax, fill = _argmax(lowering, x, node)
    if fill:
        source = lowering.contiguous(x)
        loop = _open_windows(lowering, g)
        _emit_max_scan(lowering, node, g, source, argmax)
        _close_windows(lowering, loop)
    return g, argmax


def lower_max_pool2d_grad(lowering, node):
    """dx: each output's cotangent added at its window's first maximum."""
    x, cot = lowering.graph.operands(node)
    g, argmax = _argmax_filled(lowering, x, node)
    grad = lowering.contiguous(cot)
    out_name = lowering.allocate(node)
    body = lowering.out
    body.line(f"flat{node} = {out_name}.reshape(({g.n}, {g.c}, {g.h * g.w}))")
    loop = _open_windows(lowering, g, out_name, lowering.attrs(node)["dtype"])
    body.line(f"flat{node}[n, c, {argmax}[n, c, oy, ox]] += {grad}[n, c, oy, ox]")
    _close_windows(lowering, loop)


def lower_max_pool2d_gather(lowering, node):
    """out: ``h`` read at each window's first maximum of ``x``."""
    x, h = lowering.graph.operands(node)
    g, argmax = _argmax_filled(lowering, x, node)
    source = lowering.contiguous(h)
    out_name = lowering.allocate(node)
    body = lowering.out
    body.line(f"flat{node} = {source}.reshape(({g.n}, {g.c}, {g.h * g.w}))")
    loop = _open_windows(lowering, g)
    body.line(f"{out_name}[n, c, oy, ox] = flat{node}[n, c, {argmax}[n, c, oy, ox]]")
    _close_windows(lowering, loop)


def _divisor_line(out, g, count_include_pad, dtype):
    """``scale = 1 / window size`` for output (oy, ox)."""
    if count_include_pad or not g.padded:
        out.line(f"scale = {literal(1.0 / (g.kh * g.kw), dtype)}")
        return
    rows = (f"min({g.h}, {affine('oy', g.sh, 0, g.kh - g.ph)}) - "
            f"max(0, {affine('oy', g.sh, 0, -g.ph)})")
    cols = (f"min({g.w}, {affine('ox', g.sw, 0, g.kw - g.pw)}) - "
            f"max(0, {affine('ox', g.sw, 0, -g.pw)})")
    out.line(f"scale = np.{numba_dtype(dtype)}(1.0 / (({rows}) * ({cols})))")


def lower_avg_pool2d(lowering, node):
    (x,) = lowering.graph.operands(node)
    g = _pool_geometry(lowering, x, node)
    dtype = lowering.attrs(node)["dtype"]
    source = lowering.contiguous(x)
    out_name = lowering.allocate(node)
    body = lowering.out
    loop = _open_windows(lowering, g)
    _divisor_line(body, g, params_of(lowering, node)["count_include_pad"], dtype)
    body.line(f"total = {zero(dtype)}")
    _open_taps(body, g)
    body.line(f"total += {source}[n, c, iy, ix]")
    close_loops(body, 2)
    body.line(f"{out_name}[n, c, oy, ox] = total * scale")
    _close_windows(lowering, loop)


def lower_avg_pool2d_grad(lowering, node):
    (cot,) = lowering.graph.operands(node)
    p = params_of(lowering, node)
    n, c = shape_of(lowering, cot)[:2]
    shape = (n, c) + tuple(p["input_size"])
    g = Geometry(shape, p["kernel"], p["stride"], p["padding"], (1, 1), shape_of(lowering, cot)[2:])
    dtype = lowering.attrs(node)["dtype"]
    grad = lowering.contiguous(cot)
    out_name = lowering.allocate(node)
    body = lowering.out
    loop = _open_windows(lowering, g, out_name, dtype)
    _divisor_line(body, g, p["count_include_pad"], dtype)
    body.line(f"share = {grad}[n, c, oy, ox] * scale")
    _open_taps(body, g)
    body.line(f"{out_name}[n, c, iy, ix] += share")
    close_loops(body, 2)
    _close_windows(lowering, loop)


LOWERINGS = {
    "max_pool2d": lower_max_pool2d,
    "max_pool2d_grad": lower_max_pool2d_grad,
    "max_pool2d_gather": lower_max_pool2d_gather,
    "avg_pool2d": lower_avg_pool2d,
    "avg_pool2d_grad": lower_avg_pool2d_grad,
}
