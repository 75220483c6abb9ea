"""One cache entry's compiled function: numba's dispatcher, loaded from the entry's machine
code when its manifest vouches for it, else compiled (see symgrad.compiler.disk_cache.store)."""
import contextlib
import functools
import glob
import json
import logging
import os
import signal
import sys
import threading
import time
import warnings

from .files import (LockTimeout, describe_holder, file_digest, file_lock,
                                  lock_timeout, remove, write_atomically)

CACHE_FORMAT = 1
NO_ENTRY = "no entry for this graph"
NO_MACHINE_CODE = "the entry has no machine code yet"
LOG = logging.getLogger("symgrad.compile")


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
        # a data file rewritten by a process that purged the entry after our check (numba
        # numbers data files from 1 again) may hold another signature's code
        if result is None or tuple(result.signature.args) != tuple(signature):
            return None
        if not result.objectmode:
            context.insert_user_function(result.entry_point, result.fndesc, [result.library])
        dispatcher.add_overload(result)
        dispatcher._cache_hits[signature] += 1
    return result


def _compile(dispatcher, signature):
    dispatcher._compilation_chain_init_hook()
    dispatcher.compile(signature)


@contextlib.contextmanager
def _without_disk(dispatcher):
    """numba's cache of ``dispatcher`` turned off for the block: numba neither reads files
    nobody vouched for nor writes any."""
    from numba.core.caching import NullCache
    cache, dispatcher._cache = dispatcher._cache, NullCache()
    try:
        yield
    finally:
        dispatcher._cache = cache


@functools.lru_cache(maxsize=None)
def _read_only_cache_class():
    """numba's cache reading an entry's files where numba wrote them and writing nothing.
    numba's own locators want a folder they can write (else they move the cache to
    ``~/.cache/numba``), so a read-only cache folder would never be read."""
    from numba.core import caching, config

    class EntryLocator(caching.InTreeCacheLocator):
        def __init__(self, py_func, py_file):
            super().__init__(py_func, py_file)
            if config.CACHE_DIR:        # $NUMBA_CACHE_DIR: where numba put the files
                self._cache_path = caching.UserProvidedCacheLocator(
                    py_func, py_file).get_cache_path()

        @classmethod
        def from_function(cls, py_func, py_file):
            return cls(py_func, py_file)

    class EntryCacheImpl(caching.CompileResultCacheImpl):
        _locator_classes = [EntryLocator]

    class ReadOnlyCache(caching.FunctionCache):
        _impl_class = EntryCacheImpl

        def save_overload(self, sig, data):
            pass                        # the folder is read-only: compiled code stays in memory

    return ReadOnlyCache


def read_only_cache(dispatcher):
    """Give ``dispatcher`` (made without numba's cache) a cache that only reads its entry."""
    dispatcher._cache = _read_only_cache_class()(dispatcher.py_func)


@contextlib.contextmanager
def _interrupts_deferred(name):
    """Ctrl-C while numba loads or compiles ``name`` takes effect when it is done (a second
    Ctrl-C at once): numba's first compile in a process initializes its typing and lowering
    registries, and an interrupt halfway breaks every later compile of the process. Only in
    the main thread, and only where Python's own handler is installed."""
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield
        return
    received = []

    def defer(signum, frame):
        if received:
            raise KeyboardInterrupt
        received.append(signum)
        sys.stderr.write(f"symgrad: interrupted; stopping once numba has compiled or loaded "
                         f"{name} (Ctrl-C again stops now, which can leave numba unusable in "
                         "this process)\n")

    signal.signal(signal.SIGINT, defer)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if received:
        raise KeyboardInterrupt


