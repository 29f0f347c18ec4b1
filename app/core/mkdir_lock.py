"""Claude Code's lock: a *directory* ``<file>.lock`` made with mkdir (the proper-lockfile scheme).

Protocol, as node's ``proper-lockfile`` documents and implements it:

* acquire = ``mkdir <file>.lock``; success means held;
* on EEXIST, stat the lock dir: if its mtime is older than ``stale`` (10 s) the holder is taken
  to be dead — remove the dir and try again at once; otherwise it is held: retry later
  (Claude Code retries 30 times, 5–100 ms apart);
* while held, the holder refreshes the dir's mtime every ``stale / 2`` so it never looks stale;
* release = ``rmdir``.

crewmux takes this lock (in interop mode) *in addition to* its own kernel-released flock, so a
crewmux process killed while holding it blocks a Claude Code writer for at most ``stale``.

A crewmux holder also leaves its name beside the lock dir (``.<lock dir>.crewmux``: its pid and
start time, touched with the dir). Another crewmux process finding the lock dir held looks at
it: when that holder is dead and the dir is still the one it made (not refreshed since the
holder's last touch, so no Claude Code took it over meanwhile), the lock is taken over at once
instead of after ``stale`` seconds. A dir without that note (Claude Code's) follows the rule above.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from typing import TYPE_CHECKING

from app.core.atomic import ensure_dir
from app.core.errors import LockTimeout
from app.core.liveness import create_time, is_alive

if TYPE_CHECKING:
    from pathlib import Path
    from types import TracebackType

STALE_SECONDS = 10.0
# A lock dir refreshed more than this after its crewmux note was last touched is not that holder's.
NOTE_SLACK = 1.0
_me: list[tuple[int, float | None]] = []  # (pid, start time) of this process, kept across forks


def _my_identity() -> str:
    pid = os.getpid()
    if not _me or _me[0][0] != pid:
        _me[:] = [(pid, create_time(pid))]
    return f"{pid} {_me[0][1]}"


def mkdir_lock_path(path: Path) -> Path:
    """The lock dir Claude Code uses for ``path``."""
    return path.with_name(f"{path.name}.lock")


class MkdirLock:
    """Hold ``<path>.lock`` the way Claude Code does; a context manager.

    ``lock_dir`` names the lock directory outright (proper-lockfile's ``lockfilePath`` option,
    e.g. the task list's ``.lock``) instead of deriving it from ``path``.
    """

    def __init__(
        self, path: Path, *, timeout: float = 30.0, stale: float = STALE_SECONDS, lock_dir: Path | None = None
    ) -> None:
        self.path = path
        self.lock_dir = mkdir_lock_path(path) if lock_dir is None else lock_dir
        self.timeout = timeout
        self.stale = stale
        self._stop = threading.Event()
        self._refresher: threading.Thread | None = None
        self._held = False

    @property
    def owner_note(self) -> Path:
        """Where a crewmux holder writes its pid and start time, beside the lock dir."""
        return self.lock_dir.with_name(f".{self.lock_dir.name}.crewmux")

    def _dead_crewmux_holder(self, dir_mtime: float) -> bool:
        """True when the lock dir is one a crewmux process made and that process is dead."""
        try:
            st = os.lstat(self.owner_note)
            pid_text, _, started = self.owner_note.read_text().partition(" ")
            pid, start = int(pid_text), float(started)
        except (OSError, ValueError):
            return False
        if dir_mtime > st.st_mtime + NOTE_SLACK:  # refreshed after the note: someone else's now
            return False
        return not is_alive(pid, start)

    def _write_note(self) -> None:
        with contextlib.suppress(OSError):
            fd = os.open(self.owner_note, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
            try:
                os.write(fd, _my_identity().encode())
            finally:
                os.close(fd)

    def _try_take(self) -> bool:
        try:
            os.mkdir(self.lock_dir, 0o700)
            return True
        except FileExistsError:
            pass
        try:
            mtime = self.lock_dir.stat().st_mtime
        except FileNotFoundError:
            return self._mkdir_once()  # released meanwhile: one more try, no stale check
        age = time.time() - mtime
        if age > self.stale or self._dead_crewmux_holder(mtime):
            with contextlib.suppress(FileNotFoundError, OSError):
                os.rmdir(self.lock_dir)
            return self._mkdir_once()
        return False

    def _mkdir_once(self) -> bool:
        try:
            os.mkdir(self.lock_dir, 0o700)
            return True
        except FileExistsError:
            return False

    def acquire(self) -> None:
        """Take the lock, waiting with a 5–100 ms backoff; :class:`LockTimeout` at the deadline."""
        ensure_dir(self.lock_dir.parent)
        deadline = time.monotonic() + self.timeout
        step = 0.005
        while not self._try_take():
            if time.monotonic() >= deadline:
                raise LockTimeout(self.lock_dir, self.timeout)
            time.sleep(step)
            step = min(step * 2, 0.1)
        self._held = True
        self._write_note()
        self._stop.clear()
        self._refresher = threading.Thread(target=self._refresh, name=f"mkdir-lock {self.path.name}", daemon=True)
        self._refresher.start()

    def _refresh(self) -> None:
        while not self._stop.wait(self.stale / 2):
            with contextlib.suppress(OSError):
                os.utime(self.lock_dir)
                os.utime(self.owner_note)

    def release(self) -> None:
        if not self._held:
            return
        self._stop.set()
        if self._refresher is not None:
            self._refresher.join()
            self._refresher = None
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.owner_note)
        with contextlib.suppress(FileNotFoundError):
            os.rmdir(self.lock_dir)
        self._held = False

    def __enter__(self) -> MkdirLock:
        self.acquire()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()
