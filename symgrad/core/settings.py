"""Every environment variable symgrad reads, in one place (the README lists them).

- ``SYMGRAD_CACHE`` (``0``/``false``/``no``/``off`` turns the disk cache off)
- ``SYMGRAD_CACHE_DIR`` (the disk cache's folder), else ``XDG_CACHE_HOME`` / ``LOCALAPPDATA``
- ``SYMGRAD_CACHE_LOCK_TIMEOUT`` (seconds to wait for another process's lock, default 10)
- ``SYMGRAD_LOG_COMPILES`` (log every compile and its reason to stderr)
- ``SYMGRAD_COMPILE_IN_BACKGROUND`` (``0`` makes a new graph's first call wait for its
  compiled code instead of answering from the interpreter: symgrad.tiers)
- ``SYMGRAD_BLAS_THREADS`` (numpy's BLAS threads, default 1) and
  ``SYMGRAD_LOOP_BLAS_THREADS`` (compiled code's BLAS threads, default every core)
- ``NUMBA_CACHE_DIR`` (read, as numba reads it, to find numba's files of an entry)
"""
import os
import sys
import warnings

LOCK_TIMEOUT = 10.0     # seconds; long enough for a large compile by the lock's holder
_OFF = {"0", "false", "no", "off"}


def _switched_on(name, default):
    return os.environ.get(name, default).strip().lower() not in _OFF | {""}


def cache_enabled():
    """False when ``$SYMGRAD_CACHE`` is ``0``, ``false``, ``no`` or ``off``."""
    return os.environ.get("SYMGRAD_CACHE", "1").strip().lower() not in _OFF


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


def cache_lock_timeout():
    """``$SYMGRAD_CACHE_LOCK_TIMEOUT``: how many seconds a process waits for the lock that
    another process holds on an entry before it compiles in memory (default 10)."""
    text = os.environ.get("SYMGRAD_CACHE_LOCK_TIMEOUT", "").strip()
    try:
        seconds = float(text) if text else LOCK_TIMEOUT
    except ValueError:
        seconds = None
    if seconds is None or not seconds >= 0:
        warnings.warn(f"symgrad: SYMGRAD_CACHE_LOCK_TIMEOUT={text!r} is not a number of seconds "
                      f">= 0; waiting {LOCK_TIMEOUT:g} s", RuntimeWarning, stacklevel=3)
        return LOCK_TIMEOUT
    return seconds


def log_compiles():
    """``$SYMGRAD_LOG_COMPILES`` set (not 0): every compile is logged to stderr."""
    return _switched_on("SYMGRAD_LOG_COMPILES", "0")


def compile_in_background():
    """False when ``$SYMGRAD_COMPILE_IN_BACKGROUND`` is ``0``/``false``/``no``/``off``: a new
    graph's calls then wait for its compiled code (symgrad.tiers)."""
    return _switched_on("SYMGRAD_COMPILE_IN_BACKGROUND", "1")


def numpy_blas_threads():
    return int(os.environ.get("SYMGRAD_BLAS_THREADS", "1"))


# read once: os.cpu_count() reads /sys on every call, and compiled calls ask before each run
CPU_COUNT = os.cpu_count() or 1


def compiled_blas_threads():
    return int(os.environ.get("SYMGRAD_LOOP_BLAS_THREADS", CPU_COUNT))


def numba_cache_dir():
    """numba's own ``$NUMBA_CACHE_DIR``, or None."""
    return os.environ.get("NUMBA_CACHE_DIR") or None
