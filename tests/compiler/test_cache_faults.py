"""Fault injection for the disk cache (compiler/disk_cache/store.py, files.py,
compiler/disk_cache/cached_function.py, compiler/lazy_import.py): each kind of file of an entry damaged
in several ways, copied and moved folders, read-only folders, stopped and dead lock
holders, Ctrl-C while the compiler is imported and while numba compiles.

One cold process fills a folder with one small entry per damage (the gradient of
``sum(x * x) + ... + sum(x * x)``, k terms, for k = 1, 2, ...: a new graph each, since
graphs that differ only in a float constant share an entry); every test works on
a copy. Each case checks the gradient, the disk cache hits and numba compiles counted from
the compile log (``symgrad.compile``), and the files on disk; a fresh process is used
wherever a load from disk must be seen."""
import collections
import glob
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys

import numpy as np
import pytest

from symgrad.compiler.disk_cache import store as disk
from symgrad.compiler.disk_cache import files as cache_files

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
X = np.arange(3.0)

# The compile log of a child process, collected per call (the compile log API).
PRELUDE = r"""
import json, logging, sys, warnings
import numpy as np
import symgrad as sg
RECORDS = []
class Collect(logging.Handler):
    def emit(self, record):
        RECORDS.append(record.getMessage())
LOG = logging.getLogger("symgrad.compile")
LOG.addHandler(Collect())
LOG.setLevel(logging.INFO)
LOG.propagate = False
"""

# argv: ``k`` or ``k@folder`` (that folder for this k); prints one JSON line per k.
CHILD = PRELUDE + r"""
import os
for argument in sys.argv[1:]:
    k, _, folder = argument.partition("@")
    k = float(k)
    if folder:
        os.environ["SYMGRAD_CACHE_DIR"] = folder
    del RECORDS[:]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = sg.grad(lambda x: sum(np.sum(x * x) for _ in range(int(k))))(np.arange(3.0))
    print(json.dumps({"k": k, "value": value.tolist(), "log": RECORDS,
                      "warnings": [str(w.message) for w in caught]}))
"""

HIT = re.compile(r"disk cache hit: (symgrad_\w+)")
COMPILE = re.compile(r"compiling (symgrad_\w+) with numba \((.*)\)$")
Outcome = collections.namedtuple("Outcome", "value hits compiles names log warnings")


def child_env(folder, **extra):
    env = dict(os.environ, SYMGRAD_CACHE_DIR=str(folder),
               PYTHONPATH=os.pathsep.join([ROOT] + [p for p in os.environ.get(
                   "PYTHONPATH", "").split(os.pathsep) if p]))
    for name in ("SYMGRAD_CACHE", "NUMBA_CACHE_DIR", "SYMGRAD_LOG_COMPILES",
                 "SYMGRAD_CACHE_LOCK_TIMEOUT"):
        env.pop(name, None)
    env.update(extra)
    return env


