"""The on-disk compile cache (compiler/disk_cache/store.py, compiler/disk_cache/files.py,
compiler/disk_cache/cached_function.py, symgrad/cache.py, symgrad/__main__.py) and
compile logging (symgrad/core/compile_log.py), tested with fresh processes: a cold process fills
the cache, a warm one loads it; concurrent processes, corrupted entries, version changes,
``SYMGRAD_CACHE=0`` and the ``python -m symgrad cache`` command."""
import functools
import json
import logging
import os
import shutil
import subprocess
import sys
import warnings

import numpy as np
import pytest

import symgrad as sg
from symgrad.compiler.disk_cache import store as disk
from symgrad.compiler.disk_cache import files as cache_files

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# A child process: the gradient of a small loss, printed as JSON; options through argv.
CHILD = r"""
import json, sys
import numpy as np
import symgrad as sg
if "--version" in sys.argv:
    import symgrad.core.version
    symgrad.core.version.__version__ = sys.argv[sys.argv.index("--version") + 1]
def loss(w, x):
    return np.sum(np.tanh(x @ w) ** 2 + 0.5 * w[0])
w = np.linspace(-1.0, 1.0, 6).reshape(3, 2)
x = np.arange(12.0).reshape(4, 3) / 10
print(json.dumps(sg.grad(loss)(w, x).tolist()))
"""


@functools.lru_cache(maxsize=None)
def expected_gradient():
    def loss(w, x):
        return np.sum(np.tanh(x @ w) ** 2 + 0.5 * w[0])
    w = np.linspace(-1.0, 1.0, 6).reshape(3, 2)
    x = np.arange(12.0).reshape(4, 3) / 10
    return sg.grad(loss, backend="reference")(w, x)


def child_env(folder, **extra):
    env = dict(os.environ, SYMGRAD_CACHE_DIR=str(folder), SYMGRAD_LOG_COMPILES="1",
               PYTHONPATH=os.pathsep.join([ROOT] + [p for p in os.environ.get(
                   "PYTHONPATH", "").split(os.pathsep) if p]))
    for name in ("SYMGRAD_CACHE", "NUMBA_CACHE_DIR"):
        env.pop(name, None)
    env.update(extra)
    return env


def start(folder, *args, **extra):
    return subprocess.Popen([sys.executable, "-c", CHILD, *args], env=child_env(folder, **extra),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)


def finish(process):
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    np.testing.assert_allclose(json.loads(out.strip().splitlines()[-1]), expected_gradient(),
                               rtol=1e-12)
    return err


def run(folder, *args, **extra):
    """Run the child; check its result against the reference interpreter; return its log."""
    return finish(start(folder, *args, **extra))


def entry_files(folder):
    found = []
    for base, _, names in os.walk(folder):
        found += [os.path.relpath(os.path.join(base, n), folder) for n in names]
    return sorted(found)


@pytest.fixture(scope="module")
def filled(tmp_path_factory):
    """A cache folder filled by one cold process (copied by the tests that damage it)."""
    folder = tmp_path_factory.mktemp("filled")
    log = run(folder)
    assert "compiling grad loss: new function" in log
    assert "disk cache miss: no entry for this graph" in log
    return folder


def copy_of(filled, tmp_path):
    folder = tmp_path / "cache"
    shutil.copytree(filled, folder)
    return folder


# -- the cache across processes ------------------------------------------------------------
def test_a_new_process_loads_what_an_earlier_one_compiled(filled, tmp_path):
    files = entry_files(filled)
    assert sum(f.endswith(".py") for f in files) == 1
    assert sum(f.endswith(".json") for f in files) == 1
    assert any(f.endswith(".nbi") for f in files) and any(f.endswith(".nbc") for f in files)
    folder = copy_of(filled, tmp_path)
    log = run(folder)
    assert "disk cache hit" in log and "with numba" not in log
    assert entry_files(folder) == files               # nothing rewritten, nothing added


