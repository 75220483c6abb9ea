"""The on-disk cache: generated modules and numba's machine code, kept between processes.

**Entry.** One compiled function is one entry, named ``symgrad_<graph>_<key>``:

- ``<name>.py``: the generated module (numba's ``cache=True`` needs a real file, and numba
  cannot cache functions made by ``exec``);
- numba's own cache files for it, ``<name>.<function>-<line>.pyXY.nbi`` (index) and
  ``….N.nbc`` (machine code), in ``__pycache__`` beside it (or under ``$NUMBA_CACHE_DIR``);
- ``<name>.json``: the manifest, written last: the key's parts and a SHA-256 of each of
  numba's files. An entry without a valid manifest is incomplete and never trusted.

**Key.** ``<graph>`` is the first 12 hex digits of the input graph's structural hash (ops,
params, shapes, dtypes, wiring: so the input signature too; see :func:`graph_hash`) and ``<key>`` the first 20 of
the SHA-256 of the JSON of :func:`key_parts`: cache format, symgrad, numba, numpy and Python
versions, backend and function kind, the graph's structural hash, the input signature
(shape and dtype of every input) and the SHA-256 of the generated source (which changes
whenever the code generator does). Any change gives a new entry; entries of other versions
are never read (``sg.cache.info()`` counts them as stale, ``sg.cache.clear()`` removes
them). numba adds the CPU model and its features to its own index key.

**Folder.** ``$SYMGRAD_CACHE_DIR``, else the platform's user cache folder + ``symgrad``
(``$XDG_CACHE_HOME`` or ``~/.cache`` on Linux, ``~/Library/Caches`` on macOS,
``%LOCALAPPDATA%`` on Windows). ``SYMGRAD_CACHE=0`` disables the disk cache: modules are
compiled in memory and nothing is written. An unwritable folder does the same.

**Robustness.** Files are written to a temporary name and renamed (numba does the same for
its files). The compile of an entry, numba's save and the manifest happen under a lock file
(``<name>.lock``), so two processes compiling one graph at once both succeed and the second
loads what the first compiled. Before numba reads its files their checksums are compared
with the manifest; a mismatch, a missing file, an unreadable manifest, a source file that
differs from the generated source, or an error while numba unpickles its files removes the
entry's machine code and recompiles: never a crash or a wrong result.

**Warm path.** On a hit the machine code is loaded directly (numba's loader without its
``refresh()`` of every typing and lowering registry, which alone costs ~0.15 s per process);
anything unexpected falls back to numba's ordinary path.
"""
import contextlib
import glob
import hashlib
import json
import linecache
import logging
import os
import re
import sys
import tempfile
import threading
import time
import types

import numpy as np

CACHE_FORMAT = 1
NO_ENTRY = "no entry for this graph"
NO_MACHINE_CODE = "the entry has no machine code yet"
LOG = logging.getLogger("symgrad.compile")
PREFIX = "symgrad_"
_loaded = {}                  # entry name -> CachedFunction (this process)
_loaded_lock = threading.Lock()
_fallback_warned = []


# -- where, and whether ----------------------------------------------------------------------
def cache_dir():
    """``$SYMGRAD_CACHE_DIR``, else the platform's user cache folder + ``symgrad``."""
    explicit = os.environ.get("SYMGRAD_CACHE_DIR")
    if explicit:
        return explicit
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA", os.path.expanduser("~"))
    elif sys.platform == "darwin":
        base = os.path.expanduser("~/Library/Caches")
    else:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return os.path.join(base, "symgrad")


def enabled():
    """False when ``$SYMGRAD_CACHE`` is ``0``, ``false``, ``no`` or ``off``."""
    return os.environ.get("SYMGRAD_CACHE", "1").strip().lower() not in {"0", "false", "no", "off"}


# -- the key ---------------------------------------------------------------------------------
def versions():
    import numba
    from symgrad import __version__
    return {"format": CACHE_FORMAT, "symgrad": __version__, "numba": numba.__version__,
            "numpy": np.__version__, "python": "%d.%d" % sys.version_info[:2]}