def run(folder, ks, prefix=(), **extra):
    """Run CHILD for ``ks`` (floats, or "k@folder"); {k: Outcome}, each gradient checked."""
    done = subprocess.run([*prefix, sys.executable, "-c", CHILD, *map(str, ks)], cwd=ROOT,
                          env=child_env(folder, **extra), capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    outcomes = {}
    for line in done.stdout.splitlines():
        result = json.loads(line)
        log = result["log"]
        hits = [m.group(1) for m in map(HIT.search, log) if m]
        compiles = [m.groups() for m in map(COMPILE.search, log) if m]
        np.testing.assert_allclose(result["value"], 2 * result["k"] * X, rtol=1e-12)
        outcomes[result["k"]] = Outcome(result["value"], len(hits), [why for _, why in compiles],
                                        set(hits) | {name for name, _ in compiles}, log,
                                        result["warnings"])
    assert len(outcomes) == len(ks), done.stdout
    return outcomes


def snapshot(folder):
    """{relative path: (size, mtime, SHA-256)} of every file under ``folder``."""
    found = {}
    for base, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(base, name)
            with open(path, "rb") as file:
                digest = hashlib.sha256(file.read()).hexdigest()
            found[os.path.relpath(path, folder)] = (os.path.getsize(path),
                                                    os.stat(path).st_mtime_ns, digest)
    return found


def entry_file(folder, name, kind):
    """The path of one file of entry ``name``: manifest, source, lock, index or data."""
    if kind in ("index", "data"):
        pattern = os.path.join(folder, "__pycache__", name + (".*.nbi" if kind == "index"
                                                              else ".*.1.nbc"))
        (path,) = glob.glob(pattern)
        return path
    return os.path.join(folder, name + {"manifest": ".json", "source": ".py", "lock": ".lock"}[kind])


# -- ways to damage a file -----------------------------------------------------------------
def truncate(path):
    with open(path, "rb") as file:
        data = file.read()
    with open(path, "wb") as file:
        file.write(data[:len(data) // 2])


def garbage(path):
    with open(path, "wb") as file:
        file.write(b"\x80\xff{not json, not pickle, not UTF-8\xfe" * 8)


def zero_length(path):
    open(path, "wb").close()


def unreadable(path):
    os.chmod(path, 0)


DAMAGE = {"truncated": truncate, "garbage": garbage, "zero-length": zero_length,
          "deleted": os.unlink, "unreadable": unreadable}

# (file kind, damage) -> what the damaged entry's process must log: a hit, or the reason of
# its compile. Lock damage comes with the data file deleted, so that the lock is needed.
EXPECTED = {
    **{("manifest", d): "unreadable manifest" for d in ("truncated", "garbage", "zero-length")},
    ("manifest", "deleted"): ".json is missing",
    ("manifest", "unreadable"): "unreadable manifest (PermissionError)",
    **{("source", d): "hit" for d in DAMAGE},
    **{(kind, d): "corrupted (checksum differs)" for kind in ("index", "data")
       for d in ("truncated", "garbage", "zero-length")},
    ("index", "deleted"): ".nbi is missing",
    ("data", "deleted"): ".nbc is missing",
    ("index", "unreadable"): ".nbi cannot be read (Permission denied)",
    ("data", "unreadable"): ".nbc cannot be read (Permission denied)",
    **{("lock", d): ".nbc is missing" for d in ("garbage", "deleted", "unreadable")},
}
CASES = sorted(EXPECTED)
Filled = collections.namedtuple("Filled", "folder names")


@pytest.fixture(scope="module")
def filled(tmp_path_factory):
    """A folder with one entry per k in 1 .. len(CASES), compiled by one cold process."""
    folder = tmp_path_factory.mktemp("filled")
    ks = [float(k) for k in range(1, len(CASES) + 1)]
    outcomes = run(folder, ks)
    for outcome in outcomes.values():
        assert outcome.hits == 0 and len(outcome.compiles) == 1, outcome.log
    names = {k: outcome.names.pop() for k, outcome in outcomes.items()}
    assert len(set(names.values())) == len(ks)            # one entry per k
    return Filled(folder, names)


def copy_of(filled, destination, **options):
    shutil.copytree(filled.folder, destination, **options)
    return destination


@pytest.fixture(scope="module")
def enforced(tmp_path_factory):
    """The command prefix under which a child's file permissions are enforced: none for a
    user other than root; for root (who may write anything) ``setpriv`` dropping the
    capabilities that bypass permissions. None when neither is possible here."""
    if os.geteuid() != 0:
        return ()
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    prefix = (setpriv, "--bounding-set=-dac_override,-dac_read_search")
    probe = tmp_path_factory.mktemp("probe")
    os.chmod(probe, 0o500)
    done = subprocess.run([*prefix, sys.executable, "-c",
                           f"import os, sys; sys.exit(os.access({str(probe)!r}, os.W_OK))"])
    return prefix if done.returncode == 0 else None


# -- damage to every kind of file ----------------------------------------------------------
def test_every_kind_of_damage_is_detected_and_the_entry_rebuilt(filled, tmp_path, enforced):
    """Permissions are enforced for the damaged process when this system allows it (else
    the "unreadable" cases are left out: root reads anything)."""
    folder = copy_of(filled, tmp_path / "cache")
    cases = [c for c in CASES if enforced is not None or c[1] != "unreadable"]
    ks = {case: k for k, case in zip(sorted(filled.names), CASES) if case in cases}
    for (kind, damage), k in ks.items():
        name = filled.names[k]
        if kind == "lock":                  # (every entry compiled has its lock file)
            os.unlink(entry_file(folder, name, "data"))
        DAMAGE[damage](entry_file(folder, name, kind))
    outcomes = run(folder, list(ks.values()), prefix=enforced or ())
    for case, k in ks.items():
        outcome, expected = outcomes[k], EXPECTED[case]
        assert outcome.names == {filled.names[k]}, (case, outcome.log)
        if expected == "hit":
            assert outcome.hits == 1 and outcome.compiles == [], (case, outcome.log)
            assert case[1] == "deleted" or any("rewrote" in m for m in outcome.log), case
        else:
            assert outcome.hits == 0 and len(outcome.compiles) == 1, (case, outcome.log)
            assert expected in outcome.compiles[0], (case, outcome.compiles)
    again = run(folder, list(ks.values()))               # every entry was rebuilt whole
    assert all(o.hits == 1 and o.compiles == [] for o in again.values()), again
    assert not [f for f in snapshot(folder) if ".tmp" in f or f.endswith(".part")]


# -- copies and moves ----------------------------------------------------------------------
def test_copied_and_moved_folders_load_and_clear_touches_only_the_folder_given(filled, tmp_path):
    """The copy is made as ``cp -r`` makes it (no times kept), and its manifests name the
    original's numba folder, as manifests of symgrad <= 0.1 did: clearing it must not
    follow them."""
    copied = copy_of(filled, tmp_path / "copied", copy_function=shutil.copy)
    for name in filled.names.values():
        path = entry_file(copied, name, "manifest")
        with open(path) as file:
            manifest = json.load(file)
        manifest["numba_folder"] = os.path.join(str(filled.folder), "__pycache__")
        with open(path, "w") as file:
            json.dump(manifest, file)
    moved = tmp_path / "moved"
    os.rename(copy_of(filled, tmp_path / "before_move"), moved)
    original = snapshot(filled.folder)
    ks = sorted(filled.names)
    outcomes = run(copied, [f"{k}@{copied}" for k in ks[:3]] + [f"{k}@{moved}" for k in ks[3:6]])
    assert all(o.hits == 1 and o.compiles == [] for o in outcomes.values()), outcomes
    cleared = subprocess.run([sys.executable, "-m", "symgrad", "cache", "clear"], cwd=ROOT,
                             env=child_env(copied), capture_output=True, text=True, check=True)
    assert f"removed {len(ks)} entries from {copied}" in cleared.stdout
    assert snapshot(copied) == {}
    assert snapshot(filled.folder) == original


def test_clear_with_numba_cache_dir_removes_only_the_folders_own_machine_code(tmp_path,
                                                                              monkeypatch):
    """With $NUMBA_CACHE_DIR numba keeps machine code outside the cache folder, in a
    subfolder derived from the folder's path: a copy's clear leaves the original's alone."""
    from numba.core import caching, config
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "numba"))
    monkeypatch.setattr(config, "CACHE_DIR", str(tmp_path / "numba"))
    name = "symgrad_000000000000_00000000000000000000"

    def make_entry(folder):
        os.makedirs(folder)
        for ext in (".py", ".json"):
            (folder / (name + ext)).write_text("{}")
        numba_folder = os.path.join(config.CACHE_DIR, caching.UserProvidedCacheLocator
                                    .get_suitable_cache_subpath(str(folder / (name + ".py"))))
        os.makedirs(numba_folder)
        machine_code = os.path.join(numba_folder, name + ".run-6.py311.1.nbc")
        with open(machine_code, "wb") as file:
            file.write(b"machine code")
        return machine_code
    original_code = make_entry(tmp_path / "original")
    copy_code = make_entry(tmp_path / "copy")
    assert disk.info(str(tmp_path / "copy"))["bytes"] == 2 + 2 + len(b"machine code")
    assert disk.clear(str(tmp_path / "copy")) == 1
    assert not os.path.exists(copy_code) and os.path.exists(original_code)
    assert disk.clear(str(tmp_path / "original")) == 1 and not os.path.exists(original_code)


# -- read-only folders ---------------------------------------------------------------------
def test_a_read_only_folder_is_loaded_and_nothing_is_written_anywhere(filled, tmp_path, enforced):
    """Run with the permissions enforced (see ``enforced``), so any write would fail and
    show as an error or a changed file; numba's user-wide cache folder (``$HOME/.cache``)
    is a fresh folder that must stay empty."""
    if enforced is None:
        pytest.skip("needs a process whose file permissions are enforced: not root, or setpriv")
    folder = copy_of(filled, tmp_path / "cache")
    ks = sorted(filled.names)
    damaged = ks[2]
    truncate(entry_file(folder, filled.names[damaged], "data"))
    new = 40.0                                           # a graph without an entry
    subprocess.run(["chmod", "-R", "a-w", str(folder)], check=True)
    home = tmp_path / "home"
    home.mkdir()
    before = snapshot(folder)
    try:
        outcomes = run(folder, [ks[0], ks[1], damaged, new], prefix=enforced,
                       HOME=str(home), XDG_CACHE_HOME=str(home / ".cache"))
        cleared = subprocess.run([*enforced, sys.executable, "-m", "symgrad", "cache", "clear",
                                  "--folder", str(folder)], cwd=ROOT, env=child_env(folder),
                                 capture_output=True, text=True)
    finally:
        subprocess.run(["chmod", "-R", "u+w", str(folder)], check=True)
    assert [outcomes[k].hits for k in (ks[0], ks[1], damaged, new)] == [1, 1, 0, 0]
    assert [len(outcomes[k].compiles) for k in (ks[0], ks[1], damaged, new)] == [0, 0, 1, 1]
    assert "corrupted (checksum differs)" in outcomes[damaged].compiles[0]
    assert "is read-only, so nothing is saved" in outcomes[damaged].compiles[0]
    assert "is read-only and has no entry for this graph" in outcomes[new].compiles[0]
    assert cleared.returncode == 1 and "Permission denied" in cleared.stderr
    assert f"could not remove {len(before)} file(s) of the disk cache in {folder}" in cleared.stderr
    assert snapshot(folder) == before
    assert os.listdir(home) == []


# -- locks ---------------------------------------------------------------------------------
# Takes the lock files given in argv with compiler/disk_cache/files.py, says so and waits;
# the test stops it (SIGSTOP) and later kills it.
HOLDER = r"""
import sys, time, contextlib
import symgrad.compiler.disk_cache.files as cache_files
with contextlib.ExitStack() as stack:
    for path in sys.argv[2:]:
        stack.enter_context(cache_files.file_lock(path, 10))
    print("locked", flush=True)
    time.sleep(600)
"""


def test_a_stopped_lock_holder_delays_only_misses_and_a_dead_ones_lock_is_taken_over(
        filled, tmp_path):
    folder = copy_of(filled, tmp_path / "cache")
    intact, missing = sorted(filled.names)[:2]
    os.unlink(entry_file(folder, filled.names[missing], "data"))
    locks = [entry_file(folder, filled.names[k], "lock") for k in (intact, missing)]
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, cache_files.__file__, *locks],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        os.kill(holder.pid, signal.SIGSTOP)
        before = snapshot(folder)
        outcomes = run(folder, [intact, missing], SYMGRAD_CACHE_LOCK_TIMEOUT="0.5")
        assert outcomes[intact].hits == 1 and outcomes[intact].warnings == []
        (warning,) = outcomes[missing].warnings
        assert f"locked by process {holder.pid} on {socket.gethostname()} (holding it for" in warning
        assert filled.names[missing] in warning and "waiting 0.5 s" in warning
        assert outcomes[missing].hits == 0 and len(outcomes[missing].compiles) == 1
        assert f"the entry is locked by process {holder.pid}" in outcomes[missing].compiles[0]
        assert snapshot(folder) == before                   # compiled in memory: nothing saved
    finally:
        holder.kill()
        holder.wait()
    with open(locks[1]) as file:
        assert file.read().split()[0] == str(holder.pid)     # the dead holder's record stays
    outcomes = run(folder, [missing], SYMGRAD_CACHE_LOCK_TIMEOUT="0.5")
    assert outcomes[missing].warnings == [] and outcomes[missing].hits == 0
    assert ".nbc is missing" in outcomes[missing].compiles[0]
    with open(entry_file(folder, filled.names[missing], "manifest")) as file:
        assert any(f.endswith(".nbc") for f in json.load(file)["files"])   # saved whole
    assert os.path.getsize(locks[1]) == 0                  # released: no holder recorded


