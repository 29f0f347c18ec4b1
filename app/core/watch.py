"""Wait for a file in a directory to change, without busy polling.

On Linux this is raw inotify (through ``inotify_simple``): a rename into the directory wakes the
waiter within a millisecond. Elsewhere, or when inotify cannot be had (out of watches), it falls
back to polling the files' stat every ``poll_interval`` seconds. Create the watcher *before*
checking for the thing you wait on, then ``wait()``: nothing that happens in between is missed.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from types import TracebackType

try:  # pragma: no cover - platform dependent
    from inotify_simple import INotify
    from inotify_simple import flags as iflags

    _HAVE_INOTIFY = True
except (ImportError, OSError):  # pragma: no cover
    _HAVE_INOTIFY = False


def _stat_key(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


class DirWatcher:
    """Tells when any of ``names`` (or anything, if None) in ``directory`` is written or moved in."""

    def __init__(self, directory: Path, names: set[str] | None = None, *, poll_interval: float = 0.25) -> None:
        self.directory = directory
        self.names = names
        self.poll_interval = poll_interval
        self._inotify: INotify | None = None
        self._snapshot: dict[str, tuple[int, int, int] | None] = {}
        if _HAVE_INOTIFY and not os.environ.get("CREWMUX_NO_INOTIFY"):
            try:
                ino = INotify()
                mask = iflags.CLOSE_WRITE | iflags.MOVED_TO | iflags.CREATE | iflags.DELETE | iflags.ATTRIB
                ino.add_watch(str(directory), mask)
                self._inotify = ino
            except OSError:
                self._inotify = None
        if self._inotify is None:
            self._snapshot = self._take_snapshot()

    @property
    def uses_events(self) -> bool:
        return self._inotify is not None

    def _take_snapshot(self) -> dict[str, tuple[int, int, int] | None]:
        if self.names is not None:
            return {n: _stat_key(self.directory / n) for n in self.names}
        try:
            return {e.name: _stat_key(Path(e.path)) for e in os.scandir(self.directory)}
        except OSError:
            return {}

    def wait(self, timeout: float) -> bool:
        """Block up to ``timeout`` seconds; True as soon as a watched file changed."""
        deadline = time.monotonic() + max(0.0, timeout)
        if self._inotify is not None:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                events = self._inotify.read(timeout=max(1, int(left * 1000)))
                if any(self.names is None or e.name in self.names for e in events):
                    return True
        while True:
            current = self._take_snapshot()
            if current != self._snapshot:
                self._snapshot = current
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(self.poll_interval, left))

    def close(self) -> None:
        """Stop watching. The descriptor is closed on a helper thread: closing an inotify
        descriptor waits out a kernel grace period (10-20 ms measured), which must not delay
        the caller that was just woken."""
        if self._inotify is not None:
            threading.Thread(target=self._inotify.close, name="crewmux-inotify-close", daemon=True).start()
            self._inotify = None

    def __enter__(self) -> DirWatcher:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
