"""Wait for files in directories to change, without busy polling.

On Linux this is raw inotify (through ``inotify_simple``): a rename into a watched directory
wakes the waiter within a millisecond. Elsewhere (macOS, BSD), or when raw inotify cannot be had
(out of watches), it is ``watchfiles``' native watcher (FSEvents, kqueue, inotify) with a 5 ms
debounce. Only if that cannot start either does it poll the matching files' stat every
``poll_interval`` seconds. ``$CREWMUX_WATCHER`` (``inotify``, ``watchfiles``, ``poll``) picks one
outright. Create the watcher *before* checking for the thing you wait on, then ``wait()``:
nothing that happens in between is missed.

A watch is a directory and a filter on file names, so a process never wakes itself by taking a
lock (``.<name>.flock`` files are written and closed on every lock).
"""

from __future__ import annotations

import contextlib
import math
import os
import select
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from types import TracebackType

    from watchfiles._rust_notify import RustNotify

    NameFilter = Callable[[str], bool]

try:  # pragma: no cover - platform dependent
    from inotify_simple import INotify
    from inotify_simple import flags as iflags

    _HAVE_INOTIFY = True
except (ImportError, OSError):  # pragma: no cover
    _HAVE_INOTIFY = False


# watchfiles: return a batch once no new change came for STEP ms (at most DEBOUNCE ms after the
# first); measured send -> wake p50 ~9 ms / p99 ~25 ms (its default 1,600 ms debounce: ~0.8 s).
_DEBOUNCE_MS, _STEP_MS = 5, 2
_LONGEST_MS = 3_600_000  # the longest single poll of an unbounded wait (then it polls again)


def _ms(left: float) -> int:
    """``left`` seconds (may be infinite) as a poll timeout in ms: at least 1, at most _LONGEST_MS."""
    return _LONGEST_MS if left * 1000 >= _LONGEST_MS else max(1, math.ceil(left * 1000))


def _any_name(name: str) -> bool:
    return True


def _chosen() -> str:
    """``$CREWMUX_WATCHER`` when it names a watcher, else ``auto``."""
    wanted = os.environ.get("CREWMUX_WATCHER", "").strip().lower()
    return wanted if wanted in ("inotify", "watchfiles", "poll") else "auto"


