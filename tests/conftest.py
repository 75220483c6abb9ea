"""Shared test helpers: the backends to compare, and the reference backend as the oracle.

The reference backend (``backend="reference"``) runs a graph op by op with the numpy
references; every compiled backend must agree with it. Tests that compile with numba are
marked ``numba`` and are skipped only while the ``compiler`` package has not been written
(a namespace directory without ``__init__.py``): once it exists, any failure to import or
compile shows up as a failure, never as a skip.
"""
import importlib
import importlib.util
import os

import numpy as np
import pytest

# Calls wait for compiled code (symgrad.tiers), so that a compiled-vs-reference test tests
# compiled code; tests of the interpreter tier switch it back on (tests/test_tiers.py).
os.environ["SYMGRAD_COMPILE_IN_BACKGROUND"] = "0"

BACKENDS = ["reference", "numba"]
EXAMPLES = __import__("pathlib").Path(__file__).resolve().parent.parent / "examples"


def load_example(name):
    """Import ``examples/<name>.py`` as a module (examples are programs, not a package)."""
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def compiler_missing():
    """Why the numba backend cannot be tested here, or None when it can."""
    try:
        module = importlib.import_module("compiler")
    except ModuleNotFoundError as missing:
        if missing.name == "compiler":
            return "the compiler package is not installed"
        raise
    if getattr(module, "__file__", None) is None:
        return "compiler/ is not written yet (no compiler/__init__.py)"
    return None


def pytest_configure(config):
    config.addinivalue_line("markers", "numba: compiles with the numba backend (compiler/)")


def pytest_collection_modifyitems(config, items):
    reason = compiler_missing()
    for item in items:
        backend = getattr(item, "callspec", None) and item.callspec.params.get("backend")
        if backend == "numba" and "numba" not in item.keywords:
            item.add_marker(pytest.mark.numba)
        if reason and "numba" in item.keywords:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(params=BACKENDS)
def backend(request):
    """Run a test once per backend: ``reference`` (numpy interpreter) and ``numba``."""
    return request.param


def tolerance(dtype):
    """rtol/atol for comparing a compiled result with the reference interpreter."""
    return {"rtol": 1e-5, "atol": 1e-6} if np.dtype(dtype) == np.float32 else \
        {"rtol": 1e-10, "atol": 1e-12}


def assert_same(actual, expected, **tol):
    """Same pytree structure, shapes, dtypes and (close) values."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict) and sorted(actual) == sorted(expected)
        for key in expected:
            assert_same(actual[key], expected[key], **tol)
    elif isinstance(expected, (tuple, list)):
        assert type(actual) is type(expected) and len(actual) == len(expected)
        for a, e in zip(actual, expected):
            assert_same(a, e, **tol)
    else:
        actual, expected = np.asarray(actual), np.asarray(expected)
        assert actual.shape == expected.shape, (actual.shape, expected.shape)
        assert actual.dtype == expected.dtype, (actual.dtype, expected.dtype)
        if expected.dtype.kind in "fc":
            np.testing.assert_allclose(actual, expected, **(tol or tolerance(expected.dtype)))
        else:
            np.testing.assert_array_equal(actual, expected)


def half_gradient_function():
    """An autograd.Function whose forward is the identity and whose backward halves the
    gradient: a result that shows the user's backward is the one that ran."""
    import symgrad as sg

    class HalfGradient(sg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, grad):
            return grad * 0.5
    return HalfGradient


def pytest_addoption(parser):
    parser.addoption("--fuzz-count", type=int, default=30,
                     help="how many random programs tests/test_fuzz.py checks (default 30)")


@pytest.fixture
def compile_in_background(monkeypatch, tmp_path):
    """New graphs answer from the interpreter while they compile (symgrad.tiers; the suite
    turns that off), with a fresh disk cache; yields the list of numba compiles made: in
    this process (the module's name) or by a compile process ("process")."""
    monkeypatch.setenv("SYMGRAD_COMPILE_IN_BACKGROUND", "1")
    monkeypatch.setenv("SYMGRAD_CACHE_DIR", str(tmp_path))
    from symgrad import background_compile
    from symgrad.compiler.disk_cache import cached_function
    compiles = []
    compile_here, compile_in_child = cached_function._compile, background_compile.compile_in_child

    def counted(dispatcher, signature):
        compiles.append(dispatcher.py_func.__module__)
        return compile_here(dispatcher, signature)

    def counted_child(data):
        compiles.append("process")
        return compile_in_child(data)
    monkeypatch.setattr(cached_function, "_compile", counted)
    monkeypatch.setattr(background_compile, "compile_in_child", counted_child)
    return compiles


@pytest.fixture
def interpreted_eager_backward(monkeypatch):
    """Eager backward passes run in the reference interpreter (no numba compile): for tests
    that compare eager models with PyTorch, where one compile per tape shape would dominate."""
    import symgrad.eager.tape
    monkeypatch.setattr(symgrad.eager.tape, "COMPILE_ON_USE", 10 ** 9, raising=False)