# -- entries ---------------------------------------------------------------------------------
class CachedFunction:
    """A generated function and its cache entry. ``prepare(args)`` makes the dispatcher
    ready for these arguments: from memory, from the disk cache or by compiling. ``disk``
    is what the entry may do in the cache folder: ``"read-write"``, ``"read-only"`` (load
    the entry; a miss compiles in memory) or None (compile in memory; ``reason`` says why)."""

    def __init__(self, name, module, function_name, folder, parts, disk, reason):
        self.name = name
        self.module = module
        self.dispatcher = getattr(module, function_name)
        self.folder = folder
        self.parts = parts
        self.disk = disk
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
            if signature not in dispatcher.overloads:
                self._prepare(signature)
        return dispatcher

    def _prepare(self, signature):
        if self.disk is None:
            self._compile_in_memory(signature, self.reason)
            return
        # No lock to load: a manifest is written last and vouches for complete files, so a
        # stopped or slow process compiling this entry delays only the processes that must
        # compile it too.
        problem, _ = self._load(signature)
        if problem is None:
            return
        if self.disk == "read-only":
            self._compile_in_memory(signature, f"disk cache miss: {problem}; the cache folder "
                                               f"{self.folder} is read-only, so nothing is saved")
            return
        try:
            with file_lock(os.path.join(self.folder, self.name + ".lock"), lock_timeout()):
                self._load_or_compile(signature)
        except LockTimeout as busy:
            self._warn_locked(busy)
            self._compile_in_memory(signature, f"the entry is locked by "
                                               f"{describe_holder(busy.holder)}")
        except OSError as error:            # the folder went away or became read-only
            LOG.info("disk cache unusable for %s (%s): compiling in memory", self.name, error)
            self.disk, self.reason = None, "disk cache not writable"
            if signature not in self.dispatcher.overloads:
                self._compile_in_memory(signature, self.reason)

    def _load(self, signature):
        """Load the machine code for ``signature`` if the manifest vouches for it. Returns
        (None, False) on a hit, else (what is wrong, whether numba's files must go)."""
        problem = self.verify()
        if problem is not None:
            return problem, True
        start = time.perf_counter()
        try:
            with _interrupts_deferred(self.name):
                result = _load_from_disk(self.dispatcher, signature)
        except Exception as error:     # a corrupted index or data file numba cannot read
            return f"numba could not load its cache files ({type(error).__name__}: {error})", True
        if result is None:                  # numba adds an overload beside the others
            return "the entry has no machine code for these argument types or this CPU", False
        LOG.info("disk cache hit: %s (%.3f s)", self.name, time.perf_counter() - start)
        self.reason = None
        return None, False

    def _load_or_compile(self, signature):
        """Under the entry's lock: load a verified entry (another process may just have
        written it), else compile and save one."""
        problem, purge = self._load(signature)
        if problem is None:
            return
        if problem == NO_MACHINE_CODE and self.reason:
            problem = self.reason
        if purge:                           # never let numba read files we cannot vouch for
            self.purge_machine_code()
        with _interrupts_deferred(self.name):     # the entry is saved whole
            self._compile(signature, f"disk cache miss: {problem}")
            self.write_manifest()
        self.reason = None

    def _warn_locked(self, busy):
        warnings.warn(
            f"symgrad: the disk cache entry {self.name} in {self.folder} is locked by "
            f"{describe_holder(busy.holder)}; after waiting {busy.waited:g} s "
            "(SYMGRAD_CACHE_LOCK_TIMEOUT) this process compiles it in memory and saves nothing. "
            "A stopped process (Ctrl-Z, SIGSTOP) keeps its lock until it is resumed or ended.",
            RuntimeWarning, stacklevel=2)

    def _compile(self, signature, why):
        LOG.info("compiling %s with numba (%s)", self.name, why)
        start = time.perf_counter()
        with _interrupts_deferred(self.name):
            _compile(self.dispatcher, signature)
        LOG.info("compiled %s in %.2f s", self.name, time.perf_counter() - start)

    def _compile_in_memory(self, signature, why):
        with _without_disk(self.dispatcher):
            self._compile(signature, why)

    # -- the manifest ------------------------------------------------------------------------
    def numba_files(self):
        folder, index, data = _numba_files(self.dispatcher)
        found = [index] if os.path.exists(os.path.join(folder, index)) else []
        found += sorted(os.path.basename(p) for p in glob.glob(os.path.join(glob.escape(folder), data)))
        return folder, found

    def write_manifest(self):
        folder, files = self.numba_files()
        # names only, no folder: a copied or moved cache folder is still whole
        manifest = {"format": CACHE_FORMAT, "name": self.name, "parts": self.parts,
                    "created": time.time(),
                    "files": {f: file_digest(os.path.join(folder, f)) for f in files}}
        write_atomically(self.manifest_path, json.dumps(manifest, indent=1, sort_keys=True))

    def read_manifest(self):
        try:
            with open(self.manifest_path) as file:
                manifest = json.load(file)
        except FileNotFoundError:
            return None, f"its manifest {self.name}.json is missing"
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
            except FileNotFoundError:
                return f"{file} is missing"
            except OSError as error:
                return f"{file} cannot be read ({error.strerror or type(error).__name__})"
            if digest != expected[file]:
                return f"{file} is corrupted (checksum differs)"
        return None

    def purge_machine_code(self):
        """Remove numba's files of this entry and its manifest (the source stays)."""
        remove(self.manifest_path)
        folder, files = self.numba_files()
        for file in files:
            remove(os.path.join(folder, file))
