"""File helpers of the disk cache: atomic writes, digests, locks between processes."""
import contextlib
import hashlib
import os
import tempfile

def enabled():
    """False when ``$SYMGRAD_CACHE`` is ``0``, ``false``, ``no`` or ``off``."""
    return os.environ.get("SYMGRAD_CACHE", "1").strip().lower() not in {"0", "false", "no", "off"}


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
