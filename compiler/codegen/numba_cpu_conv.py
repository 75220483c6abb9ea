"""Numba CPU lowerings of the convolution family (symgrad/ops/conv.py), registered into
``numba_cpu.LOWERINGS`` by ``compiler/codegen/__init__.py``.

Convolutions are matrix products, one sample at a time: the sample's input is unfolded
(im2col) into a block that stays in cache and multiplied by the weight seen as an
``(O, C*KH*KW)`` matrix with BLAS (``np.dot`` into a prepared buffer); the bias is added
while the sample's output is in cache. The weight gradient multiplies the cotangent by the
unfolded block (kept from the forward when the whole batch's is small, unfolded again
otherwise); the input gradient is a BLAS product folded back into image layout (col2im).
Stride-1 convolutions with many more unfolded rows than outputs use a "wide" layout whose
copies are long and vectorize (see ``_Unfolding``). Pooling is loops over windows;
``max_pool2d`` records each window's first maximum (a flat index into the input plane) and
its gradient ops read those indices when the forward is in the graph. Every buffer is made
in the prologue; shapes and params are literals in the generated source.
"""
import numpy as np

from compiler.codegen.numba_cpu import numba_dtype
from compiler.codegen.source import literal


# Unfolded inputs and expanded cotangents of a whole batch up to this size are kept and shared
# by the convolution ops that read them (they stay in L2); larger ones are made per sample.
SHARED_BYTES = 256 * 1024


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


