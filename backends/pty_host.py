"""One teammate on a real pseudo-terminal, its screen kept by a terminal emulator (Ghostty's, else pyte).

The child runs in its own session with the pty as its controlling terminal (so Ctrl-C, SIGWINCH
and job control behave as in a real terminal). Two threads serve every pty in the process:

- the reader (:class:`_Reader`, a ``selectors`` loop) drains each ready pty at once into that
  terminal's bounded backlog and goes back to waiting: a program is never held up by its screen
  (a blocked pty write is what slowed a teammate printing flat out);
- the feeder (:class:`_Feeder`) hands each backlog to the screen in coalesced chunks (everything
  that arrived since the last feed, at most :data:`FEED_CHUNK` at a time, terminals in turn) under
  the terminal's ``lock``, bumps ``version`` and wakes the listeners.

A screen not shown (no listener) and not waited on is fed LAZILY: every :data:`LAZY_PERIOD` in one
batch (at once past :data:`LAZY_MAX` bytes, at end of output, or for a query the program awaits an
answer to). Taking the terminal's ``lock`` (the state judge, the view, a resize) first brings such
a screen up to date, so it is never read behind.

A screen slower than the program (pyte, the fallback, parses ~0.2 MB/s) lets the backlog grow up
to :data:`BACKLOG_MAX`; past that the oldest bytes are dropped (counted in ``bytes_dropped``), so
the screen shows the newest output. With Ghostty's native parser (~50 MB/s) that does not happen.
Scrollback (pyte) is kept by capturing the rows that scroll off the top as plain text and style
runs (``FrozenRow``), not as pyte's dict of ``Char`` namedtuples: 16 teammates' scrollback held
~800k GC-tracked objects, and each full garbage collection walked them all.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import select
import selectors
import signal
import struct
import subprocess
import termios
import threading
import time
from typing import TYPE_CHECKING, Any

from backends.screen_lock import QUERY, ScreenLock
from backends.terminal_screen import Listeners, new_screen

if TYPE_CHECKING:
    from collections.abc import Callable

_log = logging.getLogger(__name__)
_BATCH_PAUSE = 0.004  # seconds the feeder rests after a round, so small writes reach the screen in batches
FEED_CHUNK = 1 << 20  # bytes fed to one screen at a time: other terminals and the console get the lock between
BACKLOG_MAX = 16 << 20  # bytes a terminal holds for a screen that is behind; past it the oldest are dropped
_READ_SIZE = 1 << 16
_WRITE_WAIT = 10.0  # seconds a write waits for the program to read its input
_READS_PER_WAKE = 16  # reads of one pty per select round, so one flood does not starve the others
LAZY_PERIOD = 1.0  # seconds a screen nobody shows or waits on may stay behind its output
LAZY_MAX = 64 << 10  # bytes such a screen may hold back; past it, it is fed at once


def _set_size(fd: int, cols: int, rows: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


#: Reset in every child, as a terminal does: a crewmux started with these ignored (from ``nohup``,
#: a background job of a script) would otherwise hand that on, and Ctrl-C would not reach the agent.
_DEFAULT_SIGNALS = (signal.SIGINT, signal.SIGQUIT, signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU, signal.SIGHUP)


def _make_controlling() -> None:  # runs in the child, after setsid
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)
    for sig in _DEFAULT_SIGNALS:
        signal.signal(sig, signal.SIG_DFL)


class _Reader:
    """The process's one pty reader: a selector loop that drains every registered pty into its backlog."""

    _instance: _Reader | None = None
    _create = threading.Lock()

    def __init__(self) -> None:
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)
        self._selector.register(self._wake_r, selectors.EVENT_READ, None)
        self._pending: list[PtyTerminal] = []
        self._guard = threading.Lock()
        threading.Thread(target=self._loop, name="pty-reader", daemon=True).start()

    @classmethod
    def shared(cls) -> _Reader:
        """The process's reader, started on first use."""
        with cls._create:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def add(self, term: PtyTerminal) -> None:
        """Start reading ``term.master``."""
        with self._guard:
            self._pending.append(term)
        with contextlib.suppress(BlockingIOError):  # a full pipe: the loop is already due to wake
            os.write(self._wake_w, b"x")

    def _loop(self) -> None:
        feeder = _Feeder.shared()
        while True:
            ready = self._selector.select()
            due, now = False, time.monotonic()
            for key, _ in ready:
                term: PtyTerminal | None = key.data
                if term is None:
                    os.read(self._wake_r, 4096)
                    with self._guard:
                        pending, self._pending = self._pending, []
                    for new in pending:
                        self._selector.register(new.master, selectors.EVENT_READ, new)
                    continue
                if not term._drain():
                    self._selector.unregister(term.master)
                due = due or term._due_in(now) == 0  # a screen fed lazily waits for the feeder's own timer
            if due or not feeder.timed:  # a lazily fed backlog: the feeder's timer, once it runs one
                feeder.wake()


