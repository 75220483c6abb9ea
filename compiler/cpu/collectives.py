"""The CPU lowering of ``all_reduce_mean`` (symgrad.core.ops.collective): a call into
numba-mpi when this process is one rank of a job of several
(symgrad.compiler.cpu.runtime.collectives), else a copy (the mean over one rank), so
single-process code needs no MPI at all."""
from ..codegen.source import copy_lines
from symgrad.core.ops.collective import world_size

RUNTIME = "collectives"


def lower_all_reduce_mean(lowering, node):
    (operand,) = lowering.graph.operands(node)
    x, shape = lowering.var(operand), lowering.attrs(node)["shape"]
    ranks = world_size()
    if ranks > 1:
        _check_numba_mpi()
        lowering.runtime.add(RUNTIME)
    if x.kind == "scalar":
        name = lowering.define(node, "scalar")
        call = f"collective_scalar_mean({x.name})" if ranks > 1 else x.name
        lowering.out.line(f"{name} = {call}")
        return
    name = lowering.allocate(node)
    if ranks == 1:
        if name != x.name:
            copy_lines(lowering.out, name, x.name, shape)
        return
    send = lowering.contiguous(operand)
    send = f"{send}.copy()" if send == name else send    # MPI refuses one buffer for both
    lowering.out.line(f"collective_all_reduce_mean({send}, {name})")


def _check_numba_mpi():
    try:
        import numba_mpi  # noqa: F401
    except ImportError:
        raise ImportError("compiled code averaging across MPI ranks needs numba-mpi: "
                          "pip install 'symgrad[mpi]'") from None


def uses_collectives(lowering):
    """Whether the lowered code calls MPI (numba cannot cache it on disk)."""
    return RUNTIME in lowering.runtime