# -- unfolding (im2col) and folding (col2im), one sample at a time ---------------------------------
class _Unfolding:
    """The buffers and loops that turn sample ``n`` of a convolution into matrix products.

    Narrow layout (any stride): ``cols (R, OH*OW)``, ``cols[r, y*OW + x] = x[c, iy, ix]`` for
    ``r = (c, i, j)``; cells that read padding are zero (set in the prologue, never written).
    Wide layout (stride 1): positions run over whole rows of the padded input,
    ``q = y*Wp + x`` for ``x < Wp``, so each row of ``cols`` is ONE contiguous copy of the
    padded input plane, shifted by the kernel offset; columns with ``x >= OW`` are junk.
    Products then give junk in those columns: the output is compacted, and the cotangent is
    expanded into a buffer that is zero there. Long copies vectorize where short rows do not,
    but compacting and expanding cost O*OH*OW short-row copies each, so the wide layout is
    used for stride 1 when the unfolded block is much larger than the output (R > 2*O) and
    junk is at most half the columns: LeNet's conv2 (R=54, O=16) ran its three ops 10-15%
    faster wide at batch 64; conv1 (R=9, O=6) lost at batch 1.
    """

    def __init__(self, lowering, node, g, out_channels):
        self.lowering, self.node, self.g = lowering, node, g
        self.dtype = lowering.attrs(node)["dtype"]
        self.hp, self.wp = g.h + 2 * g.ph, g.w + 2 * g.pw
        self.wide = ((g.sh, g.sw) == (1, 1) and self.wp - g.ow <= g.ow
                     and g.rows > 2 * out_channels)
        self.columns = g.oh * self.wp if self.wide else g.positions
        self.padded_plane = None
        if self.wide and g.padded:
            self.padded_plane = self.buffer("pad", (g.c, self.hp, self.wp), zero=True)

    def buffer(self, what, shape, zero=False):
        name = f"{what}{self.node}"
        self.lowering.buffer(name, shape, self.dtype)
        if zero:
            self.lowering.prologue.line(f"{name}[...] = 0")
        return name

    def out_buffer(self, what, channels):
        """A (channels, columns) buffer whose wide junk columns are zero."""
        return self.buffer(what, (channels, self.columns), zero=self.wide)

    def unfolded(self, x):
        """``(buffer expression for sample n, whether this op fills it)``: a (R, columns)
        block. Cells never written stay zero: narrow cells that read padding, and the wide
        rows' tails past the end of the plane (junk: zero, not NaN, times a zero cotangent
        must give zero). When the whole
        batch unfolded is small it is one buffer shared by the convolution ops of ``x``
        (the forward fills it, the weight gradient reads it); a large batch is unfolded one
        sample at a time into a block that stays in cache, and again for the weight
        gradient (faster than writing and re-reading megabytes)."""
        g = self.g
        key = ("cols", x, (g.kh, g.kw), (g.sh, g.sw), (g.ph, g.pw), (g.dh, g.dw))
        return self._per_sample(key, "cols", (g.rows, self.columns), self.g.padded or self.wide)

    def expanded(self, cot, channels):
        """Like ``unfolded``: the cotangent in the wide layout (zero in junk columns), shared
        by the input and weight gradients of one convolution when the batch's is small."""
        key = ("expanded", cot, self.wp)
        return self._per_sample(key, "gw", (channels, self.columns), True)

    def _per_sample(self, key, what, shape, zero):
        size = self.g.n * int(np.prod(shape)) * np.dtype(self.dtype).itemsize
        if self.g.n > 1 and size > SHARED_BYTES:
            return self.buffer(what, shape, zero), True
        shared = _shared(self.lowering)
        if key in shared:
            return f"{shared[key]}[n]", False
        name = self.buffer(what, (self.g.n,) + shape, zero)
        shared[key] = name
        return f"{name}[n]", True

    # -- emission, inside ``for n in range(N):`` ------------------------------------------------
    def emit_unfold(self, source, cols):
        out, g = self.lowering.out, self.g
        if not self.wide:
            _open_taps_rows(out, g)
            ix = g.open_valid(out, "x", "j")
            out.line(f"{cols}[r, base + x] = {source}[n, c, iy, {ix}]")
            _close(out, 5)
            return
        plane = self._plane(source)
        self._open_shifts()
        # the index is cast to unsigned: numba then skips negative-index wraparound, and the
        # copy vectorizes (3x faster)
        out.open(f"for q in range(min({self.columns}, {self.hp * self.wp} - shift)):")
        out.line(f"{cols}[r, q] = {plane}[c, np.uint64(q + shift)]")
        _close(out, 4)

    def emit_fold(self, cols, target):
        """``target[n] += cols`` folded back into image layout (overlapping windows add);
        ``target[n]`` must be zero before the first sample's fold."""
        out, g = self.lowering.out, self.g
        if not self.wide:
            _open_taps_rows(out, g)
            ix = g.open_valid(out, "x", "j")
            out.line(f"{target}[n, c, iy, {ix}] += {cols}[r, base + x]")
            _close(out, 5)
            return
        plane = self.padded_plane or f"{target}[n]"
        if self.padded_plane:
            out.line(f"{plane}[...] = 0")
        flat = f"flat{self.node}"
        out.line(f"{flat} = {plane}.reshape(({g.c}, {self.hp * self.wp}))")
        self._open_shifts()
        out.open(f"for q in range(min({self.columns}, {self.hp * self.wp} - shift)):")
        out.line(f"{flat}[c, np.uint64(q + shift)] += {cols}[r, q]")
        _close(out, 4)
        if self.padded_plane:
            out.line(f"{target}[n] = {plane}[:, {g.ph}:{g.ph + g.h}, {g.pw}:{g.pw + g.w}]")

    def emit_compact(self, wide, target, channels, bias=None):
        """``target[n]`` from a (channels, OH*Wp) product: its first OW columns of each row,
        plus ``bias[o]`` when given."""
        out, g = self.lowering.out, self.g
        out.open(f"for o in range({channels}):")
        out.line(f"shift = {bias}[o]" if bias else f"shift = {_zero(self.dtype)}")
        out.open(f"for y in range({g.oh}):")
        out.open(f"for x in range({g.ow}):")
        out.line(f"{target}[n, o, y, x] = {wide}[o, y * {self.wp} + x] + shift")
        _close(out, 3)

    def emit_expand(self, source, wide, channels):
        """A (channels, OH*Wp) buffer from ``source[n]`` (its junk columns stay zero)."""
        out, g = self.lowering.out, self.g
        out.open(f"for o in range({channels}):")
        out.open(f"for y in range({g.oh}):")
        out.open(f"for x in range({g.ow}):")
        out.line(f"{wide}[o, y * {self.wp} + x] = {source}[n, o, y, x]")
        _close(out, 3)

    def _plane(self, source):
        """The (C, Hp*Wp) padded input plane of sample n."""
        out, g = self.lowering.out, self.g
        if self.padded_plane is None:
            out.line(f"plane{self.node} = {source}[n].reshape(({g.c}, {g.h * g.w}))")
            return f"plane{self.node}"
        pad = self.padded_plane
        out.line(f"{pad}[:, {g.ph}:{g.ph + g.h}, {g.pw}:{g.pw + g.w}] = {source}[n]")
        out.line(f"plane{self.node} = {pad}.reshape(({g.c}, {self.hp * self.wp}))")
        return f"plane{self.node}"

    def _open_shifts(self):
        out, g = self.lowering.out, self.g
        out.open(f"for c in range({g.c}):")
        out.open(f"for i in range({g.kh}):")
        out.open(f"for j in range({g.kw}):")
        out.line(f"r = c * {g.taps} + i * {g.kw} + j")
        out.line(f"shift = {_affine('i', g.dh * self.wp, _affine('j', g.dw, 0, 0), 0)}")


def _sample(out, expression, local):
    """Bind a shared batch buffer's sample ``[n]`` to a local once per sample (not in the
    copy loops); a per-sample buffer's name passes through."""
    if not expression.endswith("[n]"):
        return expression
    out.line(f"{local} = {expression}")
    return local


def _open_taps_rows(out, g):
    """Loops over r = (c, i, j) and the output rows y whose input row iy is inside; sets
    ``base`` (the row's first column in the narrow layout)."""
    out.open(f"for c in range({g.c}):")
    out.open(f"for i in range({g.kh}):")
    out.open(f"for j in range({g.kw}):")
    out.line(f"r = c * {g.taps} + i * {g.kw} + j")
    iy = g.open_valid(out, "y", "i")
    out.line(f"iy = {iy}")
    out.line(f"base = y * {g.ow}")


