"""Unfolding (im2col) and folding (col2im) for the numba CPU convolution lowerings: the
buffers and generated loops that turn one sample of a convolution into matrix products."""
import numpy as np

from ..codegen.window_geometry import affine, close_loops, shared_buffers, zero


# Unfolded inputs and expanded cotangents of a whole batch up to this size are kept and shared
# by the convolution ops that read them (they stay in L2); larger ones are made per sample.
SHARED_BYTES = 256 * 1024


class Unfolding:
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
    junk is at most half the columns (measured on a small convolutional net: a wide block
    won for R=54, O=16 at batch 64 and lost for R=9, O=6 at batch 1).
    """

    def __init__(self, lowering, node, g, out_channels, loop):
        self.lowering, self.node, self.g, self.loop = lowering, node, g, loop
        self.dtype = lowering.attrs(node)["dtype"]
        self.hp, self.wp = g.h + 2 * g.ph, g.w + 2 * g.pw
        self.wide = ((g.sh, g.sw) == (1, 1) and self.wp - g.ow <= g.ow
                     and g.rows > 2 * out_channels)
        self.columns = g.oh * self.wp if self.wide else g.positions
        self.padded_plane = None
        if self.wide and g.padded:
            self.padded_plane = self.scratch("pad", (g.c, self.hp, self.wp), zero=True)

    def buffer(self, what, shape, zero=False):
        name = f"{what}{self.node}"
        self.lowering.buffer(name, shape, self.dtype)
        if zero:
            self.lowering.prologue.line(f"{name}[...] = 0")
        return name

    def scratch(self, what, shape, zero=False):
        """A buffer for one sample at a time, one per chunk of the sample loop: its
        expression in the loop."""
        return self.loop.scratch(f"{what}{self.node}", shape, self.dtype, zero)

    def out_buffer(self, what, channels):
        """A (channels, columns) scratch buffer whose wide junk columns are zero."""
        return self.scratch(what, (channels, self.columns), zero=self.wide)

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
            return self.scratch(what, shape, zero), True
        shared = shared_buffers(self.lowering)
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
            close_loops(out, 5)
            return
        plane = self._plane(source)
        self._open_shifts()
        # the index is cast to unsigned: numba then skips negative-index wraparound, and the
        # copy vectorizes
        out.open(f"for q in range(min({self.columns}, {self.hp * self.wp} - shift)):")
        out.line(f"{cols}[r, q] = {plane}[c, np.uint64(q + shift)]")
        close_loops(out, 4)

    def emit_fold(self, cols, target):
        """``target[n] += cols`` folded back into image layout (overlapping windows add);
        ``target[n]`` must be zero before the first sample's fold."""
        out, g = self.lowering.out, self.g
        if not self.wide:
            _open_taps_rows(out, g)
            ix = g.open_valid(out, "x", "j")
            out.line(f"{target}[n, c, iy, {ix}] += {cols}[r, base + x]")
            close_loops(out, 5)
            return
        plane = self.padded_plane or f"{target}[n]"
        if self.padded_plane:
            out.line(f"{plane}[...] = 0")
        flat = f"flat{self.node}"
        out.line(f"{flat} = {plane}.reshape(({g.c}, {self.hp * self.wp}))")
        self._open_shifts()
        out.open(f"for q in range(min({self.columns}, {self.hp * self.wp} - shift)):")
        out.line(f"{flat}[c, np.uint64(q + shift)] += {cols}[r, q]")
        close_loops(out, 4)
        if self.padded_plane:
            out.line(f"{target}[n] = {plane}[:, {g.ph}:{g.ph + g.h}, {g.pw}:{g.pw + g.w}]")

    def emit_compact(self, wide, target, channels, bias=None):
        """``target[n]`` from a (channels, OH*Wp) product: its first OW columns of each row,
        plus ``bias[o]`` when given."""
        out, g = self.lowering.out, self.g
        out.open(f"for o in range({channels}):")
        out.line(f"shift = {bias}[o]" if bias else f"shift = {zero(self.dtype)}")
        out.open(f"for y in range({g.oh}):")
        out.open(f"for x in range({g.ow}):")
        out.line(f"{target}[n, o, y, x] = {wide}[o, y * {self.wp} + x] + shift")
        close_loops(out, 3)

    def emit_expand(self, source, wide, channels):
        """A (channels, OH*Wp) buffer from ``source[n]`` (its junk columns stay zero)."""
        out, g = self.lowering.out, self.g
        out.open(f"for o in range({channels}):")
        out.open(f"for y in range({g.oh}):")
        out.open(f"for x in range({g.ow}):")
        out.line(f"{wide}[o, y * {self.wp} + x] = {source}[n, o, y, x]")
        close_loops(out, 3)

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
        out.line(f"shift = {affine('i', g.dh * self.wp, affine('j', g.dw, 0, 0), 0)}")


def sample_local(out, expression, local):
    """Bind a batch buffer's sample ``[n]`` or a chunk's scratch buffer ``[t]`` to a local
    once per sample (not in the copy loops); a buffer's name passes through."""
    if not expression.endswith("]"):
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

