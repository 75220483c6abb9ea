"""Matrix products on BLAS for the numba CPU code generator: ``gemm`` (symgrad.compiler.cpu.runtime.gemm)
into a buffer made once, and updates by a product (symgrad.compiler.passes.gemm_update) as one GEMM
call with alpha and beta into the updated buffer. Float products call ``gemm`` rather than
numba's ``np.dot``, whose overloads (shape checks, error messages) were a large part of a
cold compile; complex products still use ``np.dot``, integer and boolean ones are loops."""
import numpy as np

from ..codegen.source import literal
from .threads import emit_product


def lower_matmul(lowering, node):
    """A BLAS product into a prepared buffer; C- and F-ordered operands (transposes) go to
    BLAS as they are. A batched product is one call per batch element, in loops over the batch axes; an
    operand without them (or with an axis of 1) is broadcast as numpy does."""
    if node in lowering.folded_products or node in lowering.delayed_products:
        return
    attrs = lowering.attrs(node)
    batch = attrs["shape"][:-2]
    name = lowering.allocate(node)
    operands = lowering.graph.operands(node)
    matrices = [_blas_operand(lowering, o) if len(lowering.attrs(o)["shape"]) == 2
                else lowering.contiguous(o) for o in operands]     # copies before the loops
    for axis, extent in enumerate(batch):
        lowering.out.open(f"for i{axis} in range({extent}):")
    a, b = (_batch_element(lowering, o, text, batch) for o, text in zip(operands, matrices))
    out = _batch_element(lowering, node, name, batch)
    if np.dtype(attrs["dtype"]) in (np.float32, np.float64):
        emit_product(lowering, node, "1.0", a, b, "0.0", out)
    elif np.dtype(attrs["dtype"]).kind in "fc":
        lowering.out.line(f"np.dot({a}, {b}, {out})")
    else:
        _exact_product(lowering, node, a, b, out)
    for _ in batch:
        lowering.out.close()


def _exact_product(lowering, node, a, b, out):
    """``out = a @ b`` of integers or booleans as loops: exact, and wrapping around on
    overflow as numpy's does (numba's dot is BLAS-only: through float64, a product above
    2**53 came back rounded)."""
    rows, columns = lowering.attrs(node)["shape"][-2:]
    inner = lowering.attrs(lowering.graph.operands(node)[0])["shape"][-1]
    boolean = lowering.attrs(node)["dtype"] == "bool"
    writer = lowering.out
    writer.line(f"pa, pb, po = {a}, {b}, {out}")
    writer.open(f"for mi in range({rows}):")
    writer.open(f"for mj in range({columns}):")
    writer.line(f"total = {literal(0, 'int64' if boolean else lowering.attrs(node)['dtype'])}")
    writer.open(f"for mk in range({inner}):")
    writer.line("total += pa[mi, mk] * pb[mk, mj]")
    writer.close()
    writer.line(f"po[mi, mj] = {'total != 0' if boolean else 'total'}")
    writer.close()
    writer.close()


def lower_gemm_update(lowering, node):
    """``target = beta * target + alpha * (a @ b)`` as one BLAS call into target's buffer."""
    update = lowering.gemm_updates[node]
    out = lowering.allocate(node)
    a, b = blas_operands(lowering, update.product)
    sign = "-" if update.alpha_sign < 0 else ""
    alpha = f"{sign}{lowering.var(update.alpha).name}" if update.alpha is not None else f"{sign}1.0"
    beta = lowering.var(update.beta).name if update.beta is not None else "1.0"
    emit_product(lowering, update.product, alpha, a, b, beta, out)


def blas_operands(lowering, product):
    """The names a GEMM call takes for a 2-D ``product``'s operands."""
    return [_blas_operand(lowering, operand) for operand in lowering.graph.operands(product)]


def _blas_operand(lowering, operand):
    variable = lowering.var(operand)
    return variable.name if variable.kind in "CF" else lowering.contiguous(operand)


def _batch_element(lowering, node, text, batch):
    """The matrix of ``node`` (named ``text``) that the batch element at the loop indices
    reads or writes: ``text`` itself when ``node`` has no batch axes, else a C-ordered
    slice, at index 0 along the axes ``node`` is broadcast along."""
    shape = lowering.attrs(node)["shape"]
    if len(shape) == 2:
        return text
    offset = len(batch) - (len(shape) - 2)
    index = ["0" if d == 1 and batch[offset + j] != 1 else f"i{offset + j}"
             for j, d in enumerate(shape[:-2])]
    return f"{text}[{', '.join(index)}]"
