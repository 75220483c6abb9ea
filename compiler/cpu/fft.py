"""Numba CPU lowering of the ``fft`` op (symgrad/core/ops/fft.py): one call of the runtime's
``fft_lines`` (compiler/cpu/runtime/fft.py) per transformed axis, the array seen as
``(outer, n, inner)`` around it; the first call reads the operand, the others transform the
node's buffer in place."""
import math


def _scale(n, inverse, norm):
    """numpy's normalization of one axis of length ``n``."""
    if norm == "ortho":
        return 1 / math.sqrt(n)
    return 1 / n if (norm == "forward") != inverse else 1.0


def lower_fft(lowering, node):
    (operand,) = lowering.graph.operands(node)
    attrs = lowering.attrs(node)
    shape, params = attrs["shape"], attrs["params"]
    name = lowering.allocate(node)
    lowering.runtime.add("fft")
    source = lowering.contiguous(operand)
    for axis in params["axes"]:
        lines = (math.prod(shape[:axis]), shape[axis], math.prod(shape[axis + 1:]))
        scale = _scale(shape[axis], params["inverse"], params["norm"])
        lowering.out.line(f"fft_lines({source}.reshape({lines}), {name}.reshape({lines}), "
                          f"{params['inverse']}, {scale!r})")
        source = name


LOWERINGS = {"fft": lower_fft}
