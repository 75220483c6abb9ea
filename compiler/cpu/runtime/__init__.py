"""Functions the generated code calls that numba does not offer. A generated module that
uses one gets that module's source pasted in (``runtime_source``), so generated modules stay
standalone: numpy and numba only."""
import ast
import functools
from pathlib import Path

# runtime modules whose functions op scalar templates call (special_erf...), by name
TEMPLATE_RUNTIMES = ("special",)


def runtime_source(module_name):
    """The source of ``compiler/cpu/runtime/<module_name>.py`` after its docstring."""
    text = Path(__file__).with_name(f"{module_name}.py").read_text()
    body = ast.parse(text).body
    start = body[0].end_lineno if ast.get_docstring(ast.Module(body, [])) else 0
    code = "\n".join(text.splitlines()[start:]).strip("\n")
    return f"# -- from symgrad's compiler/cpu/runtime/{module_name}.py\n{code}\n\n\n"


@functools.cache
def _template_functions():
    """{function name: runtime module} of the functions scalar templates may call."""
    functions = {}
    for module_name in TEMPLATE_RUNTIMES:
        body = ast.parse(Path(__file__).with_name(f"{module_name}.py").read_text()).body
        functions.update((node.name, module_name) for node in body
                         if isinstance(node, ast.FunctionDef))
    return functions


def runtime_modules_called(expression):
    """The runtime modules whose functions the generated ``expression`` calls."""
    return {module_name for name, module_name in _template_functions().items()
            if f"{name}(" in expression}
