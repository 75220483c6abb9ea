"""Functions the generated code calls that numba does not offer. A generated module that
uses one gets that module's source pasted in (``runtime_source``), so generated modules stay
standalone: numpy and numba only."""
import ast
from pathlib import Path


def runtime_source(module_name):
    """The source of ``compiler/cpu/runtime/<module_name>.py`` after its docstring."""
    text = Path(__file__).with_name(f"{module_name}.py").read_text()
    body = ast.parse(text).body
    start = body[0].end_lineno if ast.get_docstring(ast.Module(body, [])) else 0
    code = "\n".join(text.splitlines()[start:]).strip("\n")
    return f"# -- from symgrad's compiler/cpu/runtime/{module_name}.py\n{code}\n\n\n"
