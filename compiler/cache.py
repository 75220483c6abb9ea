"""Generated modules on disk: one ``.py`` file per distinct source, so numba's ``cache=True``
can keep the machine code between processes (numba cannot cache ``exec``-made functions)."""
import hashlib
import importlib.util
import os
import sys
import tempfile

_loaded = {}


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
        base = os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache"))
    return os.path.join(base, "symgrad")


def source_key(source):
    return hashlib.sha256(source.encode()).hexdigest()[:24]


def write_atomically(path, text):
    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=folder, suffix=".tmp")
    with os.fdopen(handle, "w") as file:
        file.write(text)
    os.replace(temporary, path)


def load_module(source):
    """Import ``source`` as a module from the cache folder (written once, atomically)."""
    key = source_key(source)
    if key in _loaded:
        return _loaded[key]
    path = os.path.join(cache_dir(), f"symgrad_{key}.py")
    try:
        with open(path) as file:
            intact = file.read() == source
    except OSError:
        intact = False
    if not intact:
        write_atomically(path, source)
    name = f"symgrad_{key}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    # numba's disk cache re-imports the module by name when it loads machine code.
    sys.modules[name] = module
    spec.loader.exec_module(module)
    _loaded[key] = module
    return module