class _Feeder:
    """The process's one screen feeder: hands each terminal's backlog to its screen, coalesced."""

    _instance: _Feeder | None = None
    _create = threading.Lock()

    def __init__(self) -> None:
        self._terms: list[PtyTerminal] = []
        self._work = threading.Condition()
        self._due = False
        self.timed = False
        """True while the feeder's timer runs: it will feed the screens held back when they are due."""
        threading.Thread(target=self._loop, name="pty-feeder", daemon=True).start()

    @classmethod
    def shared(cls) -> _Feeder:
        """The process's feeder, started on first use."""
        with cls._create:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def add(self, term: PtyTerminal) -> None:
        with self._work:
            self._terms.append(term)

    def wake(self) -> None:
        """New output (or an end of output) is waiting in some backlog."""
        with self._work:
            self._due = True
            self._work.notify()

    def _loop(self) -> None:
        lazy: float | None = None  # seconds until a held-back screen is due
        while True:
            with self._work:
                self.timed = lazy is not None
                if not self._due:
                    self._work.wait(lazy)
                self._due = False
                terms = list(self._terms)
            more, lazy, now = False, None, time.monotonic()
            for term in terms:
                due = term._due_in(now)
                if due is not None and due > 0:
                    lazy = due if lazy is None else min(lazy, due)
                    continue
                try:
                    more |= due is not None and term._feed_backlog()
                except Exception:  # one screen failing must not stop the feeder all terminals share
                    _log.exception("pty %s: output could not be emulated; chunk dropped", term.pid)
                if term._finished_reading():
                    with self._work:
                        self._terms.remove(term)
                    threading.Thread(target=term._finish, name=f"pty-exit-{term.pid}", daemon=True).start()
            if more:
                with self._work:
                    self._due = True
            else:
                time.sleep(_BATCH_PAUSE)


