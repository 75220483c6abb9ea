"""The on-disk cache: generated modules and numba's machine code, kept between processes.

**Entry.** One compiled function is one entry, named ``symgrad_<graph>_<key>``:

- ``<name>.py``: the generated module (numba's ``cache=True`` needs a real file, and numba
  cannot cache functions made by ``exec``);
- numba's own cache files for it, ``<name>.<function>-<line>.pyXY.nbi`` (index) and
  ``….N.nbc`` (machine code), in ``__pycache__`` beside it (or under ``$NUMBA_CACHE_DIR``);
- ``<name>.json``: the manifest, written last: the key's parts and a SHA-256 of each of
  numba's files, by name only (numba's folder follows from the entry's own place, so a
  copied or moved cache folder is whole). An entry without a valid manifest is incomplete
  and never trusted.

**Key.** ``<graph>`` is the first 12 hex digits of the input graph's shape-erased structural
hash (ops, ranks, dtypes, wiring: see ``Graph.structural_hash``) and ``<key>`` the first 20
of the SHA-256 of the JSON of :func:`key_parts`: cache format, symgrad, numba, numpy and
Python versions, backend and function kind, that hash, the rank and dtype of every input and
the SHA-256 of the generated source (which changes whenever the code generator does, and
holds every shape, param and constant the code inlines). The CPU code reads its arrays'
extents at run time (symgrad.compiler.codegen.extents) and takes array constants and most
float constants as arguments, so one program traced at a new batch size, or graphs that
differ only in constant values (a minibatch of a captured dataset picked by a static int,
the 1/count of a mean), share one entry and one compiled function. Any change gives a new
entry; entries of other versions are never read (``sg.cache.info()`` counts them as stale,
``sg.cache.clear()`` removes them). numba adds the CPU model and its features to its own
index key.

**Folder.** ``$SYMGRAD_CACHE_DIR``, else the platform's user cache folder + ``symgrad``
(``$XDG_CACHE_HOME`` or ``~/.cache`` on Linux, ``~/Library/Caches`` on macOS,
``%LOCALAPPDATA%`` on Windows). ``SYMGRAD_CACHE=0`` disables the disk cache: modules are
compiled in memory and nothing is written. A folder this process cannot write is read only:
its entries are loaded (numba's files read in place), misses are compiled in memory, and
nothing is written. A folder that cannot be made or used at all is not used.

**Robustness.** Files are written to a temporary name and renamed (numba does the same for
its files). The compile of an entry, numba's save and the manifest happen under a lock file
(``<name>.lock``, holding its holder's pid, host and start time), so two processes compiling
one graph at once both succeed and the second loads what the first compiled. A complete
entry loads without the lock; a process waits for another's lock at most
``$SYMGRAD_CACHE_LOCK_TIMEOUT`` seconds (default 10), then warns naming the holder and
compiles in memory. Before numba reads its files their checksums are compared with the
manifest; a mismatch, a missing or unreadable file, an unreadable manifest, a source file
that differs from the generated source, or an error while numba unpickles its files removes
the entry's machine code and recompiles: never a crash or a wrong result. Ctrl-C while numba
loads or compiles takes effect when it is done (symgrad.compiler.disk_cache.cached_function).

**Warm path.** On a hit the machine code is loaded directly (numba's loader without its
``refresh()`` of every typing and lowering registry, a large part of a warm first call);
anything unexpected falls back to numba's ordinary path.
"""
import glob
import hashlib
import json
import linecache
import os
import re
import sys
import threading
import types

import numpy as np

from symgrad.core import version
from symgrad.core.settings import cache_dir, numba_cache_dir
from .cached_function import CACHE_FORMAT, LOG, NO_ENTRY, CachedFunction, read_only_cache
from .files import enabled, remove, write_atomically

PREFIX = "symgrad_"
_loaded = {}                  # entry name -> CachedFunction (this process)
_loaded_lock = threading.Lock()
_fallback_warned = []


# -- where, and whether ----------------------------------------------------------------------


# -- the key ---------------------------------------------------------------------------------
def versions():
    import numba
    return {"format": CACHE_FORMAT, "symgrad": version.__version__, "numba": numba.__version__,
            "numpy": np.__version__, "python": "%d.%d" % sys.version_info[:2]}


def source_hash(source):
    return hashlib.sha256(source.encode()).hexdigest()


