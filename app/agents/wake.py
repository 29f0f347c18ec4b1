"""Wake a waiting teammate when a file it cares about changes, or when something else happens.

A :class:`Waker` runs one :class:`app.core.watch.DirWatcher` over several directories on a
background thread (task files are ``<digits>.json``; lock and temp files are filtered out, so a
process never wakes itself by taking a lock), and other threads (a child process waiter) can
:meth:`Waker.poke` it.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from app.core.atomic import ensure_dir
from app.core.watch import DirWatcher

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path
    from types import TracebackType


def task_file(name: str) -> bool:
    """True for ``<id>.json`` task files."""
    stem, _, ext = name.partition(".")
    return ext == "json" and stem.isdigit()


class Waker:
    """Set :attr:`event` when a watched file changes or :meth:`poke` is called."""

    def __init__(self, watches: list[tuple[Path, Callable[[str], bool]]], *, poll_interval: float = 0.25) -> None:
        self.event = threading.Event()
        self._stop = threading.Event()
        for directory, _ in watches:
            ensure_dir(directory)
        (first_dir, first_filter), *more = watches
        self._watcher = DirWatcher(first_dir, name_filter=first_filter, more=more, poll_interval=poll_interval)
        self._thread = threading.Thread(target=self._run, name="waker", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if self._watcher.wait(None):  # asleep until a change; close() wakes it
                    self.event.set()
            except (OSError, ValueError):  # the watcher was closed under us
                return

    def poke(self) -> None:
        """Wake the waiter from another thread."""
        self.event.set()

    def wait(self, timeout: float | None) -> bool:
        """Block up to ``timeout`` s (None: until woken); True when woken. Clears the event before returning."""
        woke = self.event.wait(None if timeout is None else max(0.0, timeout))
        self.event.clear()
        return woke

    def close(self) -> None:
        self._stop.set()
        self._watcher.wake()
        self._thread.join(timeout=2)
        self._watcher.close()

    def __enter__(self) -> Waker:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
