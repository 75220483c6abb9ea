"""A failure of symgrad's own code generation, reported as one clear error.

The generated source must never reach the user as Python's ``SyntaxError`` or numba's
``TypingError`` about code they did not write. Each line the CPU generator writes records
the node whose lowering wrote it (``SourceWriter.origins``), so a failure is reported as
"internal error in symgrad codegen for op X with shapes ...", with the line, the optimized
graph's listing and the original exception as ``__cause__``.
"""
import contextlib
import os
import re

from symgrad.core.source_info import describe_location


class CodegenError(RuntimeError):
    """symgrad generated code that Python or numba rejects: a bug in symgrad, not in the
    traced function."""


class MissingLoweringError(CodegenError, NotImplementedError):
    """A wing has no lowering for an op of the graph: on the CPU a bug in symgrad (every op
    of the registry has one there), on CUDA an op not on CUDA yet."""


def lowering_in(table, wing, graph, plan, node, advice):
    """The emitter of ``node``'s op in a wing's lowering ``table`` (op name -> emitter), or a
    MissingLoweringError naming the op, its shapes and the graph, then ``advice`` and the
    user's line that made the node."""
    emitter = table.get(graph.op(node))
    if emitter is None:
        raise MissingLoweringError(
            f"the {wing} backend cannot compile {_node_text(graph, plan, node)} of graph "
            f"{graph.name!r}: it has no lowering for op {graph.op(node)!r}; {advice}"
            + describe_location(graph[node].get("source")))
    return emitter


def _type(attrs):
    return f"{attrs['dtype']}{list(attrs['shape'])}"


def _node_text(graph, plan, node):
    """``op 'matmul' with shapes float64[2, 3, 4], float64[4, 5] -> float64[2, 3, 5] (node
    %5)``, naming the members of the loop nest ``node`` computes, if any."""
    operands = ", ".join(_type(graph[o]) for o in graph.operands(node)) or "()"
    text = f"op {graph.op(node)!r} with shapes {operands} -> {_type(graph[node])} (node %{node}"
    nest = plan.nest_of.get(node) if plan is not None else None
    if nest is not None and len(nest.members) + (nest.reduction is not None) > 1:
        members = nest.members + ([nest.reduction] if nest.reduction is not None else [])
        text += ", a fused loop nest of " + ", ".join(f"%{m} {graph.op(m)}" for m in members)
    return text + ")"


def _summary(error, most=8):
    """``error``'s type and the first ``most`` non-blank lines of its message."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return "\n    ".join([f"{type(error).__name__}: {lines[0] if lines else ''}"] + lines[1:most])


def codegen_error(graph, plan, error, node=None, line=None):
    """The CodegenError for ``error``, raised while generating or compiling code for
    ``graph``: ``node`` is the node whose code failed (None: not known), ``line`` the
    generated line (its text) that failed."""
    where = _node_text(graph, plan, node) if node is not None else f"graph {graph.name!r}"
    message = f"internal error in symgrad codegen for {where}, please report: {_summary(error)}"
    if line is not None:
        message += f"\n  generated line: {line.strip()}"
    message += f"\nthe optimized graph {graph.name!r}:\n{graph.listing()}"
    return CodegenError(message)


@contextlib.contextmanager
def lowering_of(graph, plan, node):
    """Any failure in the lowering of ``node`` (a missing lowering, a bug in one) as a
    CodegenError naming it."""
    try:
        yield
    except CodegenError:
        raise
    except Exception as error:
        raise codegen_error(graph, plan, error, node) from error


_NUMBA_LOCATION = re.compile(r'File "([^"]+)", line (\d+)')


def failing_lines(error, filename):
    """Line numbers of the generated module ``filename`` that ``error`` points at: a
    SyntaxError's line, or the locations numba's message lists in that file."""
    if isinstance(error, SyntaxError):
        return [error.lineno] if error.lineno else []
    name = os.path.basename(filename)
    return [int(line) for path, line in _NUMBA_LOCATION.findall(str(error))
            if os.path.basename(path) == name]


def generated_code_error(generated, graph, plan, error, filename):
    """The CodegenError for ``error`` in the module ``generated`` (a GeneratedModule)
    loaded from ``filename``: attributed to the node that wrote the first failing line
    found."""
    lines = generated.source.splitlines()
    located = failing_lines(error, filename)
    for number in located:
        node = generated.node_at_line.get(number)
        if node is not None:
            return codegen_error(graph, plan, error, node, lines[number - 1])
    text = lines[located[0] - 1] if located and 0 < located[0] <= len(lines) else None
    return codegen_error(graph, plan, error, None, text)
