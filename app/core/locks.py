"""The one lock helper.

``file_lock(path)`` takes an exclusive kernel lock (``flock``, through :mod:`filelock`) on a sidecar
lock file. The kernel drops it when the holder's process dies, so a ``kill -9`` never leaves a
stale lock; filelock's soft-lock fallback (a lock file whose mere presence is the lock, which a
``kill -9`` would leave behind) is turned off. A busy lock is tried again every
``POLL_INTERVAL`` (5 ms, tuned in bench/bench_locks.py; filelock's default 50 ms starved waiters
at 16 processes), and :class:`LockTimeout` is raised at the deadline. Hold it only around reading
and writing the files it guards, never across slow work.

Lock files are named ``.<name>.flock`` (mode 0600) and never ``<file>.lock``: that name is Claude
Code's mkdir lock, and a plain file there would wedge it. A sidecar that is a symlink or not a
regular file (a FIFO planted there) is refused with :class:`UnsafeFile` before anything waits on it.
"""

from __future__ import annotations

import errno
import fcntl
import os
from contextlib import contextmanager
from typing import TYPE_CHECKING

from filelock import FileLock, Timeout

from app.core.atomic import FILE_MODE, ensure_dir, open_regular
from app.core.errors import LockTimeout, UnsafeFile

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

DEFAULT_TIMEOUT = 30.0
POLL_INTERVAL = 0.005


def lock_path_for(path: Path) -> Path:
    """The sidecar lock file that guards ``path``."""
    return path.with_name(f".{path.name}.flock")


@contextmanager
def file_lock(path: Path, timeout: float = DEFAULT_TIMEOUT) -> Iterator[None]:
    """Hold an exclusive kernel lock on ``lock_path_for(path)`` for the ``with`` block."""
    lock_file = lock_path_for(path)
    ensure_dir(lock_file.parent)
    os.close(open_regular(lock_file, os.O_RDWR | os.O_CREAT))  # never through a symlink, never a FIFO
    lock = FileLock(lock_file, mode=FILE_MODE, thread_local=False, fallback_to_soft=False)
    try:
        lock.acquire(timeout=timeout, poll_interval=POLL_INTERVAL)
    except Timeout:
        raise LockTimeout(lock_file, timeout) from None
    except OSError as exc:  # swapped for a symlink since the check (filelock opens with O_NOFOLLOW)
        if exc.errno == errno.ELOOP:
            raise UnsafeFile(lock_file, "a symlink") from None
        raise
    try:
        yield
    finally:
        lock.release()


class HeldLock:
    """An exclusive kernel lock held until :meth:`release` (or until its holder dies).

    For a role only one process may play at a time (the console that owns a team's deliveries),
    not for guarding a read-modify-write: that is :func:`file_lock`'s job.
    """

    def __init__(self, fd: int, path: Path) -> None:
        self._fd: int | None = fd
        self.path = path

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        """Give the lock up (idempotent); closing the descriptor drops the flock."""
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)


def try_hold(path: Path) -> HeldLock | None:
    """Take the lock on ``lock_path_for(path)`` now and keep it, or ``None`` when someone holds it.

    Two holders never coexist, in one process or in two: each call opens its own descriptor.
    """
    lock_file = lock_path_for(path)
    ensure_dir(lock_file.parent)
    fd = open_regular(lock_file, os.O_RDWR | os.O_CREAT)  # never through a symlink, never a FIFO
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    except BaseException:
        os.close(fd)
        raise
    return HeldLock(fd, lock_file)