def source_hash(source):
    return hashlib.sha256(source.encode()).hexdigest()


_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def graph_hash(graph):
    """The graph's structural hash (``Graph.structural_hash``), made stable across
    processes: static params that are Python objects (the rule of a custom VJP) enter it
    through their repr, whose memory address (`` at 0x7f...``) is dropped here."""
    order = graph.topological_order()
    position = {node: i for i, node in enumerate(order)}
    digest = hashlib.sha256()
    for node in order:
        operands = tuple(position[o] for o in graph.operands(node))
        digest.update(_ADDRESS.sub("", repr((graph.signature_of(node), operands))).encode())
    digest.update(repr(([position[n] for n in graph.inputs],
                        [position[n] for n in graph.outputs])).encode())
    return digest.hexdigest()[:20]


def key_parts(source, graph=None, backend="numba-cpu", kind="graph"):
    """Everything the entry depends on (see the module docstring)."""
    parts = dict(versions(), backend=backend, kind=kind, source=source_hash(source))
    if graph is not None:
        parts["graph"] = graph_hash(graph)
        parts["signature"] = [[list(graph[n]["shape"]), graph[n]["dtype"]] for n in graph.inputs]
    return parts


def entry_name(parts):
    digest = hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()
    return f"{PREFIX}{parts.get('graph', 'nograph')[:12]}_{digest[:20]}"


def source_key(source):
    """The digest that names in-memory modules (no disk cache)."""
    return source_hash(source)[:24]


# -- small file helpers ----------------------------------------------------------------------
def write_atomically(path, data, exclusive=False):
    """Write ``data`` (str or bytes) to a temporary file and rename it to ``path``. With
    ``exclusive`` an existing ``path`` is kept (the first writer wins): returns False then."""
    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data.encode() if isinstance(data, str) else data)
        with contextlib.suppress(OSError):
            os.chmod(temporary, 0o644)          # mkstemp makes 0600; entries are shareable
        if exclusive:
            try:
                os.link(temporary, path)
                return True
            except FileExistsError:
                return False
            except OSError:
                pass                    # no hard links here: a rename will do
        os.replace(temporary, path)
        return True
    finally:
        with contextlib.suppress(OSError):
            os.unlink(temporary)


def file_digest(path):
    with open(path, "rb") as file:
        return hashlib.sha256(file.read()).hexdigest()


def remove(path):
    with contextlib.suppress(FileNotFoundError, IsADirectoryError):
        os.unlink(path)


@contextlib.contextmanager
def file_lock(path):
    """An exclusive lock between processes (``flock``/``msvcrt``); none where unavailable."""
    try:
        handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        yield
        return
    try:
        try:
            import fcntl
            fcntl.flock(handle, fcntl.LOCK_EX)
        except ImportError:
            try:
                import msvcrt
                msvcrt.locking(handle, msvcrt.LK_LOCK, 1)
            except (ImportError, OSError):
                pass
        except OSError:
            pass
        yield
    finally:
        os.close(handle)            # closing releases the lock


# -- numba's side ----------------------------------------------------------------------------
def _numba_files(dispatcher):
    """(folder, index file name, data file glob) of numba's cache for ``dispatcher``."""
    cache = dispatcher._cache
    index = cache._cache_file._index_name
    return cache._cache_path, index, index[:-len(".nbi")] + ".*.nbc"


def _argument_types(dispatcher, args):
    return tuple(dispatcher.typeof_pyval(a) for a in args)


def _load_from_disk(dispatcher, signature):
    """numba's cache hit path (``Dispatcher.compile``) minus the ``refresh()`` of every
    typing and lowering registry, which a load does not need: the NRT is initialized and
    the machine code added. None when numba's index has nothing for these types."""
    from numba.core.compiler_lock import global_compiler_lock
    from numba.core.runtime import rtsys
    context = dispatcher.targetctx
    with global_compiler_lock:
        rtsys.initialize(context)
        result = dispatcher._cache._load_overload(signature, context)
        if result is None:
            return None
        if not result.objectmode:
            context.insert_user_function(result.entry_point, result.fndesc, [result.library])
        dispatcher.add_overload(result)
        dispatcher._cache_hits[signature] += 1
    return result


