"""Numba CPU lowerings of the convolutions (symgrad/core/ops/conv.py), registered into
``symgrad.compiler.cpu.lowering.LOWERINGS`` by ``compiler/cpu/__init__.py``.

Convolutions are matrix products, one sample at a time: the sample's input is unfolded
(im2col, compiler/cpu/im2col.py) into a block that stays in cache and multiplied by the
weight seen as an ``(O, C*KH*KW)`` matrix with BLAS (compiler/cpu/runtime/gemm.py, into a
prepared buffer); the bias is added while the sample's output is in cache. The weight
gradient multiplies the cotangent by the unfolded block (kept from the forward when the
whole batch's is small, unfolded again otherwise); the input gradient is a BLAS product
folded back into image layout (col2im). Large batches split their samples across threads
(compiler/cpu/sample_loop.py). Every buffer is made in the prologue; shapes and params
are literals in the generated source.
"""
from .im2col import Unfolding, sample_local
from .sample_loop import SampleLoop
from .threads import emit_gemm
from ..codegen.window_geometry import (Geometry, close_loops, conv_geometry, params_of,
                                              shape_of)


def lower_conv2d(lowering, node):
    """out[n] (O, P) = w (O, C*KH*KW) @ cols (the sample unfolded) + bias, one sample at a
    time: the unfolded block and the output stay in cache (a whole-batch block measured
    slower), and the bias is added there."""
    x, w, *b = lowering.graph.operands(node)
    kernel, o = shape_of(lowering, w)[2:], shape_of(lowering, w)[0]
    g = conv_geometry(lowering, x, node, kernel)
    source, weight = lowering.contiguous(x), lowering.contiguous(w)
    bias = lowering.contiguous(b[0]) if b else None
    out_name = lowering.allocate(node)
    loop = SampleLoop(lowering, g.n)
    unfold = Unfolding(lowering, node, g, o, loop)
    cols, fill = unfold.unfolded(x)
    body = lowering.out
    body.line(f"w{node} = {weight}.reshape(({o}, {g.rows}))")
    if unfold.wide:
        product = unfold.out_buffer("prod", o)
    loop.open()
    cols = sample_local(body, cols, f"cs{node}")
    if fill:
        unfold.emit_unfold(source, cols)
    if unfold.wide:
        product = sample_local(body, product, f"ps{node}")
        emit_gemm(lowering, "1.0", f"w{node}", cols, "0.0", product)
        unfold.emit_compact(product, out_name, o, bias)
    else:
        body.line(f"rows{node} = {out_name}[n].reshape(({o}, {g.positions}))")
        if bias:     # the product adds to the bias: one pass over the output, write-only
            body.open(f"for o in range({o}):")
            body.line(f"shift = {bias}[o]")
            body.open(f"for p in range({g.positions}):")
            body.line(f"rows{node}[o, p] = shift")
            close_loops(body, 2)
        emit_gemm(lowering, "1.0", f"w{node}", cols, "1.0" if bias else "0.0", f"rows{node}")
    loop.close()


def lower_conv2d_weight_grad(lowering, node):
    """dw (O, C*KH*KW) = sum over samples of g[n] (O, P) @ cols.T, the sample unfolded again
    (re-unfolding a sample in cache beat keeping the forward's unfolded batch). Split
    across threads, each chunk of samples sums into a partial of its own."""
    x, cot = lowering.graph.operands(node)
    p = params_of(lowering, node)
    g = conv_geometry(lowering, x, node, p["kernel"])
    o = shape_of(lowering, node)[0]
    source, grad = lowering.contiguous(x), lowering.contiguous(cot)
    out_name = lowering.allocate(node)
    loop = SampleLoop(lowering, g.n)
    unfold = Unfolding(lowering, node, g, o, loop)
    cols, fill = unfold.unfolded(x)
    body = lowering.out
    dw = f"dw{node}"
    body.line(f"{dw} = {out_name}.reshape(({o}, {g.rows}))")
    total = unfold.scratch("part", (o, g.rows)) if loop.parallel else dw
    if unfold.wide:
        expanded, expand = unfold.expanded(cot, o)
    loop.open()
    cols = sample_local(body, cols, f"cs{node}")
    if unfold.wide:
        expanded = sample_local(body, expanded, f"gs{node}")
    if fill:
        unfold.emit_unfold(source, cols)
    if not unfold.wide:
        expanded = f"{grad}[n].reshape(({o}, {g.positions}))"
    elif expand:
        unfold.emit_expand(grad, expanded, o)
    # the first sample's product overwrites the total, the others add to it
    emit_gemm(lowering, "1.0", expanded, f"{cols}.T", f"0.0 if n == {loop.first} else 1.0", total)
    loop.close()
    if loop.parallel:
        loop.sum_chunks(f"part{node}", dw, (o, g.rows))


def lower_conv2d_input_grad(lowering, node):
    """dx[n] = fold(w.T (C*KH*KW, O) @ g[n]), one sample at a time."""
    cot, w = lowering.graph.operands(node)
    kernel, o = shape_of(lowering, w)[2:], shape_of(lowering, w)[0]
    n, c, h, width = shape_of(lowering, node)
    p = params_of(lowering, node)
    g = Geometry((n, c, h, width), kernel, p["stride"], p["padding"], p["dilation"],
                 shape_of(lowering, cot)[2:])
    grad, weight = lowering.contiguous(cot), lowering.contiguous(w)
    out_name = lowering.allocate(node)
    loop = SampleLoop(lowering, g.n)
    unfold = Unfolding(lowering, node, g, o, loop)
    cols = unfold.scratch("dcols", (g.rows, unfold.columns))
    body = lowering.out
    body.line(f"wt{node} = {weight}.reshape(({o}, {g.rows})).T")
    if unfold.wide:
        expanded, expand = unfold.expanded(cot, o)
    loop.open()
    cols = sample_local(body, cols, f"ds{node}")
    if not (unfold.wide and unfold.padded_plane):
        loop.zero_sample(out_name, c * h * width, unfold.dtype)
    if not unfold.wide:
        expanded = f"{grad}[n].reshape(({o}, {g.positions}))"
    else:
        expanded = sample_local(body, expanded, f"gs{node}")
        if expand:
            unfold.emit_expand(grad, expanded, o)
    emit_gemm(lowering, "1.0", f"wt{node}", expanded, "0.0", cols)
    unfold.emit_fold(cols, out_name)
    loop.close()


LOWERINGS = {
    "conv2d": lower_conv2d,
    "conv2d_input_grad": lower_conv2d_input_grad,
    "conv2d_weight_grad": lower_conv2d_weight_grad,
}