def test_entry_name_and_manifest_hold_the_key(filled):
    (manifest_path,) = [f for f in entry_files(filled) if f.endswith(".json")]
    manifest = json.load(open(filled / manifest_path))
    parts = manifest["parts"]
    import numba
    assert parts["symgrad"] == sg.__version__ and parts["numba"] == numba.__version__
    # ranks, not shapes: the code reads its extents at run time
    assert parts["backend"] == "numba-cpu" and parts["signature"] == [[2, "float64"],
                                                                      [2, "float64"]]
    assert manifest["name"] == disk.entry_name(parts)
    assert manifest["name"].startswith("symgrad_" + parts["graph"][:12] + "_")
    source = open(filled / (manifest["name"] + ".py")).read()
    assert parts["source"] == disk.source_hash(source)
    assert all(len(digest) == 64 for digest in manifest["files"].values())


def test_two_processes_compiling_at_once_both_succeed(tmp_path):
    first, second = start(tmp_path), start(tmp_path)
    logs = [finish(first), finish(second)]
    compiled = sum("with numba" in log for log in logs)
    assert compiled >= 1
    assert "disk cache hit" in run(tmp_path)          # and what they left is sound
    assert not [f for f in entry_files(tmp_path) if ".tmp" in f or f.endswith(".part")]