def _compile(dispatcher, signature):
    dispatcher._compilation_chain_init_hook()
    dispatcher.compile(signature)


# -- entries ---------------------------------------------------------------------------------
class CachedFunction:
    """A generated function and its cache entry. ``prepare(args)`` makes the dispatcher
    ready for these arguments: from memory, from the disk cache or by compiling."""

    def __init__(self, name, module, function_name, folder, parts, persistent, reason):
        self.name = name
        self.module = module
        self.dispatcher = getattr(module, function_name)
        self.folder = folder
        self.parts = parts
        self.persistent = persistent
        self.reason = reason          # why the entry must be compiled, if known already
        self.lock = threading.Lock()

    @property
    def manifest_path(self):
        return os.path.join(self.folder, self.name + ".json")

    def prepare(self, args):
        dispatcher = self.dispatcher
        signature = _argument_types(dispatcher, args)
        if signature in dispatcher.overloads:
            return dispatcher
        with self.lock:
            if signature in dispatcher.overloads:
                return dispatcher
            if not self.persistent:
                self._compile(signature, "disk cache disabled (SYMGRAD_CACHE=0)"
                              if not enabled() else "disk cache not writable")
                return dispatcher
            try:
                with file_lock(os.path.join(self.folder, self.name + ".lock")):
                    self._load_or_compile(signature)
            except OSError as error:        # the folder went away or became read-only
                LOG.info("disk cache unusable for %s (%s): compiling in memory", self.name, error)
                self.persistent = False
                from numba.core.caching import NullCache
                dispatcher._cache = NullCache()
                self._compile(signature, "disk cache not writable")
        return dispatcher

    def _load_or_compile(self, signature):
        """Under the entry's lock: load a verified entry, else compile and save one."""
        problem, purge = self.verify(), True
        if problem is None:
            start = time.perf_counter()
            try:
                result = _load_from_disk(self.dispatcher, signature)
            except Exception as error:     # a corrupted index or data file numba cannot read
                problem = f"numba could not load its cache files ({type(error).__name__}: {error})"
            else:
                if result is not None:
                    LOG.info("disk cache hit: %s (%.3f s)", self.name, time.perf_counter() - start)
                    self.reason = None
                    return
                problem = "the entry has no machine code for these argument types or this CPU"
                purge = False               # numba adds an overload beside the others
        elif problem in (NO_ENTRY, NO_MACHINE_CODE) and self.reason:
            problem = self.reason
        if purge:                           # never let numba read files we cannot vouch for
            self.purge_machine_code()
        self._compile(signature, f"disk cache miss: {problem}")
        self.write_manifest()
        self.reason = None

    def _compile(self, signature, why):
        LOG.info("compiling %s with numba (%s)", self.name, why)
        start = time.perf_counter()
        _compile(self.dispatcher, signature)
        LOG.info("compiled %s in %.2f s", self.name, time.perf_counter() - start)

    # -- the manifest ------------------------------------------------------------------------
    def numba_files(self):
        folder, index, data = _numba_files(self.dispatcher)
        found = [index] if os.path.exists(os.path.join(folder, index)) else []
        found += sorted(os.path.basename(p) for p in glob.glob(os.path.join(glob.escape(folder), data)))
        return folder, found

    def write_manifest(self):
        folder, files = self.numba_files()
        manifest = {"format": CACHE_FORMAT, "name": self.name, "parts": self.parts,
                    "numba_folder": os.path.abspath(folder), "created": time.time(),
                    "files": {f: file_digest(os.path.join(folder, f)) for f in files}}
        write_atomically(self.manifest_path, json.dumps(manifest, indent=1, sort_keys=True))

    def read_manifest(self):
        try:
            with open(self.manifest_path) as file:
                manifest = json.load(file)
        except FileNotFoundError:
            return None, NO_ENTRY
        except (OSError, ValueError) as error:
            return None, f"unreadable manifest ({type(error).__name__})"
        if not isinstance(manifest, dict) or manifest.get("parts") != self.parts or \
                not isinstance(manifest.get("files"), dict):
            return None, "manifest does not match the key"
        return manifest, None

    def verify(self):
        """None when the entry is complete and intact, else what is wrong with it."""
        manifest, problem = self.read_manifest()
        if problem:
            return problem
        folder, files = self.numba_files()
        expected = manifest["files"]
        if not expected:
            return NO_MACHINE_CODE
        for file in expected:
            path = os.path.join(folder, file)
            try:
                digest = file_digest(path)
            except OSError:
                return f"{file} is missing"
            if digest != expected[file]:
                return f"{file} is corrupted (checksum differs)"
        return None

    def purge_machine_code(self):
        """Remove numba's files of this entry and its manifest (the source stays)."""
        remove(self.manifest_path)
        folder, files = self.numba_files()
        for file in files:
            remove(os.path.join(folder, file))