def key_parts(source, graph=None, backend="numba-cpu", kind="graph"):
    """Everything the entry depends on (see the module docstring)."""
    parts = dict(versions(), backend=backend, kind=kind, source=source_hash(source))
    if graph is not None:
        parts["graph"] = graph.structural_hash(array_values=False, shapes=False)
        parts["signature"] = [[len(graph[n]["shape"]), graph[n]["dtype"]] for n in graph.inputs]
    return parts


def entry_name(parts):
    digest = hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()
    return f"{PREFIX}{parts.get('graph', 'nograph')[:12]}_{digest[:20]}"


def source_key(source):
    """The digest that names in-memory modules (no disk cache)."""
    return source_hash(source)[:24]


def _similar_entries(folder, name, parts):
    """Why a new entry is new: what differs from entries of the same graph on disk."""
    reasons = []
    graph_prefix = name[:len(PREFIX) + 12]
    for path in glob.glob(os.path.join(glob.escape(folder), graph_prefix + "_*.json")):
        other = _manifest_parts(path)
        if other is None:
            continue
        changed = [f"{k} {other.get(k)} -> {parts.get(k)}" for k in
                   ("format", "symgrad", "numba", "numpy", "python") if other.get(k) != parts.get(k)]
        if not changed and other.get("source") != parts.get("source"):
            changed = ["other generated code (other shapes or params, or an updated code "
                       "generator)"]
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
                                                    disk=None, reason=why)
    return cached


def _writable(folder):
    """Whether this process may write in ``folder`` and in its ``__pycache__`` (numba's)."""
    pycache = os.path.join(folder, "__pycache__")
    return all(os.access(f, os.W_OK | os.X_OK) for f in (folder, pycache) if os.path.isdir(f))


def _open_read_only(folder, name, source, function_name, parts):
    """The entry in a folder this process cannot write, if it holds this source: its module,
    with numba's cache reading the entry in place and writing nothing. Else None."""
    path = os.path.join(folder, name + ".py")
    try:
        with open(path, encoding="utf-8") as file:
            if file.read() != source:
                return None
    except (OSError, UnicodeDecodeError):
        return None
    module = _exec_module(name, _CACHE_TRUE.sub(r"\1cache=False", source), path)
    function = getattr(module, function_name)
    if hasattr(function, "py_func"):     # numba's dispatcher (a CUDA module's setup is not)
        read_only_cache(function)
    return CachedFunction(name, module, function_name, folder, parts, disk="read-only",
                          reason=None)


def _open_writable(folder, name, source, function_name, parts):
    """The entry in a folder this process can write: its source file made right, a new
    entry's manifest written. Raises OSError when the folder cannot be written after all."""
    path = os.path.join(folder, name + ".py")
    os.makedirs(folder, exist_ok=True)
    state = _prepare_source_file(path, source)
    reason = None
    if state == "new":
        reason = _similar_entries(folder, name, parts) or NO_ENTRY
        # The key's parts at once (no machine code listed yet), so that info() can tell the
        # entry's versions even if it is never compiled here.
        write_atomically(os.path.join(folder, name + ".json"), json.dumps(
            {"format": CACHE_FORMAT, "name": name, "parts": parts, "files": {}},
            indent=1, sort_keys=True), exclusive=True)
    elif state == "corrupted":
        LOG.info("rewrote %s.py: the cached source file differed from the generated source", name)
    module = _exec_module(name, source, path)
    return CachedFunction(name, module, function_name, folder, parts, disk="read-write",
                          reason=reason)


def _log_fallback_once(message, *args):
    if not _fallback_warned:
        _fallback_warned.append(True)
        LOG.info(message, *args)


def _open_entry(folder, name, source, function_name, parts):
    """The entry's CachedFunction, or (None, why it must be compiled in memory)."""
    if os.path.isdir(folder) and not _writable(folder):
        cached = _open_read_only(folder, name, source, function_name, parts)
        if cached is None:
            _log_fallback_once("cache folder %s is read-only: its entries are loaded, new "
                               "graphs are compiled in memory", folder)
            return None, f"the cache folder {folder} is read-only and has no entry for this graph"
        return cached, None
    try:
        return _open_writable(folder, name, source, function_name, parts), None
    except OSError as error:
        _log_fallback_once("cache folder %s is not writable (%s): compiling in memory",
                           folder, error)
        return None, "disk cache not writable"