def test_file_lock_waits_then_names_its_holder(tmp_path):
    path = str(tmp_path / "entry.lock")
    with cache_files.file_lock(path, 1):
        pid, host, since = open(path).read().split()
        assert (int(pid), host) == (os.getpid(), socket.gethostname())
        with pytest.raises(cache_files.LockTimeout) as busy:   # a second open file: flock
            with cache_files.file_lock(path, 0.1):           # treats it as another holder
                pass
        assert busy.value.holder[:2] == (os.getpid(), socket.gethostname())
        assert f"held by process {os.getpid()} on {host} (holding it for 0 s)" in str(busy.value)
    assert open(path).read() == ""


def test_a_lock_record_left_by_a_dead_process_is_taken_over_at_once(tmp_path):
    path = tmp_path / "entry.lock"
    path.write_text("4194303 elsewhere 0.0\n")             # no process holds the lock
    with cache_files.file_lock(str(path), 0):
        assert path.read_text().split()[0] == str(os.getpid())


@pytest.mark.parametrize("setting, seconds, warns", [
    (None, cache_files.LOCK_TIMEOUT, False), ("2.5", 2.5, False), ("0", 0.0, False),
    ("soon", cache_files.LOCK_TIMEOUT, True), ("-1", cache_files.LOCK_TIMEOUT, True)])