def _similar_entries(folder, name, parts):
    """Why a new entry is new: what differs from entries of the same graph on disk."""
    reasons = []
    graph_prefix = name[:len(PREFIX) + 12]
    for path in glob.glob(os.path.join(glob.escape(folder), graph_prefix + "_*.json")):
        try:
            with open(path) as file:
                other = json.load(file)["parts"]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        changed = [f"{k} {other.get(k)} -> {parts.get(k)}" for k in
                   ("format", "symgrad", "numba", "numpy", "python") if other.get(k) != parts.get(k)]
        if not changed and other.get("source") != parts.get("source"):
            changed = ["the generated code changed (code generator updated)"]
        if changed:
            reasons.append(", ".join(changed))
    return f"no entry for this graph (an entry for it exists with {reasons[0]})" if reasons else None


def _prepare_source_file(path, source):
    """Make ``path`` hold exactly ``source``; return why it had to be (re)written, or None."""
    try:
        with open(path, encoding="utf-8") as file:
            current = file.read()
    except FileNotFoundError:
        if write_atomically(path, source, exclusive=True):
            return "new"
        return _prepare_source_file(path, source)
    except (OSError, UnicodeDecodeError):
        current = None
    if current == source:
        return None
    write_atomically(path, source)
    return "corrupted"


def _exec_module(name, source, filename):
    module = types.ModuleType(name)
    module.__file__ = filename
    # numba's disk cache finds the function's module by name when it loads machine code.
    sys.modules[name] = module
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    try:
        exec(compile(source, filename, "exec"), module.__dict__)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


_CACHE_TRUE = re.compile(r"^(\s*@numba\.\w+\(.*?)\bcache\s*=\s*True", re.MULTILINE)


def _load_in_memory(source, function_name, parts, why):
    """No disk: the source is compiled from memory with numba's cache turned off."""
    name = f"{PREFIX}mem_{source_key(source)}"
    with _loaded_lock:
        cached = _loaded.get(name)
        if cached is None:
            module = _exec_module(name, _CACHE_TRUE.sub(r"\1cache=False", source), f"<{name}>")
            cached = _loaded[name] = CachedFunction(name, module, function_name, None, parts,
                                                    persistent=False, reason=why)
    return cached


