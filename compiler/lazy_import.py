"""Imports that a failure leaves retryable. symgrad imports this package (and so numba) on
the first compile; if that import fails halfway (Ctrl-C while numba loads), Python removes
only the module that failed: its finished submodules stay in ``sys.modules`` but are no
longer attributes of the package imported again, so every later compile of the process
fails (``module 'numba' has no attribute 'core'``)."""
import contextlib
import sys


@contextlib.contextmanager
def forgotten_on_failure():
    """On any exception in the block (KeyboardInterrupt included), remove from
    ``sys.modules`` every module imported in it, so that the next import starts afresh."""
    before = set(sys.modules)
    try:
        yield
    except BaseException:
        # a module another thread imported meanwhile is imported again: harmless
        for name in set(sys.modules) - before:
            sys.modules.pop(name, None)
        raise
