"""Shared pieces of the window-op lowerings (convolution and pooling, numba CPU): a window
op's sizes (``Geometry``), source snippets for index arithmetic, and small helpers that read
a node's attributes or emit loop closings."""
from .source import literal


def params_of(lowering, node):
    """The static params of ``node``."""
    return lowering.attrs(node)["params"]


def shape_of(lowering, node):
    """The shape of ``node``'s value."""
    return lowering.attrs(node)["shape"]


def shared_buffers(lowering):
    """Buffers one op fills and another of the family reads (unfolded inputs, argmaxes)."""
    return lowering.__dict__.setdefault("conv_shared", {})


def zero(dtype):
    """Source of a typed zero."""
    return literal(0, dtype)


class Geometry:
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
        index = affine(axis, stride, reach, -pad)
        if pad == 0:
            out.open(f"for {axis} in range({extent}):")
        else:
            # from the first output whose input index is >= 0 to the last one inside
            low = floor_div(f"{pad + stride - 1} - {reach}", stride)
            high = floor_div(f"{size - 1 + pad} - {reach}", stride)
            out.open(f"for {axis} in range(max(0, {low}), min({extent}, {high} + 1)):")
        return index


def floor_div(numerator, stride):
    """Source of ``floor(numerator / stride)``."""
    return numerator if stride == 1 else f"({numerator}) // {stride}"


def affine(var, scale, offset, constant):
    """Source of ``var * scale + offset + constant`` without no-op terms."""
    text = var if scale == 1 else f"{var} * {scale}"
    if offset not in ("0", 0):
        text += f" + {offset}"
    if constant:
        text += f" + {constant}" if constant > 0 else f" - {-constant}"
    return text


def conv_geometry(lowering, x, node, kernel):
    p = params_of(lowering, node)
    out = output_spatial(shape_of(lowering, x), kernel, p)
    return Geometry(shape_of(lowering, x), kernel, p["stride"], p["padding"], p["dilation"], out)


def output_spatial(in_shape, kernel, p):
    dilation = p.get("dilation", (1, 1))
    return tuple((n + 2 * q - d * (k - 1) - 1) // s + 1 for n, k, s, q, d in
                 zip(in_shape[2:], kernel, p["stride"], p["padding"], dilation))



def close_loops(out, count):
    """Close ``count`` blocks opened on ``out``."""
    for _ in range(count):
        out.close()

