"""Wait for a process to end, a watched directory to change, a deadline or a wake-up: no polling.

:class:`ExitWatch` holds one process file descriptor (Linux ``pidfd_open``, 5.3+) per watched
process: the kernel makes it readable when that process ends, whoever its parent is, so a
teammate that dies wakes the waiter at once instead of at the next poll. A pidfd names the
process, not the number: once open (and the start time checked after opening), a reused pid
cannot be mistaken for the teammate. Directories are watched with :class:`DirWatcher` (inotify);
:meth:`ExitWatch.wake` interrupts a wait from another thread (the console quitting).

Where pidfds or inotify cannot be had (macOS, an old kernel, out of watches) :attr:`event_driven`
is False and the caller must poll as before (with pidfds but a polling directory watcher, a death
still wakes the wait at once).
"""

from __future__ import annotations

import contextlib
import os
import selectors
from typing import TYPE_CHECKING

from app.core.liveness import is_alive

if TYPE_CHECKING:
    from collections.abc import Mapping
    from types import TracebackType

    from app.core.watch import DirWatcher

Proc = tuple[int, float | None]
"""A process as recorded: pid and psutil start time (None: not known)."""


def _pidfd(pid: int) -> int | None:
    """A pidfd for ``pid``; None when there is no such process. OSError when pidfds cannot be had."""
    try:
        return os.pidfd_open(pid)
    except ProcessLookupError:
        return None


class ExitWatch:
    """Processes (by key), directories (the watchers given, closed with it) and a wake-up, waited on together."""

    def __init__(self, watchers: list[DirWatcher]) -> None:
        self._selector = selectors.DefaultSelector()
        self._fds: dict[str, tuple[Proc, int]] = {}
        self.ended: set[str] = set()
        """Keys whose process ended (or was gone when watched) since :meth:`take_ended`."""
        self._read, self._write = os.pipe()
        os.set_blocking(self._read, False)
        os.set_blocking(self._write, False)
        self._selector.register(self._read, selectors.EVENT_READ, None)
        self._watchers = watchers
        self.pidfds = hasattr(os, "pidfd_open")
        """Whether a watched process's end wakes :meth:`wait` (else the caller must poll for deaths)."""
        self._dirs_evented = True
        for watcher in watchers:
            fd = watcher.fileno()
            if fd is None:
                self._dirs_evented = False  # a polling watcher: the caller polls for changes
            else:
                self._selector.register(fd, selectors.EVENT_READ, watcher)

    @property
    def event_driven(self) -> bool:
        """Whether every change (a death, a directory's) wakes :meth:`wait`: no poll is needed."""
        return self.pidfds and self._dirs_evented

    def track(self, procs: Mapping[str, Proc]) -> None:
        """Watch exactly ``procs`` from now on: new ones opened, the ones no longer asked for (or
        now recorded with another pid) closed. A process already gone lands in :attr:`ended`."""
        for key in [k for k, (proc, _) in self._fds.items() if procs.get(k) != proc]:
            self._close(key)
        if not self.pidfds:
            return
        for key, proc in procs.items():
            if key in self._fds or key in self.ended:
                continue
            try:
                fd = _pidfd(proc[0])
            except OSError:  # no pidfds here (seccomp, an old kernel): the caller polls
                self.pidfds = False
                return
            if fd is not None and not is_alive(*proc):  # the pid was reused before we opened it
                os.close(fd)
                fd = None
            if fd is None:
                self.ended.add(key)
                continue
            self._fds[key] = (proc, fd)
            self._selector.register(fd, selectors.EVENT_READ, key)

    def _close(self, key: str) -> None:
        _, fd = self._fds.pop(key)
        self._selector.unregister(fd)
        os.close(fd)

    def wait(self, timeout: float | None) -> bool:
        """Block until a watched process ends, a watched directory changes, :meth:`wake` is called
        or ``timeout`` s pass (None: no limit). True when something happened (not the timeout)."""
        if self.ended:
            return True
        woke = False
        for key, _ in self._selector.select(timeout):
            data = key.data
            if data is None:
                with contextlib.suppress(BlockingIOError):
                    while os.read(self._read, 512):
                        pass
                woke = True
            elif isinstance(data, str):
                self._close(data)  # readable for good: watched no more
                self.ended.add(data)
                woke = True
            elif data.changed():
                woke = True
        return woke

    def take_ended(self) -> set[str]:
        """The keys whose process ended since the last call (forgotten: track them again to re-watch)."""
        ended, self.ended = self.ended, set()
        return ended

    def wake(self) -> None:
        """Interrupt a :meth:`wait` (any thread)."""
        with contextlib.suppress(BlockingIOError, OSError):
            os.write(self._write, b"x")

    def close(self) -> None:
        """Close every pidfd, and the directory watchers (this watch owns them)."""
        for key in list(self._fds):
            self._close(key)
        for watcher in self._watchers:
            watcher.close()
        self._selector.close()
        os.close(self._read)
        os.close(self._write)

    def __enter__(self) -> ExitWatch:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
