"""File helpers of the disk cache: its settings, atomic writes, digests, locks between
processes."""
import contextlib
import hashlib
import os
import socket
import tempfile
import time
from symgrad.core.settings import LOCK_TIMEOUT, cache_enabled, cache_lock_timeout  # noqa: F401 (LOCK_TIMEOUT: read by the tests here)

LOCK_POLL = 0.05        # seconds between attempts to take a busy lock
enabled = cache_enabled
lock_timeout = cache_lock_timeout


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


class LockTimeout(Exception):
    """Another process held an entry's lock for longer than ``lock_timeout()``."""

    def __init__(self, path, holder, waited):
        self.path, self.holder, self.waited = path, holder, waited
        super().__init__(f"{path} is held by {describe_holder(holder)}; waited {waited:g} s")


def describe_holder(holder):
    """``process 123 on host h (holding it for 12 s)`` from what the holder recorded."""
    if holder is None:
        return "another process (it recorded no pid)"
    pid, host, since = holder
    return f"process {pid} on {host} (holding it for {max(0.0, time.time() - since):.0f} s)"


def _read_holder(handle):
    """(pid, host, since) that the lock's holder wrote into the lock file, or None (nothing
    recorded, or a write in progress: the record is rewritten in place, as the lock lives
    on the file's inode and a rename would make a second lock)."""
    try:
        os.lseek(handle, 0, os.SEEK_SET)
        pid, host, since = os.read(handle, 512).decode().split()
        return int(pid), host, float(since)
    except (OSError, ValueError, UnicodeDecodeError):
        return None


def _record_holder(handle, record):
    with contextlib.suppress(OSError):      # opened read-only: the lock holds, unrecorded
        os.ftruncate(handle, 0)
        if record:
            os.lseek(handle, 0, os.SEEK_SET)
            os.write(handle, f"{os.getpid()} {socket.gethostname()} {time.time()}\n".encode())


def _try_lock(handle):
    """Take the exclusive lock without waiting: False while another process holds it."""
    try:
        import fcntl
    except ImportError:
        try:
            import msvcrt
        except ImportError:
            return True                     # no locking on this platform
        try:
            msvcrt.locking(handle, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    except OSError:
        pass                                # a file system without flock: no lock, as before
    return True


def _open_lock_file(path):
    """The lock file's descriptor, or None when it can be neither created nor opened."""
    for flags in (os.O_RDWR | os.O_CREAT, os.O_RDONLY):
        try:
            return os.open(path, flags, 0o644)
        except OSError:
            continue
    return None


@contextlib.contextmanager
def file_lock(path, timeout):
    """An exclusive lock between processes (``flock``/``msvcrt``), waiting at most
    ``timeout`` seconds for it (then :class:`LockTimeout` names the holder). The holder's
    pid, host and start time are written into the lock file while it is held. A process
    that dies releases its lock (the system does), so a dead holder never blocks; where the
    file cannot be opened or locking is unavailable, the block runs without a lock."""
    handle = _open_lock_file(path)
    if handle is None:
        yield
        return
    try:
        deadline = time.monotonic() + timeout
        while not _try_lock(handle):
            if time.monotonic() >= deadline:
                raise LockTimeout(path, _read_holder(handle), timeout)
            time.sleep(LOCK_POLL)
        _record_holder(handle, record=True)
        try:
            yield
        finally:
            _record_holder(handle, record=False)
    finally:
        os.close(handle)            # closing releases the lock
