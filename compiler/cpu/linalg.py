"""Numba CPU lowerings of the LAPACK primitives (symgrad/core/ops/decompositions.py),
registered into ``lowering.LOWERINGS`` by ``compiler/cpu/__init__.py``.

numba implements ``np.linalg.solve``, ``slogdet``, ``cholesky``, ``eigh``, ``svd`` and
``pinv`` on single matrices (through SciPy's LAPACK); a stack of matrices is a loop over its
batch axes, an operand of size 1 along a batch axis read at index 0 there (numpy's
broadcasting). Each result is written into the node's buffer, in the packed layouts that
the primitives declare; the results of a call live in locals ``la<node>_<part>``.
"""


def _shape(lowering, node):
    return lowering.attrs(node)["shape"]


class BatchLoop:
    """Loops over the batch axes of ``node`` (all but its last ``core`` axes), and the index
    of each operand's matrices inside them."""

    def __init__(self, lowering, node, core=2):
        self.lowering = lowering
        self.batch = _shape(lowering, node)[:len(_shape(lowering, node)) - core]

    def __enter__(self):
        for axis, extent in enumerate(self.batch):
            self.lowering.out.open(f"for b{axis} in range({extent}):")
        return self

    def __exit__(self, *exc):
        for _ in self.batch:
            self.lowering.out.close()

    def out(self, name, *core):
        return self._at(name, [f"b{axis}" for axis in range(len(self.batch))] + list(core))

    def operand(self, lowering, operand, core=2):
        """The expression of ``operand``'s matrix at the current batch index."""
        shape = _shape(lowering, operand)
        own = shape[:len(shape) - core]
        offset = len(self.batch) - len(own)
        index = ["0" if d == 1 and self.batch[offset + j] != 1 else f"b{offset + j}"
                 for j, d in enumerate(own)]
        return self._at(lowering.contiguous(operand), index)

    @staticmethod
    def _at(name, index):
        return f"{name}[{', '.join(index)}]" if index else name


def _one_result(call):
    """A lowering writing ``np.linalg.<call>`` of each matrix into the node's buffer."""
    def lower(lowering, node):
        operands = lowering.graph.operands(node)
        name = lowering.allocate(node)
        params = lowering.attrs(node)["params"]
        with BatchLoop(lowering, node) as loop:
            arguments = ", ".join(loop.operand(lowering, o) for o in operands)
            extra = "".join(f", {params[p]!r}" for p in ("rcond",) if p in params)
            lowering.out.line(f"{loop.out(name, ':', ':')} = np.linalg.{call}({arguments}{extra})")
    return lower


def lower_slogdet(lowering, node):
    (operand,) = lowering.graph.operands(node)
    name = lowering.allocate(node)
    with BatchLoop(lowering, node, core=1) as loop:
        lowering.out.line(f"la{node}_sign, la{node}_logabs = "
                          f"np.linalg.slogdet({loop.operand(lowering, operand)})")
        lowering.out.line(f"{loop.out(name, '0')} = la{node}_sign")
        lowering.out.line(f"{loop.out(name, '1')} = la{node}_logabs")


def lower_eigh(lowering, node):
    (operand,) = lowering.graph.operands(node)
    name = lowering.allocate(node)
    with BatchLoop(lowering, node) as loop:
        lowering.out.line(f"la{node}_w, la{node}_v = np.linalg.eigh({loop.operand(lowering, operand)})")
        lowering.out.line(f"{loop.out(name, '0', ':')} = la{node}_w")
        lowering.out.line(f"{loop.out(name, '1:', ':')} = la{node}_v")


def lower_svd(lowering, node):
    """u, s and v = vh^T as rows of one buffer; with full matrices the narrower of u and v
    leaves columns that stay zero."""
    (operand,) = lowering.graph.operands(node)
    m, n = _shape(lowering, operand)[-2:]
    full = lowering.attrs(node)["params"]["full_matrices"]
    name = lowering.allocate(node)
    if full:
        lowering.out.line(f"{name}[...] = 0")
    with BatchLoop(lowering, node) as loop:
        lowering.out.line(f"la{node}_u, la{node}_s, la{node}_vh = np.linalg.svd("
                          f"{loop.operand(lowering, operand)}, {full})")
        lowering.out.line(f"{loop.out(name, f':{m}', f':la{node}_u.shape[1]')} = la{node}_u")
        lowering.out.line(f"{loop.out(name, str(m), f':la{node}_s.shape[0]')} = la{node}_s")
        lowering.out.line(f"{loop.out(name, f'{m + 1}:', f':la{node}_vh.shape[0]')} = la{node}_vh.T")


LOWERINGS = {
    "solve": _one_result("solve"),
    "cholesky": _one_result("cholesky"),
    "pinv": _one_result("pinv"),
    "slogdet": lower_slogdet,
    "eigh": lower_eigh,
    "svd": lower_svd,
}
