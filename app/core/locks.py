"""The one lock helper.

``file_lock(path)`` takes an exclusive ``flock`` on a sidecar lock file. The kernel drops it when
the holder's process dies, so a ``kill -9`` never leaves a stale lock. The wait polls with a
short, growing step (0.2 ms up to 5 ms) so a freed lock is picked up within milliseconds, and
gives up with :class:`LockTimeout` at the deadline. Hold it only around reading and writing the
files it guards, never across slow work.

Lock files are named ``.<name>.flock`` and never ``<file>.lock``: that name is Claude Code's
mkdir lock, and a plain file there would wedge it.
"""

from __future__ import annotations

import fcntl
import os
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING

from app.core.atomic import ensure_dir, open_regular
from app.core.errors import LockTimeout

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

DEFAULT_TIMEOUT = 30.0


def lock_path_for(path: Path) -> Path:
    """The sidecar lock file that guards ``path``."""
    return path.with_name(f".{path.name}.flock")


@contextmanager
def file_lock(path: Path, timeout: float = DEFAULT_TIMEOUT) -> Iterator[None]:
    """Hold an exclusive kernel lock on ``lock_path_for(path)`` for the ``with`` block."""
    lock_file = lock_path_for(path)
    ensure_dir(lock_file.parent)
    fd = open_regular(lock_file, os.O_RDWR | os.O_CREAT)  # never through a symlink, never a FIFO
    try:
        deadline = time.monotonic() + timeout
        step = 0.0002
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise LockTimeout(lock_file, timeout) from None
                time.sleep(step)
                step = min(step * 2, 0.005)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


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
