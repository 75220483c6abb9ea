"""Numba CPU lowerings of the convolution family (symgrad/ops/conv.py), registered into
``numba_cpu.LOWERINGS``.

Convolutions are matrix products: each sample's input is unfolded (im2col) into a
``(C*KH*KW, OH*OW)`` block of a buffer and multiplied by the weight seen as an
``(O, C*KH*KW)`` matrix with BLAS (``np.dot`` into the output's slice). The weight gradient
multiplies the output cotangent by the same blocks, so when the forward convolution of the
same input is in the graph its unfolded buffer is reused instead of rebuilt; the input
gradient is a BLAS product followed by the scatter-add back into image layout (col2im).
Pooling is plain loops; ``max_pool2d`` records each window's first maximum (a flat index
into the input plane) and its gradient ops read those indices when the forward is in the
graph. Every buffer is made in the prologue; shapes and params are literals in the source.
"""
from compiler.codegen.numba_cpu import numba_dtype
from compiler.codegen.source import literal, shape_text


def _params(lowering, node):
    return lowering.attrs(node)["params"]


def _shape(lowering, node):
    return lowering.attrs(node)["shape"]


def _shared(lowering):
    """Buffers one op fills and another of the family reads (unfolded inputs, argmaxes)."""
    return lowering.__dict__.setdefault("conv_shared", {})


def _zero(dtype):
    return literal(0, dtype)


class _Geometry:
    """A window op's sizes: input (C, H, W), kernel, stride, padding, dilation, output."""

    def __init__(self, in_shape, kernel, stride, padding, dilation, out_size):
        self.n, self.c, self.h, self.w = in_shape
        (self.kh, self.kw), (self.sh, self.sw) = kernel, stride
        (self.ph, self.pw), (self.dh, self.dw) = padding, dilation
        self.oh, self.ow = out_size
        self.taps = self.kh * self.kw
        self.rows = self.c * self.taps          # rows of the unfolded block
        self.positions = self.oh * self.ow      # its columns

    @property
    def padded(self):
        return self.ph > 0 or self.pw > 0

    def open_valid(self, out, axis, tap):
        """Open the loop over output rows (axis 'y') or columns ('x') whose input index for
        kernel offset ``tap`` (a loop variable) lies inside the input; returns the index
        expression. Without padding every output reads inside the input."""
        size, stride, pad, dilation, extent = (
            (self.h, self.sh, self.ph, self.dh, self.oh) if axis == "y"
            else (self.w, self.sw, self.pw, self.dw, self.ow))
        reach = tap if dilation == 1 else f"{tap} * {dilation}"
        index = _affine(axis, stride, reach, -pad)
        if pad == 0:
            out.open(f"for {axis} in range({extent}):")
        else:
            # from the first output whose input index is >= 0 to the last one inside
            low = _over(f"{pad + stride - 1} - {reach}", stride)
            high = _over(f"{size - 1 + pad} - {reach}", stride)
            out.open(f"for {axis} in range(max(0, {low}), min({extent}, {high} + 1)):")
        return index


def _over(numerator, stride):
    """Source of ``floor(numerator / stride)``."""
    return numerator if stride == 1 else f"({numerator}) // {stride}"


def _affine(var, scale, offset, constant):
    """Source of ``var * scale + offset + constant`` without no-op terms."""
    text = var if scale == 1 else f"{var} * {scale}"
    if offset not in ("0", 0):
        text += f" + {offset}"
    if constant:
        text += f" + {constant}" if constant > 0 else f" - {-constant}"
    return text


def _conv_geometry(lowering, x, node, kernel):
    p = _params(lowering, node)
    out = output_spatial(_shape(lowering, x), kernel, p)
    return _Geometry(_shape(lowering, x), kernel, p["stride"], p["padding"], p["dilation"], out)


def output_spatial(in_shape, kernel, p):
    dilation = p.get("dilation", (1, 1))
    return tuple((n + 2 * q - d * (k - 1) - 1) // s + 1 for n, k, s, q, d in
                 zip(in_shape[2:], kernel, p["stride"], p["padding"], dilation))


