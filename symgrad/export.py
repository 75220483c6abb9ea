"""``export_source``: write a compiled function as a standalone module (numpy + numba only).

>>> import numpy as np, os, tempfile, symgrad as sg
>>> path = os.path.join(tempfile.mkdtemp(), "square_sum.py")
>>> sg.export_source(lambda x: np.sum(x * x), np.ones(3), path=path, name="square_sum") == path
True
>>> "import symgrad" in open(path).read()
False
"""
from collections.abc import Callable
from typing import Any
import ast
import base64
import io
import keyword
import os

import numpy as np

import symgrad.core.pytree as pytree
from symgrad.core.listing import type_of
from symgrad.viz.files import check_writable, write
from symgrad.viz.target import ExportError

HELPERS = '''

def _array(text):
    return np.load(io.BytesIO(base64.b64decode(text)), allow_pickle=False)


def _flatten(tree, leaves):
    """Array leaves of nested tuples, lists and dicts (sorted keys), as symgrad flattens."""
    if type(tree) in (tuple, list):
        for child in tree:
            _flatten(child, leaves)
    elif type(tree) is dict:
        for key in sorted(tree):
            _flatten(tree[key], leaves)
    elif isinstance(tree, (np.ndarray, np.generic, bool, int, float)):
        leaves.append(tree)
    return leaves
'''

RUNTIME = '''

def run_flat(*inputs):
    """The compiled function on its flat array inputs; returns a tuple of arrays."""
    if len(inputs) != len(INPUT_TYPES):
        raise TypeError(f"expected {len(INPUT_TYPES)} array inputs, got {len(inputs)}")
    arguments = []
    for i, (value, (shape, dtype)) in enumerate(zip(inputs, INPUT_TYPES)):
        if np.shape(value) != shape:
            raise ValueError(f"input {i} has shape {np.shape(value)}; this module was "
                             f"compiled for shape {shape}")
        arguments.append(np.asarray(value, dtype)[()] if shape == () else
                         np.ascontiguousarray(value, dtype))
    workspaces = [np.empty(elements, dtype) for dtype, elements in WORKSPACE_SIZES]
    results = run(*arguments, *CONSTANTS, *workspaces)
    return tuple(np.asarray(r, dtype) if shape == () else r
                 for r, (shape, dtype) in zip(results, OUTPUT_TYPES))


def FUNCTION_NAME(*args):
    """Like the exported function called with arguments of the shapes it was traced for."""
    out = run_flat(*_flatten(args, []))
    return OUTPUT_TREE


if __name__ == "__main__":
    rng = np.random.default_rng(0)
    example = [rng.standard_normal(shape).astype(dtype) if np.dtype(dtype).kind == "f"
               else np.ones(shape, dtype) for shape, dtype in INPUT_TYPES]
    for i, value in enumerate(run_flat(*example)):
        print(f"output {i}: {value.dtype}{list(value.shape)} sum={float(np.sum(value)):.6g}")
'''


def encoded_array(value):
    """A constant as base64 ``.npy`` bytes: exact for every dtype and shape."""
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(value), allow_pickle=False)
    text = base64.b64encode(buffer.getvalue()).decode()
    lines = [text[i:i + 88] for i in range(0, len(text), 88)] or [""]
    return "_array(\n        " + "\n        ".join(f'"{line}"' for line in lines) + ")"


def tree_expression(treedef, counter=None):
    """Python source rebuilding ``treedef`` from ``out[0]``, ``out[1]``, ..."""
    counter = counter if counter is not None else iter(range(treedef.num_leaves))
    if treedef.kind is None:
        return f"out[{next(counter)}]"
    if treedef.kind is type(None):
        return "None"
    if treedef.kind is pytree.Static:
        return static_literal(treedef.keys[0])
    children = [tree_expression(child, counter) for child in treedef.children]
    if treedef.kind is dict:
        return "{" + ", ".join(f"{k!r}: {c}" for k, c in zip(treedef.keys, children)) + "}"
    if treedef.kind is list:
        return "[" + ", ".join(children) + "]"
    return "(" + "".join(c + ", " for c in children) + ")"


