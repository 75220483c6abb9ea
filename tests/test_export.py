"""symgrad.export_source: a compiled function as a standalone module (numpy and numba only).

The exported modules run in a fresh Python process in which ``import symgrad`` fails, and
must agree with ``sg.jit`` / ``sg.value_and_grad`` in this one.
"""
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import symgrad as sg

RUNNER = """
import importlib.util, json, sys
import numpy as np
sys.modules["symgrad"] = None          # any `import symgrad` in the module now fails
results = {}
for name, path in json.loads(sys.argv[1]).items():
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    inputs = np.load(path[:-3] + "_inputs.npz")
    args = [inputs[f"arg{i}"] for i in range(len(inputs.files))]
    out = getattr(module, name)(*args)
    flat = []
    def walk(tree):
        if isinstance(tree, dict):
            for key in sorted(tree):
                walk(tree[key])
        elif isinstance(tree, (tuple, list)):
            for child in tree:
                walk(child)
        else:
            flat.append(tree)
    walk(out)
    np.savez(path[:-3] + "_outputs.npz", *flat)
    results[name] = type(out).__name__
print(json.dumps(results))
"""


def mlp_loss(w1, w2, x, y):
    h = np.maximum(x @ w1, 0)
    return np.sum((h @ w2 - y) ** 2)


def scaled(x):
    """Captures an array: it becomes an array constant embedded in the module."""
    return {"scaled": x * np.array([1.0, -2.0, 0.5]), "total": np.sum(np.exp(x))}


def flatten(tree):
    if isinstance(tree, dict):
        return [leaf for key in sorted(tree) for leaf in flatten(tree[key])]
    if isinstance(tree, (tuple, list)):
        return [leaf for child in tree for leaf in flatten(child)]
    return [tree]


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """Two exported modules, run once in a subprocess: {name: (expected, actual, type)}."""
    folder = tmp_path_factory.mktemp("exported")
    rng = np.random.default_rng(1)
    mlp_args = [rng.standard_normal(s).astype(np.float32) for s in ((5, 4), (4, 3), (6, 5), (6, 3))]
    cases = {
        "mlp_value_and_grad": (sg.value_and_grad(mlp_loss, argnums=(0, 1)), mlp_args),
        "scaled": (scaled, [rng.standard_normal(3)]),
    }
    paths = {}
    for name, (fn, args) in cases.items():
        path = str(folder / f"{name}.py")
        assert sg.export_source(fn, *args, path=path, name=name) == path
        np.savez(path[:-3] + "_inputs.npz", **{f"arg{i}": a for i, a in enumerate(args)})
        paths[name] = path
    env = dict(os.environ, NUMBA_CACHE_DIR=str(folder / "numba_cache"))
    done = subprocess.run([sys.executable, "-c", RUNNER, json.dumps(paths)], cwd=folder,
                          capture_output=True, text=True, timeout=240, env=env)
    assert done.returncode == 0, done.stderr
    types = json.loads(done.stdout.strip().splitlines()[-1])
    results = {}
    for name, (fn, args) in cases.items():
        expected = sg.jit(fn)(*args) if name == "scaled" else fn(*args)
        saved = np.load(paths[name][:-3] + "_outputs.npz")
        actual = [saved[f"arr_{i}"] for i in range(len(saved.files))]
        results[name] = (expected, actual, types[name], paths[name])
    return results


def test_exported_value_and_grad_matches_symgrad(exported):
    expected, actual, kind, _ = exported["mlp_value_and_grad"]
    assert kind == "tuple"
    expected = flatten(expected)
    assert len(actual) == len(expected) == 3
    for a, e in zip(actual, expected):
        assert a.shape == e.shape and a.dtype == e.dtype
        np.testing.assert_allclose(a, e, rtol=1e-5, atol=1e-6)


def test_exported_module_embeds_array_constants_and_output_structure(exported):
    expected, actual, kind, path = exported["scaled"]
    assert kind == "dict"
    for a, e in zip(actual, flatten(expected)):
        np.testing.assert_allclose(a, e, rtol=1e-12)
    text = open(path).read()
    assert not re.search(r"^\s*(import|from)\s+(symgrad|compiler)\b", text, re.MULTILINE)
    assert "CONSTANTS = (\n    _array(" in text


def test_exported_module_runs_as_a_script(exported):
    path = exported["scaled"][3]
    env = dict(os.environ, NUMBA_CACHE_DIR=os.path.join(os.path.dirname(path), "numba_cache"))
    done = subprocess.run([sys.executable, path], capture_output=True, text=True, timeout=240,
                          env=env)
    assert done.returncode == 0, done.stderr
    assert "output 0: float64[3]" in done.stdout and "output 1: float64[]" in done.stdout


def test_export_source_rejects_bad_paths(tmp_path):
    with pytest.raises(sg.ExportError, match=r"must end in \.py"):
        sg.export_source(scaled, np.ones(3), path=str(tmp_path / "scaled.txt"))
    with pytest.raises(sg.ExportError, match="does not exist") as error:
        sg.export_source(scaled, np.ones(3), path=str(tmp_path / "no" / "scaled.py"))
    assert "scaled.py" in str(error.value)


def test_exported_function_name_avoids_the_module_own_names(tmp_path):
    def run(x):
        return x + 1.0
    path = sg.export_source(run, np.ones(2), path=tmp_path / "run.py")
    assert "def run_fn(*args):" in open(path).read()
    path = sg.export_source(lambda x: x * 2.0, np.ones(2), path=tmp_path / "anonymous.py")
    assert "def compute(*args):" in open(path).read()