class DirWatcher:
    """Tells when a file matching a watch's filter is written, created, moved in or removed.

    ``DirWatcher(directory, names)`` watches one directory for the given names (any name when
    None), or for the names ``name_filter`` accepts; ``more`` adds further ``(directory, filter)``
    watches (each directory once) to the same waiter.
    """

    def __init__(
        self,
        directory: Path,
        names: set[str] | None = None,
        *,
        name_filter: NameFilter | None = None,
        more: Sequence[tuple[Path, NameFilter]] = (),
        poll_interval: float = 0.25,
    ) -> None:
        first: NameFilter = name_filter or (_any_name if names is None else names.__contains__)
        self._watches: list[tuple[Path, NameFilter]] = [(directory, first), *more]
        self.poll_interval = poll_interval
        self._inotify: INotify | None = None
        self._rust: RustNotify | None = None
        self._resolved: list[tuple[Path, NameFilter]] = []
        self._filters: dict[int, NameFilter] = {}
        self._snapshot: dict[str, tuple[int, int, int]] = {}
        self._woken = threading.Event()
        self._wake_r, self._wake_w = os.pipe()  # :meth:`wake` writes here: a wait's poll returns
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._poll = select.poll()
        chosen = _chosen()
        if _HAVE_INOTIFY and chosen in ("auto", "inotify"):
            try:
                ino = INotify()
                mask = iflags.CLOSE_WRITE | iflags.MOVED_TO | iflags.CREATE | iflags.DELETE | iflags.ATTRIB
                for watched, accepts in self._watches:
                    self._filters[ino.add_watch(str(watched), mask)] = accepts
                self._inotify = ino
                self._poll.register(ino.fileno(), select.POLLIN)
                self._poll.register(self._wake_r, select.POLLIN)
            except OSError:
                self._inotify = None
        if self._inotify is None and chosen in ("auto", "watchfiles"):
            self._resolved = [(watched.resolve(), accepts) for watched, accepts in self._watches]
            try:  # (debug, force_polling, poll_delay_ms, recursive, ignore_permission_denied)
                from watchfiles._rust_notify import RustNotify  # only where it is the watcher

                self._rust = RustNotify([str(w) for w, _ in self._watches], False, False, 300, False, False)
            except (OSError, RuntimeError):
                self._rust = None
        if self._inotify is None and self._rust is None:
            self._snapshot = self._take_snapshot()

    @property
    def kind(self) -> str:
        """Which watcher runs: ``inotify``, ``watchfiles`` or ``poll``."""
        return "inotify" if self._inotify is not None else "watchfiles" if self._rust is not None else "poll"

    @property
    def uses_events(self) -> bool:
        return self.kind != "poll"

    def _matches(self, changes: object) -> bool:
        """Whether a watchfiles batch holds a change to a watched name."""
        if not isinstance(changes, set):
            return False  # "timeout", "signal" or "stop"
        for _change, raw in changes:
            path = Path(raw)
            parent = path.parent.resolve()  # the native watcher may report the real path (macOS /private/tmp)
            if any(parent == watched and accepts(path.name) for watched, accepts in self._resolved):
                return True
        return False

    def _take_snapshot(self) -> dict[str, tuple[int, int, int]]:
        snap: dict[str, tuple[int, int, int]] = {}
        for watched, accepts in self._watches:
            try:
                entries = list(os.scandir(watched))
            except OSError:
                continue
            for entry in entries:
                if accepts(entry.name):
                    try:
                        st = entry.stat()
                    except OSError:
                        continue
                    snap[entry.path] = (st.st_ino, st.st_mtime_ns, st.st_size)
        return snap

    def wait(self, timeout: float | None) -> bool:
        """Block up to ``timeout`` seconds (None: until a change or :meth:`wake`); True as soon as
        a watched file changed, False at the timeout or when woken."""
        deadline = math.inf if timeout is None else time.monotonic() + max(0.0, timeout)
        if self._inotify is not None:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                ready = dict(self._poll.poll(_ms(left)))
                if self._wake_r in ready:
                    self._drain_wake()
                    return False
                if ready and self.changed():
                    return True
        if self._rust is not None:
            while True:
                left = deadline - time.monotonic()
                if left <= 0 or self._woken.is_set():
                    self._woken.clear()
                    return False
                if self._matches(self._rust.watch(_DEBOUNCE_MS, _STEP_MS, _ms(left), self._woken)):
                    return True
        while True:
            current = self._take_snapshot()
            if current != self._snapshot:
                self._snapshot = current
                return True
            left = deadline - time.monotonic()
            if left <= 0 or self._woken.wait(min(self.poll_interval, left)):
                self._woken.clear()
                return False

    def wake(self) -> None:
        """Make a :meth:`wait` under way (or the next one) return False now. Any thread."""
        self._woken.set()
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"x")

    def _drain_wake(self) -> None:
        self._woken.clear()
        with contextlib.suppress(OSError):
            while os.read(self._wake_r, 512):
                pass

    def fileno(self) -> int | None:
        """The inotify descriptor (readable when events are queued), for an event loop to wait on;
        None when this watcher polls. Follow a readable descriptor with :meth:`changed`."""
        return self._inotify.fileno() if self._inotify is not None else None

    def changed(self) -> bool:
        """Without blocking: True if a watched file changed since the last look (events drained)."""
        if self._inotify is not None:
            return any(e.wd in self._filters and self._filters[e.wd](e.name) for e in self._inotify.read(timeout=0))
        if self._rust is not None:
            return self._matches(self._rust.watch(1, 1, 1, None))
        current = self._take_snapshot()
        if current != self._snapshot:
            self._snapshot = current
            return True
        return False

    def close(self) -> None:
        """Stop watching. The descriptor is closed on a helper thread: closing an inotify
        descriptor waits out a kernel grace period (10-20 ms measured), which must not delay
        the caller that was just woken."""
        if self._inotify is not None:
            threading.Thread(target=self._inotify.close, name="crewmux-inotify-close", daemon=True).start()
            self._inotify = None
        if self._rust is not None:
            self._rust.close()
            self._rust = None
        for fd in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._wake_r = self._wake_w = -1

    def __enter__(self) -> DirWatcher:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
