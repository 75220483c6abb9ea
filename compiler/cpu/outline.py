"""Loop nests as functions of their own, each distinct one written once per module.

A deep network's step repeats the same elementwise nests layer after layer (``tanh``
forward, ``x * (1 - y * y)`` backward, the update of each weight). Inline, LLVM optimizes and
vectorizes every copy again, and its time grows faster than the function: a step of 32
layers compiled for a minute. Outlined, a nest becomes a function whose arguments are the
outer names it reads (arrays, scalars, extents), renamed in order of first use (``x0``,
``x1``...; its own locals ``t0``, ``t1``...), so that nests differing only in the names of
their values have the same text and share one function, typed and optimized once per
argument types. The function returns the scalars the nest defines (a total).

Outlined functions keep numba's default of never inlining them into the caller in numba's
IR; LLVM keeps them out of line too, as each call carries ``noinline``
(symgrad.compiler.cpu.runtime.outlined)."""
import ast
import builtins
import contextlib
import keyword
import re

from ..codegen.source import SourceWriter

# names of the module's imports: global, never arguments
MODULE_NAMES = {"np", "math", "numba"}
IDENTIFIER = re.compile(r"(?<![.\w])[A-Za-z_]\w*")
LOOP_INDEX = re.compile(r"i\d+$")
OUTLINED_OPTIONS = ('fastmath={"nsz", "contract", "arcp"}, error_model="numpy", '
                    'no_cpython_wrapper=True, no_cfunc_wrapper=True')


class OutlinedNests:
    """The outlined functions of one generated function: canonical text -> name."""

    def __init__(self, prefix):
        self.prefix = prefix
        self.names = {}

    def name_for(self, lowering, text):
        """The function of canonical ``text`` (``def {name}(...)``), defined at first use."""
        if text not in self.names:
            self.names[text] = f"{self.prefix}_nest{len(self.names)}"
            lowering.helpers.append(f"@numba.njit({OUTLINED_OPTIONS})\n"
                                    + text.format(name=self.names[text]) + "\n\n")
        return self.names[text]


def _names(text):
    """(stored, called) names of the Python statements ``text``."""
    stored, called = set(), set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            stored.add(node.id)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            called.add(node.func.id)
    return stored, called


def canonical_function(text, results):
    """``(function text with a {name} placeholder, arguments)`` of the statements ``text``
    returning the locals ``results``: free names become arguments ``x0, x1...`` and locals
    ``t0, t1...`` in order of first use (loop indices stay ``i0, i1...``)."""
    stored, called = _names(text)
    globals_ = MODULE_NAMES | called | set(dir(builtins))
    renamed, arguments, locals_ = {}, [], 0
    for match in IDENTIFIER.finditer(text):
        name = match.group()
        if name in renamed or name in globals_ or keyword.iskeyword(name):
            continue
        if LOOP_INDEX.match(name):
            renamed[name] = name
        elif name in stored:
            renamed[name], locals_ = f"t{locals_}", locals_ + 1
        else:
            renamed[name] = f"x{len(arguments)}"
            arguments.append(name)
    body = IDENTIFIER.sub(lambda m: renamed.get(m.group(), m.group()), text)
    lines = ["    " + line for line in body.splitlines()]
    if results:
        lines.append(f"    return {', '.join(renamed[r] for r in results)}")
    header = "def {name}(" + ", ".join(renamed[a] for a in arguments) + "):"
    return "\n".join([header] + lines) + "\n", arguments


@contextlib.contextmanager
def outlined(lowering):
    """Lines written to ``lowering.out`` inside the block become one outlined function,
    called in their place; the scalars they define come back as its results."""
    outer, before = lowering.out, set(lowering.vars)
    body = SourceWriter()
    body.origin = outer.origin
    lowering.out = body
    try:
        yield
    finally:
        lowering.out = outer
    stored, _ = _names(body.text())
    results = [lowering.vars[node].name for node in sorted(set(lowering.vars) - before)
               if lowering.vars[node].kind == "scalar" and lowering.vars[node].name in stored]
    text, arguments = canonical_function(body.text(), results)
    if lowering.outlined is None:
        lowering.outlined = OutlinedNests(lowering.function_name)
    name = lowering.outlined.name_for(lowering, text)
    lowering.runtime.add("outlined")
    call = f"outlined({name}, ({''.join(a + ', ' for a in arguments)}))"
    outer.line(f"{', '.join(results)} = {call}" if results else call)
