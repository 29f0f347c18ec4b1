"""One teammate on a real pseudo-terminal, its screen kept by the pyte terminal emulator.

The child runs in its own session with the pty as its controlling terminal (so Ctrl-C, SIGWINCH
and job control behave as in a real terminal). One reader thread per process (:class:`_Reader`,
a ``selectors`` loop over every pty) feeds their output into :class:`TerminalScreen` under each
terminal's ``lock`` and bumps ``version``; the console draws ``screen`` under the same lock. One
thread instead of one per pty: with 16 busy teammates, 16 threads waking on every line fought the
UI thread for the GIL; one thread wakes once for all ready ptys and pauses briefly between rounds
so output arrives in batches. Scrollback is kept by capturing the rows that scroll off the top (cheap), instead of
pyte's ``HistoryScreen`` (about 3x slower per byte here). A row that scrolls off is kept as plain
text and style runs (``FrozenRow``), not as pyte's dict of ``Char`` namedtuples: 16 teammates'
scrollback held ~800k GC-tracked objects, and each full garbage collection walked them all (pauses
of 100-300 ms that stalled output and the UI alike).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import selectors
import signal
import struct
import subprocess
import termios
import threading
import time
from typing import TYPE_CHECKING, Any

from backends.terminal_screen import TerminalScreen, TolerantStream

if TYPE_CHECKING:
    from collections.abc import Callable

_log = logging.getLogger(__name__)
_BATCH_PAUSE = 0.004  # seconds the reader rests after a round, so ptys are read in batches


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
    """The process's one pty reader: a selector loop that feeds every registered terminal."""

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

    @staticmethod
    def _read(term: PtyTerminal) -> bool:
        """One read for ``term``; an emulator error drops that chunk, never the loop all ptys share."""
        try:
            return term._read_once()
        except Exception:
            _log.exception("pty %s: output could not be emulated; chunk dropped", term.pid)
            return True

    def _loop(self) -> None:
        while True:
            ready = self._selector.select()
            for key, _ in ready:
                term: PtyTerminal | None = key.data
                if term is None:
                    os.read(self._wake_r, 4096)
                    with self._guard:
                        pending, self._pending = self._pending, []
                    for new in pending:
                        self._selector.register(new.master, selectors.EVENT_READ, new)
                elif not self._read(term):
                    self._selector.unregister(term.master)
                    threading.Thread(target=term._finish, name=f"pty-exit-{term.pid}", daemon=True).start()
            time.sleep(_BATCH_PAUSE)


class PtyTerminal:
    """A child process on a pty, its output fed to its screen by the shared reader thread.

    Attributes the console uses: ``screen`` (the pyte screen), ``lock`` (guards it), ``version``
    (bumped after every feed), ``exit_status`` (None while it runs).
    """

    def __init__(self, argv: list[str], *, cwd: str, env: dict[str, str], cols: int = 120, rows: int = 36) -> None:
        """Start ``argv``. Raises OSError when it cannot be started."""
        self.screen = TerminalScreen(cols, rows)
        self.stream = TolerantStream(self.screen)
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        self.version = 0
        self.exit_status: int | None = None
        self.bytes_read = 0
        self._done = threading.Event()
        self._listeners: list[Callable[[], None]] = []
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
        self.master = master
        self.pid = self.proc.pid
        _Reader.shared().add(self)

    def _read_once(self) -> bool:
        """Read what the pty holds and feed it (reader thread); returns False at end of output."""
        try:
            data = os.read(self.master, 65536)
        except OSError:
            data = b""
        if not data:
            return False
        with self.lock:
            self.stream.feed(data)
            self.bytes_read += len(data)
            replies, self.screen.replies = self.screen.replies, []
            self.version += 1
            self.changed.notify_all()
        for reply in replies:
            self.write(reply.encode())
        self._notify()
        return True

    def add_listener(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` after each feed and at exit, from the reader thread, outside ``lock``.

        It must be quick and thread-safe (e.g. schedule work on an event loop), and must not raise.
        """
        with self.lock:
            self._listeners.append(callback)

    def remove_listener(self, callback: Callable[[], None]) -> None:
        """Stop calling ``callback`` (no error when it was not added)."""
        with self.lock:
            if callback in self._listeners:
                self._listeners.remove(callback)

    def _notify(self) -> None:
        with self.lock:
            listeners = list(self._listeners)
        for callback in listeners:
            callback()

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

    def write(self, data: bytes) -> None:
        """Send raw bytes to the child's terminal (ignored once it has exited)."""
        view = memoryview(data)
        while view and self.exit_status is None:
            try:
                written = os.write(self.master, view)
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
            while not predicate(self.screen):
                left = deadline - time.monotonic()
                if left <= 0 or (self.exit_status is not None and not predicate(self.screen)):
                    return bool(predicate(self.screen))
                self.changed.wait(left)
            return True
