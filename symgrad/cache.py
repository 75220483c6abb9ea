"""The compile cache on disk: ``sg.cache.info()``, ``sg.cache.clear()`` (also
``python -m symgrad cache info|clear``).

Every compiled function is kept in a cache folder, so a new process that compiles the same
graph loads the machine code instead of compiling it again (seconds -> tens of
milliseconds). The folder is ``$SYMGRAD_CACHE_DIR``, else the user cache folder of the
platform + ``symgrad`` (``~/.cache/symgrad`` on Linux); ``SYMGRAD_CACHE=0`` turns the disk
cache off. An entry is keyed by the graph's structural hash, its input signature, the
symgrad, numba, numpy and Python versions, the backend and the generated source; see
:mod:`symgrad.compiler.disk_cache.store` for the layout and how corrupted entries are detected and rebuilt.
``SYMGRAD_LOG_COMPILES=1`` logs every compile and its reason.

>>> import symgrad as sg
>>> sorted(sg.cache.info())
['bytes', 'enabled', 'entries', 'folder', 'stale']
"""
__all__ = ["folder", "enabled", "info", "clear", "format_info"]


def folder():
    """The cache folder in use (``$SYMGRAD_CACHE_DIR`` or the platform default)."""
    from symgrad.compiler.disk_cache.store import cache_dir
    return cache_dir()


def enabled():
    """False when ``SYMGRAD_CACHE=0`` turns the disk cache off."""
    from symgrad.compiler.disk_cache.store import enabled as cache_enabled
    return cache_enabled()


def info(folder=None):
    """``{"folder", "enabled", "entries", "bytes", "stale"}`` of ``folder`` (default: the
    folder in use): ``entries`` compiled functions taking ``bytes`` on disk, ``stale`` of
    them made by other symgrad / numba / numpy / Python versions (never used again;
    ``clear(stale_only=True)`` removes them)."""
    from symgrad.compiler.disk_cache.store import info as cache_info
    return cache_info(folder)


def clear(stale_only=False, folder=None):
    """Remove every entry of ``folder`` (default: the folder in use), or only stale ones,
    and return how many were removed. Only that folder's own files are touched (a copy of
    a cache folder is cleared without harm to the original). Functions compiled in this
    process keep working; new processes compile again."""
    from symgrad.compiler.disk_cache.store import clear as cache_clear
    return cache_clear(folder, stale_only=stale_only)


def format_info(summary=None):
    """``info()`` as a few lines of text."""
    summary = summary or info()
    size = summary["bytes"]
    unit = next((u for u, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)) if size >= scale), "B")
    scaled = size / {"GB": 1e9, "MB": 1e6, "kB": 1e3, "B": 1}[unit]
    return "\n".join([
        f"folder:  {summary['folder']}",
        f"enabled: {'yes' if summary['enabled'] else 'no (SYMGRAD_CACHE=0)'}",
        f"entries: {summary['entries']} ({summary['stale']} stale, from other versions)",
        f"size:    {scaled:.1f} {unit}" if unit != "B" else f"size:    {size} B"])