def load(source, function_name, graph=None, backend="numba-cpu", kind="graph", uncached=None):
    """The :class:`CachedFunction` for ``source``'s ``function_name`` (nothing compiled
    yet: ``prepare`` does that on the first call, when the argument types are known).
    ``uncached``: why this source is compiled in memory only (numba cannot cache it)."""
    from symgrad.core.compile_log import configure
    configure()
    parts = key_parts(source, graph, backend, kind)
    if uncached or not enabled():
        return _load_in_memory(source, function_name, parts,
                               uncached or "disk cache disabled (SYMGRAD_CACHE=0)")
    folder = cache_dir()
    name = entry_name(parts)
    with _loaded_lock:
        cached = _loaded.get(name)
        if cached is not None:
            return cached
        cached, why = _open_entry(folder, name, source, function_name, parts)
        if cached is not None:
            _loaded[name] = cached
            return cached
    return _load_in_memory(source, function_name, parts, why)


def load_module(source):
    """The generated module for ``source`` (compiled lazily, on its first call)."""
    return load(source, "run").module


# -- the whole folder: sg.cache.info() / sg.cache.clear() --------------------------------------
def _entries(folder):
    return sorted(glob.glob(os.path.join(glob.escape(folder), PREFIX + "*.py")))


def _numba_folders(py_path):
    """Where numba keeps the machine code of the entry whose source is ``py_path``:
    ``__pycache__`` beside it, or with ``$NUMBA_CACHE_DIR`` the subfolder numba derives from
    the source's own folder (so a copy of the cache folder never shares it)."""
    folders = [os.path.join(os.path.dirname(py_path), "__pycache__")]
    if numba_cache_dir():
        from numba.core import caching, config
        folders.append(os.path.join(config.CACHE_DIR, caching.UserProvidedCacheLocator
                                    .get_suitable_cache_subpath(py_path)))
    return folders


def _entry_files(py_path):
    """Every file of one entry, manifest first (an entry without one is never trusted):
    manifest, source, lock and numba's files. Only files of this folder's own entry."""
    stem = py_path[:-3]
    files = [stem + ext for ext in (".json", ".py", ".lock")]
    for numba_folder in _numba_folders(py_path):
        files += glob.glob(os.path.join(glob.escape(numba_folder),
                                        glob.escape(os.path.basename(stem)) + ".*"))
    return [f for f in files if os.path.isfile(f)]


def _manifest_parts(manifest_path):
    """The key's parts from the manifest at ``manifest_path``, or None when there is none
    (an older layout, a compile that never finished) or it cannot be read."""
    try:
        with open(manifest_path) as file:
            parts = json.load(file)["parts"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return parts if isinstance(parts, dict) else None


def _is_current(parts, current):
    return parts is not None and all(parts.get(k) == v for k, v in current.items())


def info(folder=None):
    """``{"folder", "enabled", "entries", "bytes", "stale"}`` of the cache folder; ``stale``
    counts entries made by other symgrad/numba/numpy/Python versions or cache formats, and
    entries without a manifest (older layouts, compiles that never finished)."""
    folder = folder or cache_dir()
    entries = _entries(folder)
    current = versions() if entries else None
    return {"folder": folder, "enabled": enabled(), "entries": len(entries),
            "bytes": sum(os.path.getsize(f) for p in entries for f in _entry_files(p)),
            "stale": sum(not _is_current(_manifest_parts(p[:-3] + ".json"), current)
                         for p in entries)}


def _remove_all(paths):
    """Remove ``paths``; returns {path: error} for those that could not be removed."""
    failures = {}
    for path in paths:
        try:
            remove(path)
        except OSError as error:
            failures[path] = error
    return failures


def clear(folder=None, stale_only=False):
    """Remove every entry of ``folder`` (or only the stale ones) and only its own files;
    returns how many entries were removed. Temporary files left by interrupted writes go
    too. Functions already loaded keep working. A file that cannot be removed (a read-only
    folder) raises OSError naming it, after everything else was removed."""
    folder = folder or cache_dir()
    current = versions() if stale_only else None
    removed, failures = 0, {}
    for py_path in _entries(folder):
        if stale_only and _is_current(_manifest_parts(py_path[:-3] + ".json"), current):
            continue
        failed = _remove_all(_entry_files(py_path))
        failures.update(failed)
        removed += not failed
    if not stale_only:
        failures.update(_remove_all(
            path for pattern in (".tmp-*.part", os.path.join("__pycache__", PREFIX + "*"))
            for path in glob.glob(os.path.join(glob.escape(folder), pattern))))
    if failures:
        path, error = next(iter(failures.items()))
        raise OSError(f"could not remove {len(failures)} file(s) of the disk cache in {folder}; "
                      f"the first, {path}: {error.strerror or error}")
    return removed
