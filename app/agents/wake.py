"""Wake a waiting teammate when a file it cares about changes, or when something else happens.

One inotify instance watches several directories, filtered by a name predicate (task files are
``<digits>.json``; lock files and temp files are ignored, so a process never wakes itself by
taking a lock). Other threads (a child process waiter) can :meth:`Waker.poke` it. Without inotify
it falls back to comparing the matching files' stat every ``poll_interval`` seconds.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path
    from types import TracebackType

try:  # pragma: no cover - platform dependent
    from inotify_simple import INotify
    from inotify_simple import flags as iflags

    _HAVE_INOTIFY = True
except (ImportError, OSError):  # pragma: no cover
    _HAVE_INOTIFY = False


def task_file(name: str) -> bool:
    """True for ``<id>.json`` task files."""
    stem, _, ext = name.partition(".")
    return ext == "json" and stem.isdigit()


class Waker:
    """Set :attr:`event` when a watched file changes or :meth:`poke` is called."""

    def __init__(self, watches: list[tuple[Path, Callable[[str], bool]]], *, poll_interval: float = 0.25) -> None:
        self.event = threading.Event()
        self._watches = watches
        self._poll_interval = poll_interval
        self._stop = threading.Event()
        self._inotify: INotify | None = None
        self._wd: dict[int, Callable[[str], bool]] = {}
        if _HAVE_INOTIFY and not os.environ.get("CREWMUX_NO_INOTIFY"):
            try:
                ino = INotify()
                mask = iflags.CLOSE_WRITE | iflags.MOVED_TO | iflags.CREATE | iflags.DELETE
                for directory, pred in watches:
                    directory.mkdir(parents=True, exist_ok=True)
                    self._wd[ino.add_watch(str(directory), mask)] = pred
                self._inotify = ino
            except OSError:
                self._inotify = None
        self._thread = threading.Thread(target=self._run, name="waker", daemon=True)
        self._thread.start()

    def _snapshot(self) -> dict[str, tuple[int, int, int]]:
        snap: dict[str, tuple[int, int, int]] = {}
        for directory, pred in self._watches:
            try:
                entries = list(os.scandir(directory))
            except OSError:
                continue
            for e in entries:
                if pred(e.name):
                    try:
                        st = e.stat()
                    except OSError:
                        continue
                    snap[e.path] = (st.st_ino, st.st_mtime_ns, st.st_size)
        return snap

    def _run(self) -> None:
        if self._inotify is not None:
            ino = self._inotify
            while not self._stop.is_set():
                try:
                    events = ino.read(timeout=500)
                except (OSError, ValueError):
                    return
                if any(e.wd in self._wd and self._wd[e.wd](e.name) for e in events):
                    self.event.set()
            return
        last = self._snapshot()
        while not self._stop.wait(self._poll_interval):
            now = self._snapshot()
            if now != last:
                last = now
                self.event.set()

    def poke(self) -> None:
        """Wake the waiter from another thread."""
        self.event.set()

    def wait(self, timeout: float) -> bool:
        """Block up to ``timeout`` s; True when woken. Clears the event before returning."""
        woke = self.event.wait(max(0.0, timeout))
        self.event.clear()
        return woke

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        if self._inotify is not None:
            self._inotify.close()
            self._inotify = None

    def __enter__(self) -> Waker:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
