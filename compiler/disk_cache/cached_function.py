"""One cache entry's compiled function: numba's dispatcher, loaded from the entry's machine
code when its manifest vouches for it, else compiled (see symgrad.compiler.disk_cache.store)."""
import glob
import json
import logging
import os
import threading
import time

from .files import enabled, file_digest, file_lock, remove, write_atomically

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