# -- im2col / col2im -------------------------------------------------------------------------
def _unfolded(lowering, x, kernel, p):
    """The (N, C*KH*KW, OH*OW) buffer of ``x`` unfolded, and whether the caller must fill it
    (True for the first op of the graph that asks for it)."""
    key = ("cols", x, tuple(kernel), p["stride"], p["padding"], p["dilation"])
    shared = _shared(lowering)
    if key in shared:
        return shared[key], False
    geometry = _Geometry(_shape(lowering, x), kernel, p["stride"], p["padding"], p["dilation"],
                         output_spatial(_shape(lowering, x), kernel, p))
    name = f"cols{x}_{len(shared)}"
    lowering.buffer(name, (geometry.n, geometry.rows, geometry.positions), lowering.attrs(x)["dtype"])
    if geometry.padded:     # cells that read padding stay zero: the body never writes them
        lowering.prologue.line(f"{name}[...] = 0")
    shared[key] = name
    return name, True


def _emit_im2col(out, g, source, cols):
    """Fill ``cols[n]`` (sample ``n`` is a loop variable) from ``source[n]``."""
    out.open(f"for c in range({g.c}):")
    out.open(f"for i in range({g.kh}):")
    out.open(f"for j in range({g.kw}):")
    out.line(f"r = c * {g.taps} + i * {g.kw} + j")
    iy = g.open_valid(out, "y", "i")
    out.line(f"iy = {iy}")
    out.line(f"base = y * {g.ow}")
    ix = g.open_valid(out, "x", "j")
    out.line(f"{cols}[n, r, base + x] = {source}[n, c, iy, {ix}]")
    for _ in range(5):
        out.close()


def _emit_col2im(out, g, cols, target):
    """``target[n] += cols`` folded back into image layout (overlapping windows add)."""
    out.open(f"for c in range({g.c}):")
    out.open(f"for i in range({g.kh}):")
    out.open(f"for j in range({g.kw}):")
    out.line(f"r = c * {g.taps} + i * {g.kw} + j")
    iy = g.open_valid(out, "y", "i")
    out.line(f"iy = {iy}")
    out.line(f"base = y * {g.ow}")
    ix = g.open_valid(out, "x", "j")
    out.line(f"{target}[n, c, iy, {ix}] += {cols}[r, base + x]")
    for _ in range(5):
        out.close()


# -- convolutions ------------------------------------------------------------------------------
def lower_conv2d(lowering, node):
    """out[n] (O, P) = w (O, C*KH*KW) @ cols[n]; cols[n] unfolded just before its product."""
    x, w = lowering.graph.operands(node)
    kernel = _shape(lowering, w)[2:]
    g = _conv_geometry(lowering, x, node, kernel)
    source, weight = lowering.contiguous(x), lowering.contiguous(w)
    out_name = lowering.allocate(node)
    cols, fill = _unfolded(lowering, x, kernel, _params(lowering, node))
    o = _shape(lowering, w)[0]
    body = lowering.out
    body.line(f"w{node} = {weight}.reshape(({o}, {g.rows}))")
    body.open(f"for n in range({g.n}):")
    if fill:
        _emit_im2col(body, g, source, cols)
    body.line(f"np.dot(w{node}, {cols}[n], {out_name}[n].reshape(({o}, {g.positions})))")
    body.close()


def lower_conv2d_weight_grad(lowering, node):
    """dw (O, C*KH*KW) = sum over samples of g[n] (O, P) @ cols[n].T."""
    x, cot = lowering.graph.operands(node)
    p = _params(lowering, node)
    g = _conv_geometry(lowering, x, node, p["kernel"])
    o = _shape(lowering, node)[0]
    source, grad = lowering.contiguous(x), lowering.contiguous(cot)
    out_name = lowering.allocate(node)
    cols, fill = _unfolded(lowering, x, p["kernel"], p)
    partial = f"part{node}"
    if g.n > 1:
        lowering.buffer(partial, (o, g.rows), lowering.attrs(node)["dtype"])
    body = lowering.out
    body.line(f"dw{node} = {out_name}.reshape(({o}, {g.rows}))")
    body.open(f"for n in range({g.n}):")
    if fill:
        _emit_im2col(body, g, source, cols)
    product = f"{grad}[n].reshape(({o}, {g.positions})), {cols}[n].T"
    if g.n == 1:
        body.line(f"np.dot({product}, dw{node})")
    else:
        body.open("if n == 0:")
        body.line(f"np.dot({product}, dw{node})")
        body.close()
        body.open("else:")
        body.line(f"np.dot({product}, {partial})")
        body.line(f"dw{node} += {partial}")
        body.close()
    body.close()