def static_literal(value):
    """Source for a static output (a string in an aux pytree): its repr, when that reads
    back as the same value."""
    text = repr(value)
    try:
        same = ast.literal_eval(text) == value
    except (ValueError, SyntaxError):
        same = False
    if not same:
        raise ExportError(f"export_source cannot write the output {text} (a "
                          f"{type(value).__name__}, returned as it is, not computed) as source; "
                          "return strings, numbers or arrays")
    return text


def types_literal(types):
    return "(" + "".join(f"({tuple(shape)!r}, {np.dtype(dtype).name!r}), "
                         for shape, dtype in types) + ")"


# Names the module defines itself; a function called so gets a suffix.
RESERVED = frozenset({"run", "run_flat", "np", "numba", "base64", "io", "CONSTANTS",
                      "INPUT_TYPES", "OUTPUT_TYPES", "WORKSPACE_SIZES"})


def module_function_name(name):
    if not name.isidentifier() or keyword.iskeyword(name):
        return "compute"
    return f"{name}_fn" if name in RESERVED or name.startswith("_") else name


def staged(fn):
    """``fn`` as a symgrad transformation: ``sg.grad(f)`` stays itself, a plain f is jitted."""
    from symgrad.api import jit
    from symgrad.staging import Transformed
    transformed = fn if isinstance(fn, Transformed) else jit(fn)
    if transformed.backend != "numba":
        raise ExportError(f"export_source compiles with the numba backend; {fn!r} uses "
                          f"backend={transformed.backend!r}")
    return transformed


def module_text(compiled, name):
    graph = compiled.graph
    signature = " ".join(f"{graph[n].get('name', 'in')}:{type_of(graph[n])}" for n in graph.inputs)
    out_tree = getattr(graph, "out_tree", pytree.LEAF)
    header = (f'"""{name}: generated by symgrad.export_source from the graph {graph.name!r}.\n\n'
              f"Needs only numpy and numba. Inputs: {signature or '(none)'}.\n"
              f"Call {name}(...) with arguments of those shapes (or run_flat(*arrays)); run\n"
              'this file for a smoke test on random inputs.\n"""\n'
              "import base64\nimport io\n\n")
    constants = "".join(f"    {encoded_array(c)},\n" for c in compiled.constants)
    tables = (f"INPUT_TYPES = {types_literal(compiled.input_types)}\n"
              f"OUTPUT_TYPES = {types_literal(compiled.output_types)}\n"
              f"WORKSPACE_SIZES = {[(d.name, n) for d, n in compiled.workspace_sizes]!r}\n")
    runtime = RUNTIME.replace("FUNCTION_NAME", name).replace("OUTPUT_TREE",
                                                             tree_expression(out_tree))
    return (header + compiled.source + HELPERS + "\n\nCONSTANTS = (\n" + constants + ")\n"
            + tables + runtime)


def export_source(fn: Callable, *args: Any, path: str | os.PathLike, name: str | None = None) -> str:
    """Write ``fn`` compiled for ``args`` as a standalone module at ``path``; returns ``path``.

    ``fn`` is a plain function (compiled as ``sg.jit(fn)``) or a transformation such as
    ``sg.grad(loss, argnums=(0, 1))``. The module holds the generated Numba source, the array
    constants (base64 ``.npy`` bytes) and a function ``name`` (default: ``fn``'s name) taking
    the same arguments and returning the same structure as ``fn(*args)`` — with no symgrad
    import. A path not ending in ``.py``, a missing folder or an unwritable path raise
    :class:`symgrad.viz.ExportError`.
    """
    path = os.fspath(path)
    if not path.endswith(".py"):
        raise ExportError(f"cannot export source to {path!r}: the file must end in .py "
                          "(graph pictures and data: sg.viz.export)")
    check_writable(path)
    name = module_function_name(name or getattr(getattr(fn, "fn", fn), "__name__", ""))
    compiled = staged(fn).compiled(*args)
    write(path, module_text(compiled, name))
    return path