def _truncate(path):
    data = open(path, "rb").read()
    open(path, "wb").write(data[:len(data) // 2])


def _flip_bytes(path):
    data = bytearray(open(path, "rb").read())
    for i in range(len(data) // 3, len(data) // 3 + 64):
        data[i] ^= 0xFF
    open(path, "wb").write(bytes(data))


def _garbage(path):
    open(path, "w").write("{not json")


DAMAGE = {   # file suffix, damage, the reason the log must give
    "truncated machine code": (".nbc", _truncate, "corrupted (checksum differs)"),
    "flipped bytes in machine code": (".nbc", _flip_bytes, "corrupted (checksum differs)"),
    "truncated numba index": (".nbi", _truncate, "corrupted (checksum differs)"),
    "missing machine code": (".nbc", os.unlink, "is missing"),
    "truncated source": (".py", _truncate, "the cached source file differed"),
    "unreadable manifest": (".json", _garbage, "unreadable manifest"),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_entry_is_detected_and_rebuilt(filled, tmp_path, damage):
    suffix, harm, reason = DAMAGE[damage]
    folder = copy_of(filled, tmp_path)
    (victim,) = [f for f in entry_files(folder) if f.endswith(suffix)]
    harm(folder / victim)
    log = run(folder)                                  # the right gradient, no crash
    assert reason in log, log
    if suffix != ".py":                                # a rewritten source keeps its machine code
        assert "disk cache miss" in log, log
    if damage in ("truncated machine code", "truncated source"):
        assert "disk cache hit" in run(folder)          # and the rebuilt entry is sound


def test_numba_files_that_cannot_be_read_are_recompiled_not_fatal(filled, tmp_path):
    """A manifest that vouches for a broken index (written by hand here) still cannot make
    numba's unpickling error escape: the entry is purged and compiled again."""
    folder = copy_of(filled, tmp_path)
    (index,) = [f for f in entry_files(folder) if f.endswith(".nbi")]
    (manifest_path,) = [f for f in entry_files(folder) if f.endswith(".json")]
    _truncate(folder / index)
    manifest = json.load(open(folder / manifest_path))
    manifest["files"][os.path.basename(index)] = cache_files.file_digest(folder / index)
    json.dump(manifest, open(folder / manifest_path, "w"))
    log = run(folder)
    assert "numba could not load its cache files" in log


def test_a_version_change_makes_a_new_entry_and_the_old_one_stale(filled, tmp_path):
    folder = copy_of(filled, tmp_path)
    log = run(folder, "--version", "0.0.0+test")
    assert f"an entry for it exists with symgrad {sg.__version__} -> 0.0.0+test" in log
    assert sum(f.endswith(".json") for f in entry_files(folder)) == 2
    summary = disk.info(str(folder))
    assert summary["entries"] == 2 and summary["stale"] == 1 and summary["bytes"] > 0
    assert disk.clear(str(folder), stale_only=True) == 1
    assert "disk cache hit" in run(folder)             # the current entry stayed


def test_disabled_cache_compiles_in_memory_and_writes_nothing(tmp_path):
    folder = tmp_path / "unused"
    log = run(folder, SYMGRAD_CACHE="0")
    assert "disk cache disabled" in log
    assert not folder.exists()


def test_cache_command_line_info_and_clear(filled, tmp_path):
    folder = copy_of(filled, tmp_path)
    env = child_env(folder)
    info = subprocess.run([sys.executable, "-m", "symgrad", "cache", "info"], env=env,
                          capture_output=True, text=True, check=True, cwd=ROOT).stdout
    assert str(folder) in info and "entries: 1 (0 stale" in info and "size:" in info
    cleared = subprocess.run([sys.executable, "-m", "symgrad", "cache", "clear"], env=env,
                             capture_output=True, text=True, check=True, cwd=ROOT).stdout
    assert "removed 1 entry" in cleared
    assert entry_files(folder) == []


def test_import_symgrad_imports_neither_numba_nor_scipy():
    code = "import sys, symgrad; print(sorted(m for m in ('numba', 'scipy', 'compiler') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], env=child_env("unused"), capture_output=True,
                         text=True, check=True, cwd=ROOT).stdout
    assert out.strip() == "[]"


def test_blas_is_loaded_without_scipy_linalg_which_still_imports_normally():
    code = ("import sys, numpy, symgrad.compiler.cpu.blas_threads as b; b.settle_blas_threads(); "
            "print('scipy.linalg' in sys.modules); "
            "import scipy.linalg, scipy.linalg.cython_blas as m, scipy.linalg.blas; "
            "print(scipy.linalg.cython_blas is m is sys.modules['scipy.linalg.cython_blas'] and "
            "scipy.linalg._fblas is sys.modules['scipy.linalg._fblas']); "
            "print(scipy.linalg.solve(numpy.eye(2), numpy.ones(2)).tolist())")
    out = subprocess.run([sys.executable, "-c", code], env=child_env("unused"), capture_output=True,
                         text=True, check=True, cwd=ROOT).stdout.split()
    assert out == ["False", "True", "[1.0,", "1.0]"]


# -- in this process ---------------------------------------------------------------------------
def test_info_and_clear_in_process(tmp_path, monkeypatch):
    monkeypatch.setenv("SYMGRAD_CACHE_DIR", str(tmp_path))
    assert sg.cache.folder() == str(tmp_path)
    assert sg.cache.info() == {"folder": str(tmp_path), "enabled": True, "entries": 0,
                               "bytes": 0, "stale": 0}
    # a structure no other test compiles: this process's in-memory code would answer it
    value = sg.jit(lambda a: np.cos(a) * 1.25 + np.arcsinh(a) * np.cbrt(a) + 0.125)(np.zeros(3))
    np.testing.assert_allclose(value, [1.375] * 3)
    summary = sg.cache.info()
    assert summary["entries"] == 1 and summary["bytes"] > 0
    assert "entries: 1" in sg.cache.format_info(summary)
    assert sg.cache.clear() == 1 and sg.cache.info()["entries"] == 0
    assert entry_files(tmp_path) == []


def test_an_unwritable_cache_folder_falls_back_to_memory(tmp_path, monkeypatch):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("SYMGRAD_CACHE_DIR", str(blocker / "cache"))
    value = sg.jit(lambda a: np.sin(a) * 0.75 - 0.0625)(np.zeros(2))
    np.testing.assert_allclose(value, [-0.0625, -0.0625])


def test_writes_are_atomic_and_the_first_exclusive_writer_wins(tmp_path):
    path = str(tmp_path / "f.py")
    assert cache_files.write_atomically(path, "first", exclusive=True)
    assert not cache_files.write_atomically(path, "second", exclusive=True)
    assert open(path).read() == "first"
    cache_files.write_atomically(path, "third")
    assert open(path).read() == "third"
    assert os.listdir(tmp_path) == ["f.py"]             # no temporary files left


def test_compile_log_gives_the_reason_and_the_changed_argument(caplog):
    def scale(x, factor):
        return np.sum(x * factor)
    f = sg.jit(scale, backend="reference")
    with caplog.at_level(logging.INFO, logger="symgrad.compile"):
        f(np.ones(3), np.float32(2))
        f(np.ones(3), np.float32(3))                   # same signature: no compile
        f(np.ones(4), np.float32(2))
        f(np.ones(4), np.float64(2))
    messages = [r.getMessage() for r in caplog.records if r.name == "symgrad.compile"]
    assert messages[0] == "compiling jit scale: new function"
    assert messages[1] == "compiling jit scale: new shapes/dtypes: x float64[3] -> float64[4]"
    assert messages[2] == "compiling jit scale: new shapes/dtypes: factor float32[] -> float64[]"
    assert len(messages) == 3


def test_graphs_that_differ_only_in_array_constants_share_one_numba_compile(caplog, tmp_path,
                                                                           monkeypatch):
    monkeypatch.setenv("SYMGRAD_CACHE_DIR", str(tmp_path))
    rng = np.random.default_rng(4)
    data, w = rng.standard_normal((12, 5)), rng.standard_normal(5)
    scale = float(np.random.default_rng().uniform(1, 2))   # inlined: no earlier run's code fits

    def gradient_on(rows, backend):
        return sg.grad(lambda w: np.sum(np.tanh(data[rows] @ w) ** 2) * scale,
                       backend=backend)(w)
    with caplog.at_level(logging.INFO, logger="symgrad.compile"):
        for batch in range(3):                          # a new constant minibatch each time
            rows = slice(4 * batch, 4 * batch + 4)
            np.testing.assert_allclose(gradient_on(rows, "numba"),
                                       gradient_on(rows, "reference"), rtol=1e-12)
    numba_compiles = [r for r in caplog.records if "with numba" in r.getMessage()]
    assert len(numba_compiles) == 1


def test_a_function_compiled_more_than_eight_times_warns_once_naming_the_argument():
    def total(x, bias):
        return np.sum(x) + bias
    f = sg.jit(total)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for n in range(1, 9):
            f(np.ones(n), 1.0)
        assert not [w for w in caught if "compiled" in str(w.message)]
        for n in range(9, 13):
            f(np.ones(n), 1.0)
    (warning,) = [w for w in caught if "compiled" in str(w.message)]
    text = str(warning.message)
    assert "jit(total) has been compiled 9 times (more than 8)" in text
    assert "x (shape, 8 times)" in text
    assert warning.filename == __file__                # points at the caller's line


def test_the_reference_backend_compiles_nothing_and_never_warns():
    f = sg.jit(lambda x: np.sum(x), backend="reference")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for n in range(1, 12):
            f(np.ones(n))


def test_eager_backward_runs_interpreted_first_and_compiles_on_second_use():
    from symgrad.eager import tape
    x = sg.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    before = set(tape._COMPILED)
    (x.sin() * 1.75).sum().backward()
    (new,) = [tape._COMPILED[k] for k in set(tape._COMPILED) - before]
    assert new.uses == 1 and new.compiled is None
    np.testing.assert_allclose(x.grad.numpy(), 1.75 * np.cos(x.detach().numpy()))
    x.grad = None
    (x.sin() * 1.75).sum().backward()
    assert new.compiled is not None
    np.testing.assert_allclose(x.grad.numpy(), 1.75 * np.cos(x.detach().numpy()))