def lower_conv2d_input_grad(lowering, node):
    """dx[n] = col2im(w.T (C*KH*KW, O) @ g[n] (O, P))."""
    cot, w = lowering.graph.operands(node)
    kernel = _shape(lowering, w)[2:]
    n, c, h, width = _shape(lowering, node)
    p = _params(lowering, node)
    g = _Geometry((n, c, h, width), kernel, p["stride"], p["padding"], p["dilation"],
                  _shape(lowering, cot)[2:])
    o = _shape(lowering, w)[0]
    grad, weight = lowering.contiguous(cot), lowering.contiguous(w)
    out_name = lowering.allocate(node)
    cols = f"dcols{node}"
    lowering.buffer(cols, (g.rows, g.positions), lowering.attrs(node)["dtype"])
    body = lowering.out
    body.line(f"wt{node} = {weight}.reshape(({o}, {g.rows})).T")
    body.line(f"{out_name}[...] = {_zero(lowering.attrs(node)['dtype'])}")
    body.open(f"for n in range({g.n}):")
    body.line(f"np.dot(wt{node}, {grad}[n].reshape(({o}, {g.positions})), {cols})")
    _emit_col2im(body, g, cols, out_name)
    body.close()


# -- pooling ---------------------------------------------------------------------------------
def _pool_geometry(lowering, x, node):
    p = _params(lowering, node)
    shape = _shape(lowering, x)
    return _Geometry(shape, p["kernel"], p["stride"], p["padding"], (1, 1),
                     output_spatial(shape, p["kernel"], p))


def _open_windows(out, g):
    """Loops over every output (n, c, oy, ox); the window's valid rows and columns come from
    ``_open_taps``."""
    out.open(f"for n in range({g.n}):")
    out.open(f"for c in range({g.c}):")
    out.open(f"for oy in range({g.oh}):")
    out.open(f"for ox in range({g.ow}):")


def _open_taps(out, g):
    """Loops over the window of output (oy, ox): input rows iy and columns ix inside the input."""
    for axis, index, size, stride, pad, k in (("iy", "oy", g.h, g.sh, g.ph, g.kh),
                                              ("ix", "ox", g.w, g.sw, g.pw, g.kw)):
        start = _affine(index, stride, 0, -pad)
        if pad == 0:
            out.open(f"for {axis} in range({start}, {start} + {k}):")
        else:
            out.open(f"for {axis} in range(max(0, {start}), min({size}, {start} + {k})):")


