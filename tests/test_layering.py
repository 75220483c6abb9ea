"""The import graph of symgrad's own modules, read with ast (function-local imports included):
no cycles, the core imports nothing above it, and the backend (``symgrad.compiler``, at
compiler/) imports only ``symgrad.core``."""
import ast
import pathlib

import networkx as nx

ROOT = pathlib.Path(__file__).resolve().parents[1]
FOLDERS = {"symgrad": "symgrad", "compiler": "symgrad.compiler"}   # folder -> package name


def project_modules():
    """{dotted module name: path} for every module of the installed package."""
    modules = {}
    for folder, package in FOLDERS.items():
        for path in (ROOT / folder).rglob("*.py"):
            parts = list(path.relative_to(ROOT / folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join([package, *parts])] = path
    return modules


def imported_names(module, path):
    """Dotted names ``module`` imports, relative imports resolved."""
    is_package = path.name == "__init__.py"
    package = module.split(".") if is_package else module.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            base = ".".join(base + ([node.module] if node.module else []))
            # `from package import module` imports that module; any other name, the base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def import_graph():
    """Edges from each module to the project modules it imports."""
    modules = project_modules()
    graph = nx.DiGraph()
    graph.add_nodes_from(modules)
    for module, path in modules.items():
        for name in imported_names(module, path):
            while name and name not in modules:   # a name inside a module: that module
                name = name.rpartition(".")[0]
            if name and name != module:
                graph.add_edge(module, name)
    return graph


def test_the_import_graph_has_no_cycles():
    cycles = [sorted(c) for c in nx.strongly_connected_components(import_graph()) if len(c) > 1]
    assert cycles == []


def test_the_backend_imports_only_the_core():
    wrong = sorted((module, target) for module, target in import_graph().edges
                   if module.startswith("symgrad.compiler")
                   and not target.startswith(("symgrad.compiler", "symgrad.core")))
    assert wrong == []


def test_the_core_imports_nothing_above_it():
    wrong = sorted((module, target) for module, target in import_graph().edges
                   if module.startswith("symgrad.core") and not target.startswith("symgrad.core"))
    assert wrong == []


def test_inside_the_package_no_module_imports_its_face():
    assert sorted(module for module, target in import_graph().edges if target == "symgrad") == []