def test_lock_timeout_setting(monkeypatch, recwarn, setting, seconds, warns):
    if setting is None:
        monkeypatch.delenv("SYMGRAD_CACHE_LOCK_TIMEOUT", raising=False)
    else:
        monkeypatch.setenv("SYMGRAD_CACHE_LOCK_TIMEOUT", setting)
    assert cache_files.lock_timeout() == seconds
    messages = [str(w.message) for w in recwarn]
    assert bool(messages) == warns
    assert not warns or f"SYMGRAD_CACHE_LOCK_TIMEOUT={setting!r} is not a number" in messages[0]


# -- Ctrl-C --------------------------------------------------------------------------------
# Ctrl-C while numba is imported, then while the compiler package is (numba complete), then
# while numba compiles; after each the process must still compile.
CTRL_C = PRELUDE + r"""
import importlib.abc, os, signal
signal.signal(signal.SIGINT, signal.default_int_handler)   # as if started from a terminal
class InterruptOnce(importlib.abc.MetaPathFinder):
    def __init__(self, names):
        self.names = names
    def find_spec(self, name, path=None, target=None):
        if name in self.names:
            self.names.remove(name)
            raise KeyboardInterrupt("importing " + name)
sys.meta_path.insert(0, InterruptOnce(["numba.core.registry", "symgrad.compiler.cpu.training_loop"]))

def attempt(transformed):
    del RECORDS[:]
    try:
        value = transformed()(np.arange(3.0)).tolist()
    except KeyboardInterrupt as interrupt:
        value = f"interrupted {interrupt}"
    return [value, sum(" with numba " in m for m in RECORDS)]

f = lambda x: np.sum(x * x)
outcomes = [attempt(lambda: sg.grad(f)) for _ in range(2)]
from numba.core.dispatcher import Dispatcher
compile_signature = Dispatcher.compile
def interrupted_compile(self, signature):
    Dispatcher.compile = compile_signature
    os.kill(os.getpid(), signal.SIGINT)             # Ctrl-C while numba compiles
    return compile_signature(self, signature)
Dispatcher.compile = interrupted_compile
g = sg.grad(f)
outcomes += [attempt(lambda: g), attempt(lambda: g),
             attempt(lambda: sg.grad(lambda x: np.sum(x * x) * 3))]
print(json.dumps(outcomes))
"""


def test_ctrl_c_while_importing_or_compiling_leaves_the_process_able_to_compile(tmp_path):
    done = subprocess.run([sys.executable, "-c", CTRL_C], cwd=ROOT, env=child_env(tmp_path),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    outcomes = json.loads(done.stdout.splitlines()[-1])
    assert outcomes == [
        ["interrupted importing numba.core.registry", 0],
        ["interrupted importing symgrad.compiler.cpu.training_loop", 0],
        ["interrupted ", 1],            # the interrupt waited for the compile to finish,
        [[0.0, 2.0, 4.0], 0],           # so the next call has nothing left to compile
        [[0.0, 6.0, 12.0], 1]], done.stderr
    assert "symgrad: interrupted; stopping once numba has compiled or loaded" in done.stderr
    manifests = [f for f in os.listdir(tmp_path) if f.endswith(".json")]
    assert len(manifests) == 2
    for manifest in manifests:                             # the interrupted entry too
        with open(tmp_path / manifest) as file:
            assert json.load(file)["files"]                # was saved whole