# -- convolutions ------------------------------------------------------------------------------
def lower_conv2d(lowering, node):
    """out[n] (O, P) = w (O, C*KH*KW) @ cols (the sample unfolded) + bias, one sample at a
    time: the unfolded block and the output stay in cache (a whole-batch block measured
    slower), and the bias is added there."""
    x, w, *b = lowering.graph.operands(node)
    kernel, o = _shape(lowering, w)[2:], _shape(lowering, w)[0]
    g = _conv_geometry(lowering, x, node, kernel)
    source, weight = lowering.contiguous(x), lowering.contiguous(w)
    bias = lowering.contiguous(b[0]) if b else None
    out_name = lowering.allocate(node)
    unfold = _Unfolding(lowering, node, g, o)
    cols, fill = unfold.unfolded(x)
    body = lowering.out
    body.line(f"w{node} = {weight}.reshape(({o}, {g.rows}))")
    if unfold.wide:
        product = unfold.out_buffer("prod", o)
    body.open(f"for n in range({g.n}):")
    cols = _sample(body, cols, f"cs{node}")
    if fill:
        unfold.emit_unfold(source, cols)
    if unfold.wide:
        body.line(f"np.dot(w{node}, {cols}, {product})")
        unfold.emit_compact(product, out_name, o, bias)
    else:
        body.line(f"rows{node} = {out_name}[n].reshape(({o}, {g.positions}))")
        body.line(f"np.dot(w{node}, {cols}, rows{node})")
        if bias:
            body.open(f"for o in range({o}):")
            body.line(f"shift = {bias}[o]")
            body.open(f"for p in range({g.positions}):")
            body.line(f"rows{node}[o, p] += shift")
            _close(body, 2)
    body.close()


def lower_conv2d_weight_grad(lowering, node):
    """dw (O, C*KH*KW) = sum over samples of g[n] (O, P) @ cols.T, the sample unfolded again
    (re-unfolding a sample in cache beat keeping the forward's unfolded batch)."""
    x, cot = lowering.graph.operands(node)
    p = _params(lowering, node)
    g = _conv_geometry(lowering, x, node, p["kernel"])
    o = _shape(lowering, node)[0]
    source, grad = lowering.contiguous(x), lowering.contiguous(cot)
    out_name = lowering.allocate(node)
    unfold = _Unfolding(lowering, node, g, o)
    cols, fill = unfold.unfolded(x)
    body = lowering.out
    dw = f"dw{node}"
    body.line(f"{dw} = {out_name}.reshape(({o}, {g.rows}))")
    if g.n > 1:
        partial = unfold.buffer("part", (o, g.rows))
        body.line(f"{dw}[...] = {_zero(unfold.dtype)}")
    if unfold.wide:
        expanded, expand = unfold.expanded(cot, o)
    body.open(f"for n in range({g.n}):")
    cols = _sample(body, cols, f"cs{node}")
    if unfold.wide:
        expanded = _sample(body, expanded, f"gs{node}")
    if fill:
        unfold.emit_unfold(source, cols)
    if unfold.wide:
        if expand:
            unfold.emit_expand(grad, expanded, o)
        product = f"{expanded}, {cols}.T"
    else:
        product = f"{grad}[n].reshape(({o}, {g.positions})), {cols}.T"
    if g.n > 1:
        body.line(f"np.dot({product}, {partial})")
        body.line(f"{dw} += {partial}")
    else:
        body.line(f"np.dot({product}, {dw})")
    body.close()


def lower_conv2d_input_grad(lowering, node):
    """dx[n] = fold(w.T (C*KH*KW, O) @ g[n]), one sample at a time."""
    cot, w = lowering.graph.operands(node)
    kernel, o = _shape(lowering, w)[2:], _shape(lowering, w)[0]
    n, c, h, width = _shape(lowering, node)
    p = _params(lowering, node)
    g = _Geometry((n, c, h, width), kernel, p["stride"], p["padding"], p["dilation"],
                  _shape(lowering, cot)[2:])
    grad, weight = lowering.contiguous(cot), lowering.contiguous(w)
    out_name = lowering.allocate(node)
    unfold = _Unfolding(lowering, node, g, o)
    cols = unfold.buffer("dcols", (g.rows, unfold.columns))
    body = lowering.out
    body.line(f"wt{node} = {weight}.reshape(({o}, {g.rows})).T")
    if not (unfold.wide and unfold.padded_plane):
        body.line(f"{out_name}[...] = {_zero(unfold.dtype)}")
    if unfold.wide:
        expanded, expand = unfold.expanded(cot, o)
    body.open(f"for n in range({g.n}):")
    if unfold.wide:
        expanded = _sample(body, expanded, f"gs{node}")
        if expand:
            unfold.emit_expand(grad, expanded, o)
        body.line(f"np.dot(wt{node}, {expanded}, {cols})")
    else:
        body.line(f"np.dot(wt{node}, {grad}[n].reshape(({o}, {g.positions})), {cols})")
    unfold.emit_fold(cols, out_name)
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