def load(source, function_name, graph=None, backend="numba-cpu", kind="graph"):
    """The :class:`CachedFunction` for ``source``'s ``function_name`` (nothing compiled
    yet: ``prepare`` does that on the first call, when the argument types are known)."""
    from compiler.compile_log import configure
    configure()
    parts = key_parts(source, graph, backend, kind)
    if not enabled():
        return _load_in_memory(source, function_name, parts, "disk cache disabled")
    folder = cache_dir()
    name = entry_name(parts)
    with _loaded_lock:
        cached = _loaded.get(name)
        if cached is not None:
            return cached
        path = os.path.join(folder, name + ".py")
        try:
            os.makedirs(folder, exist_ok=True)
            state = _prepare_source_file(path, source)
        except OSError as error:
            if not _fallback_warned:
                _fallback_warned.append(True)
                LOG.info("cache folder %s is not writable (%s): compiling in memory", folder, error)
            cached = None
        else:
            reason = None
            if state == "new":
                reason = _similar_entries(folder, name, parts) or NO_ENTRY
                # The key's parts at once (no machine code listed yet), so that info() can
                # tell the entry's versions even if it is never compiled here.
                write_atomically(os.path.join(folder, name + ".json"), json.dumps(
                    {"format": CACHE_FORMAT, "name": name, "parts": parts, "files": {}},
                    indent=1, sort_keys=True), exclusive=True)
            elif state == "corrupted":
                LOG.info("rewrote %s.py: the cached source file differed from the generated "
                         "source", name)
            module = _exec_module(name, source, path)
            cached = _loaded[name] = CachedFunction(name, module, function_name, folder, parts,
                                                    persistent=True, reason=reason)
    if cached is None:
        return _load_in_memory(source, function_name, parts, "disk cache not writable")
    return cached


def load_module(source):
    """The generated module for ``source`` (compiled lazily, on its first call)."""
    return load(source, "run").module


# -- the whole folder: sg.cache.info() / sg.cache.clear() --------------------------------------
def _entries(folder):
    return sorted(glob.glob(os.path.join(glob.escape(folder), PREFIX + "*.py")))


def _entry_files(folder, py_path):
    """Every file of one entry: source, manifest, lock, bytecode and numba's files."""
    stem = os.path.basename(py_path)[:-3]
    files = [py_path] + [os.path.join(folder, stem + ext) for ext in (".json", ".lock")]
    numba_folders = {os.path.join(folder, "__pycache__")}
    try:
        with open(os.path.join(folder, stem + ".json")) as file:
            numba_folders.add(json.load(file)["numba_folder"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    for numba_folder in numba_folders:
        files += glob.glob(os.path.join(glob.escape(numba_folder), glob.escape(stem) + ".*"))
    return [f for f in files if os.path.isfile(f)]


def info(folder=None):
    """``{"folder", "enabled", "entries", "bytes", "stale"}`` of the cache folder; ``stale``
    counts entries made by other symgrad/numba/numpy/Python versions or cache formats, and
    entries without a manifest (older layouts, compiles that never finished)."""
    folder = folder or cache_dir()
    current = None
    entries = stale = size = 0
    for py_path in _entries(folder):
        entries += 1
        size += sum(os.path.getsize(f) for f in _entry_files(folder, py_path))
        try:
            with open(py_path[:-3] + ".json") as file:
                parts = json.load(file)["parts"]
        except (OSError, ValueError, KeyError, TypeError):
            stale += 1              # an older layout, or a compile that never finished
            continue
        if current is None:
            current = versions()
        if any(parts.get(k) != v for k, v in current.items()):
            stale += 1
    return {"folder": folder, "enabled": enabled(), "entries": entries, "bytes": size,
            "stale": stale}


def clear(folder=None, stale_only=False):
    """Remove every entry (or only the stale ones); returns how many were removed. Temporary
    files left by interrupted writes go too. Functions already loaded keep working."""
    folder = folder or cache_dir()
    current = versions() if stale_only else None
    removed = 0
    for py_path in _entries(folder):
        if stale_only:
            try:
                with open(py_path[:-3] + ".json") as file:
                    parts = json.load(file)["parts"]
                if all(parts.get(k) == v for k, v in current.items()):
                    continue
            except (OSError, ValueError, KeyError, TypeError):
                pass
        for file in _entry_files(folder, py_path):
            remove(file)
        removed += 1
    if not stale_only:
        for pattern in (".tmp-*.part", os.path.join("__pycache__", PREFIX + "*")):
            for path in glob.glob(os.path.join(glob.escape(folder), pattern)):
                remove(path)
    return removed