class PtyTerminal:
    """A child process on a pty, its output fed to its screen by the shared reader thread.

    Attributes the console uses: ``screen`` (see :func:`backends.terminal_screen.new_screen`),
    ``lock`` (guards it), ``version`` (bumped after every feed), ``exit_status`` (None while it
    runs), ``bytes_read`` (drained from the pty), ``bytes_fed`` (parsed by the screen),
    ``bytes_dropped`` (skipped because the screen was more than :data:`BACKLOG_MAX` behind).
    """

    def __init__(self, argv: list[str], *, cwd: str, env: dict[str, str], cols: int = 120, rows: int = 36) -> None:
        """Start ``argv``. Raises OSError when it cannot be started."""
        self.screen: Any = new_screen(cols, rows)
        self.lock = ScreenLock(self._eager, self._catch_up)
        self.changed = threading.Condition(self.lock)  # type: ignore[arg-type]  # acquire/release, as a Lock
        self.version = 0
        self.exit_status: int | None = None
        self.bytes_read = self.bytes_fed = self.bytes_dropped = 0
        self._backlog = bytearray()
        self._backlog_lock = threading.Lock()
        self._eof = False
        self._asked = False  # the backlog holds a query the program waits an answer to
        self._fed_at = 0.0  # when the screen was last fed (monotonic)
        self._waiters = 0  # threads in wait_for: they want every feed at once
        self._done = threading.Event()
        self._listeners = Listeners()
        master, slave = os.openpty()
        _set_size(slave, cols, rows)
        # No COLUMNS/LINES: frozen there, they would outlive the first resize (the pty has the size).
        inherited = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
        full_env = {**inherited, "TERM": "xterm-256color", **env}
        try:
            self.proc = subprocess.Popen(
                argv,
                stdin=slave,
                stdout=slave,
                stderr=slave,
                cwd=cwd,
                env=full_env,
                start_new_session=True,
                preexec_fn=_make_controlling,  # noqa: PLW1509 - needed for TIOCSCTTY after setsid
                close_fds=True,
            )
        finally:
            os.close(slave)
        os.set_blocking(master, False)
        self.master = master
        self.pid = self.proc.pid
        _Feeder.shared().add(self)
        _Reader.shared().add(self)

    def _drain(self) -> bool:
        """Move what the pty holds into the backlog (reader thread); False at end of output."""
        for _ in range(_READS_PER_WAKE):
            try:
                data = os.read(self.master, _READ_SIZE)
            except BlockingIOError:
                return True
            except OSError:  # EIO: the child side is closed
                data = b""
            with self._backlog_lock:
                if not data:
                    self._eof = True
                    return False
                self.bytes_read += len(data)
                if not self._asked and (b"\x1b" in data or b"\x1b" in self._backlog[-16:]):
                    self._asked = self._asked or QUERY.search(bytes(self._backlog[-16:]) + data) is not None
                self._backlog += data
                excess = len(self._backlog) - BACKLOG_MAX
                if excess > 0:  # the screen is far behind: keep the newest output, never block the program
                    del self._backlog[:excess]
                    self.bytes_dropped += excess
            if len(data) < _READ_SIZE:  # drained (a read more would only fail): the selector wakes for more
                return True
        return True

    def _eager(self) -> bool:
        """True while the screen is shown (a listener) or waited on: every feed reaches it at once."""
        return self._waiters > 0 or bool(self._listeners)

    def _due_in(self, now: float) -> float | None:
        """Seconds until the backlog is due at the screen (0: now), None when it is empty."""
        with self._backlog_lock:
            if not self._backlog:
                return None
            if self._eof or self._asked or len(self._backlog) >= LAZY_MAX or self._eager():
                return 0.0
            return max(0.0, self._fed_at + LAZY_PERIOD - now)

    def _feed_locked(self, limit: int) -> bool:
        """Feed the screen up to ``limit`` bytes of the backlog (under ``lock``); True when more is waiting."""
        with self._backlog_lock:
            if not self._backlog:
                return False
            chunk = bytes(self._backlog[:limit])
            del self._backlog[:limit]
            more = bool(self._backlog)
            self._asked = self._asked and more
        self.screen.feed(chunk)
        self.bytes_fed += len(chunk)
        self._fed_at = time.monotonic()
        replies = self.screen.take_replies()
        self.version += 1
        self.changed.notify_all()
        for reply in replies:  # never held up by a program that does not read: the feeder serves every pty
            self.write(reply, wait=0)
        return more

    def _catch_up(self) -> None:
        """Bring a lazily fed screen up to date (under ``lock``, as it is taken). A backlog past
        :data:`LAZY_MAX` is one the feeder is already working through: the reader gets what it fed."""
        if self._backlog and len(self._backlog) <= LAZY_MAX:
            self._feed_locked(LAZY_MAX)

    def _feed_backlog(self) -> bool:
        """Feed the screen what arrived (feeder thread); True when more is waiting."""
        with self.lock.raw:
            fed = self.bytes_fed
            more = self._feed_locked(FEED_CHUNK)
        if self.bytes_fed != fed:
            self._notify()
        return more

    def _finished_reading(self) -> bool:
        """True once the pty reached its end and the screen has every byte."""
        with self._backlog_lock:
            return self._eof and not self._backlog

    def add_listener(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` after each feed and at exit, from the reader thread, outside ``lock``.

        It must be quick and thread-safe (e.g. schedule work on an event loop), and must not raise.
        The screen is brought up to date first (a screen not shown may be behind), and from now
        on every feed reaches it at once.
        """
        with self.lock:
            self._listeners.add(callback)

    def remove_listener(self, callback: Callable[[], None]) -> None:
        """Stop calling ``callback`` (no error when it was not added)."""
        self._listeners.remove(callback)

    def _notify(self) -> None:
        self._listeners.notify()

    def _finish(self) -> None:
        """After the last output: reap the child, record its status, close the pty."""
        status = self.proc.wait()
        with self.lock:
            self.exit_status = status
            self.version += 1
            self.changed.notify_all()
        os.close(self.master)
        self._done.set()
        self._notify()

    def join(self, timeout: float = 5.0) -> None:
        """Wait until the output is drained and ``exit_status`` is set (or ``timeout`` passes)."""
        self._done.wait(timeout)

    @property
    def alive(self) -> bool:
        """True until the child has exited and its output is drained."""
        return self.exit_status is None

    def write(self, data: bytes, *, wait: float = _WRITE_WAIT) -> None:
        """Send raw bytes to the child's terminal (ignored once it has exited), waiting up to
        ``wait`` seconds at a time for a program whose input is full to read it."""
        view = memoryview(data)
        while view and self.exit_status is None:
            try:
                written = os.write(self.master, view)
            except BlockingIOError:  # the program's input is full (a long paste): wait until it reads
                if not select.select([], [self.master], [], wait)[1]:
                    _log.warning("pty %s: input not read for %ss; %d bytes not sent", self.pid, wait, len(view))
                    return
                continue
            except OSError:
                return
            view = view[written:]

    def resize(self, cols: int, rows: int) -> None:
        """Resize the emulated screen and the pty; the kernel sends SIGWINCH to the child."""
        with self.lock:
            self.screen.resize(rows, cols)
            self.version += 1
        if self.exit_status is None:
            try:
                _set_size(self.master, cols, rows)
            except OSError:
                return

    def wait_for(self, predicate: Any, timeout: float = 10.0) -> bool:
        """Wait until ``predicate(screen)`` holds (checked after each feed); returns whether it did."""
        deadline = time.monotonic() + timeout
        with self.lock:
            self._waiters += 1
            try:
                while not predicate(self.screen):
                    left = deadline - time.monotonic()
                    if left <= 0 or (self.exit_status is not None and not predicate(self.screen)):
                        return bool(predicate(self.screen))
                    self.changed.wait(left)
                return True
            finally:
                self._waiters -= 1