def _argmax(lowering, x, node):
    """The (N, C, OH, OW) int32 buffer of each window's first maximum (flat index in the
    H*W plane), and whether the caller must fill it."""
    p = _params(lowering, node)
    key = ("argmax", x, p["kernel"], p["stride"], p["padding"])
    shared = _shared(lowering)
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
    in PyTorch). Selects, not branches: a branch per element mispredicts half the time
    (3x slower). Windows of unpadded input are unrolled."""
    out = lowering.out
    dtype = lowering.attrs(node)["dtype"]
    row, col = _affine("oy", g.sh, 0, -g.ph), _affine("ox", g.sw, 0, -g.pw)
    if not g.padded and g.taps <= 16:
        for k, (i, j) in enumerate((i, j) for i in range(g.kh) for j in range(g.kw)):
            iy, ix = _affine("oy", g.sh, 0, i), _affine("ox", g.sw, 0, j)
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
        _close(out, 2)
    out.line(f"{argmax}[n, c, oy, ox] = at")
    if result is not None:
        out.line(f"{result}[n, c, oy, ox] = best if not nan else {literal(float('nan'), dtype)}")


def _emit_take(out, value, at):
    out.line(f"v = {value}")
    out.line("take = v > best")
    out.line("best = v if take else best")
    out.line(f"at = {at} if take else at")
    out.line("nan |= v != v")


def _close(out, count):
    for _ in range(count):
        out.close()


def lower_max_pool2d(lowering, node):
    (x,) = lowering.graph.operands(node)
    g = _pool_geometry(lowering, x, node)
    source = lowering.contiguous(x)
    out_name = lowering.allocate(node)
    argmax, _ = _argmax(lowering, x, node)
    _open_windows(lowering.out, g)
    _emit_max_scan(lowering, node, g, source, argmax, out_name)
    _close(lowering.out, 4)


def _argmax_filled(lowering, x, node):
    """The argmax buffer of ``x`` for this node's window, computed here when no earlier op
    of the graph did."""
    g = _pool_geometry(lowering, x, node)
    argmax, fill = _argmax(lowering, x, node)
    if fill:
        source = lowering.contiguous(x)
        _open_windows(lowering.out, g)
        _emit_max_scan(lowering, node, g, source, argmax)
        _close(lowering.out, 4)
    return g, argmax


def lower_max_pool2d_grad(lowering, node):
    """dx: each output's cotangent added at its window's first maximum."""
    x, cot = lowering.graph.operands(node)
    g, argmax = _argmax_filled(lowering, x, node)
    grad = lowering.contiguous(cot)
    out_name = lowering.allocate(node)
    body = lowering.out
    body.line(f"{out_name}[...] = {_zero(lowering.attrs(node)['dtype'])}")
    body.line(f"flat{node} = {out_name}.reshape(({g.n}, {g.c}, {g.h * g.w}))")
    _open_windows(body, g)
    body.line(f"flat{node}[n, c, {argmax}[n, c, oy, ox]] += {grad}[n, c, oy, ox]")
    _close(body, 4)


def lower_max_pool2d_gather(lowering, node):
    """out: ``h`` read at each window's first maximum of ``x``."""
    x, h = lowering.graph.operands(node)
    g, argmax = _argmax_filled(lowering, x, node)
    source = lowering.contiguous(h)
    out_name = lowering.allocate(node)
    body = lowering.out
    body.line(f"flat{node} = {source}.reshape(({g.n}, {g.c}, {g.h * g.w}))")
    _open_windows(body, g)
    body.line(f"{out_name}[n, c, oy, ox] = flat{node}[n, c, {argmax}[n, c, oy, ox]]")
    _close(body, 4)


def _divisor_line(out, g, count_include_pad, dtype):
    """``scale = 1 / window size`` for output (oy, ox)."""
    if count_include_pad or not g.padded:
        out.line(f"scale = {literal(1.0 / (g.kh * g.kw), dtype)}")
        return
    rows = (f"min({g.h}, {_affine('oy', g.sh, 0, g.kh - g.ph)}) - "
            f"max(0, {_affine('oy', g.sh, 0, -g.ph)})")
    cols = (f"min({g.w}, {_affine('ox', g.sw, 0, g.kw - g.pw)}) - "
            f"max(0, {_affine('ox', g.sw, 0, -g.pw)})")
    out.line(f"scale = np.{numba_dtype(dtype)}(1.0 / (({rows}) * ({cols})))")


def lower_avg_pool2d(lowering, node):
    (x,) = lowering.graph.operands(node)
    g = _pool_geometry(lowering, x, node)
    dtype = lowering.attrs(node)["dtype"]
    source = lowering.contiguous(x)
    out_name = lowering.allocate(node)
    body = lowering.out
    _open_windows(body, g)
    _divisor_line(body, g, _params(lowering, node)["count_include_pad"], dtype)
    body.line(f"total = {_zero(dtype)}")
    _open_taps(body, g)
    body.line(f"total += {source}[n, c, iy, ix]")
    _close(body, 2)
    body.line(f"{out_name}[n, c, oy, ox] = total * scale")
    _close(body, 4)


def lower_avg_pool2d_grad(lowering, node):
    (cot,) = lowering.graph.operands(node)
    p = _params(lowering, node)
    n, c = _shape(lowering, cot)[:2]
    shape = (n, c) + tuple(p["input_size"])
    g = _Geometry(shape, p["kernel"], p["stride"], p["padding"], (1, 1), _shape(lowering, cot)[2:])
    dtype = lowering.attrs(node)["dtype"]
    grad = lowering.contiguous(cot)
    out_name = lowering.allocate(node)
    body = lowering.out
    body.line(f"{out_name}[...] = {_zero(dtype)}")
    _open_windows(body, g)
    _divisor_line(body, g, p["count_include_pad"], dtype)
    body.line(f"share = {grad}[n, c, oy, ox] * scale")
    _open_taps(body, g)
    body.line(f"{out_name}[n, c, iy, ix] += share")
    _close(body, 2)
    _close(body, 4)


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
