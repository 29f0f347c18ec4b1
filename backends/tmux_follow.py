"""Following tmux panes' output over one control-mode connection (``tmux -C``), no process per refresh.

:class:`TmuxControl` attaches one control client to a session. tmux then streams every pane's
output as ``%output %<pane> <bytes, octal-escaped>`` lines, which are handed to ``on_output``
(pane id, raw bytes) on the reader thread; other notifications (``%layout-change``,
``%window-close``, ...) go to ``on_notice``, and the end of the connection (``%exit``, the server
gone) to ``on_closed`` once. Commands sent through :meth:`TmuxControl.command` are answered on the
same connection in about 0.2 ms instead of a ~3–6 ms ``tmux`` process. A callback that raises is
logged; the reader thread never dies of it.

Two options keep the reader cheap when only some panes matter and they print flat out: ``keep``
(given a pane id, as bytes) says whose output to unescape and hand on — the rest is counted in
``dropped`` and skipped as read; ``pace`` (seconds) makes the reader wait that long after handling
what it read, so a stream of small writes is read in a few large reads instead of one wake-up
each. A command cuts that wait short (its reply is read at once, and for :data:`BRISK_S` after it
what it set off, a typed key's echo, is read as it comes), and output after a quiet spell is read
as it comes: only a steady stream waits, at most ``pace``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import re
import subprocess
import threading
import time
from typing import TYPE_CHECKING

from app.core.errors import BackendError, PaneNotFound

if TYPE_CHECKING:
    from collections.abc import Callable

    from backends.tmux_server import TmuxServer

_log = logging.getLogger(__name__)
BRISK_S = 0.1
"""Seconds after a command during which a paced reader reads output as it comes (the echo of keys
sent with ``send-keys`` follows their reply)."""
_OCTAL = re.compile(rb"\\([0-7]{3})")


def _quote(arg: str) -> str:
    """``arg`` as one word of tmux's command language: always quoted (``%0:on`` bare is a syntax
    error, ``#`` starts a comment), single quotes unless it holds one."""
    if "'" not in arg:
        return f"'{arg}'"
    return '"' + arg.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$") + '"'


def unescape(data: bytes) -> bytes:
    """Undo control mode's escaping (``\\ooo`` for backslash and non-printable bytes)."""
    return _OCTAL.sub(lambda m: bytes([int(m.group(1), 8)]), data)


class TmuxControl:
    """One ``tmux -C attach -t <session>`` client: an output stream and a fast command channel."""

    def __init__(
        self,
        server: TmuxServer,
        session: str,
        on_output: Callable[[str, bytes], None] | None = None,
        *,
        on_notice: Callable[[str], None] | None = None,
        on_closed: Callable[[str], None] | None = None,
        keep: Callable[[bytes], bool] | None = None,
        pace: float = 0.0,
    ) -> None:
        """Attach to ``session``. Raises PaneNotFound when it does not exist."""
        self.on_output = on_output
        self.on_notice = on_notice
        self.on_closed = on_closed
        self.keep = keep
        self.pace = pace
        self.dropped = 0
        """Bytes of ``%output`` (as sent, escaped) that ``keep`` refused: skipped unread (diagnostics)."""
        self.reads = 0
        """Reads of the connection so far (diagnostics: how often the reader woke for output)."""
        self._nudge = threading.Event()  # set by a command or close(): the reader stops pacing
        self._sent = 1  # commands written; the attach itself is answered as the first reply
        self._ending = False
        self._brisk = 0.0  # until then (monotonic) no pace: what a command set off (a typed key's echo) comes at once
        self._reason = "the tmux server exited"
        self._block: list[str] | None = None  # the lines of a command's reply being read
        self.replies_done = 0
        """Command replies read so far (reader thread): output read before reply N is older than it."""
        self.closed = False
        self._replies: queue.Queue[tuple[bool, list[str]]] = queue.Queue()
        self._send = threading.Lock()
        self.proc = subprocess.Popen(
            [*server.base_argv(), "-C", "attach-session", "-r", "-t", session],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self._reader = threading.Thread(target=self._read, name=f"tmux-control-{session}", daemon=True)
        self._reader.start()
        ok, lines = self._replies.get(timeout=30)  # the attach itself is answered with a %begin/%end block
        if not ok:
            raise PaneNotFound(f"tmux control mode could not attach to {session}: {' '.join(lines)}")

    def _read(self) -> None:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()  # read in large chunks: a pace lets many lines come in one
        tail = b""
        while True:
            try:
                chunk = os.read(fd, 1 << 16)
            except OSError:
                break
            if not chunk:
                break
            self.reads += 1
            *lines, tail = (tail + chunk).split(b"\n")
            if not all(self._line(line) for line in lines):
                break
            if (
                self.pace > 0
                and self._sent <= self.replies_done
                and not self._ending
                and time.monotonic() > self._brisk
            ):
                self._nudge.wait(self.pace)  # no reply awaited, no command just sent: let the stream gather
            self._nudge.clear()
        self.closed = True
        self._replies.put((False, ["control connection closed"]))
        if self.on_closed is not None:
            self._call(self.on_closed, self._reason)

    def _line(self, line: bytes) -> bool:
        """Handle one line the client sent; False at ``%exit``."""
        block = self._block
        if block is not None:
            text = line.decode(errors="replace")
            if text.startswith(("%end ", "%error ")):
                self.replies_done += 1
                self._replies.put((text.startswith("%end "), block))
                self._block = None
            else:
                block.append(text)
        elif line.startswith(b"%output "):
            _, pane, data = line.split(b" ", 2) if line.count(b" ") >= 2 else (b"", line[8:], b"")
            if self.keep is not None and not self.keep(pane):
                self.dropped += len(data)
            elif self.on_output is not None:
                self._call(self.on_output, pane.decode(), unescape(data))
        elif line.startswith(b"%begin "):
            self._block = []
        elif line.startswith(b"%exit"):
            said = line[5:].decode(errors="replace").strip()
            self._reason = f"tmux ended the connection ({said})" if said else self._reason
            return False
        elif self.on_notice is not None:
            self._call(self.on_notice, line.decode(errors="replace"))
        return True

    @staticmethod
    def _call(callback: Callable[..., None], *args: object) -> None:
        try:
            callback(*args)
        except Exception:  # a listener's bug must not end the one reader every pane shares
            _log.exception("tmux control mode: a listener failed")

    def command(self, *args: str, timeout: float = 10.0) -> list[str]:
        """Run one tmux command on this connection; returns its output lines. Raises BackendError."""
        line = " ".join(_quote(a) for a in args) + "\n"
        with self._send:
            if self.proc.stdin is None or self.proc.poll() is not None or self.closed:
                raise BackendError("tmux control connection is closed")
            try:
                self._sent += 1  # before it is written: the reader sees a reply awaited
                self._brisk = time.monotonic() + BRISK_S
                self.proc.stdin.write(line.encode())
                self.proc.stdin.flush()
                self._nudge.set()  # the reply is read at once, not after a pace
                ok, out = self._replies.get(timeout=timeout)
            except (OSError, ValueError, queue.Empty) as exc:
                raise BackendError(f"tmux control connection failed: {exc}") from exc
        if not ok:
            raise BackendError(f"tmux {args[0]} failed: {' '.join(out)}")
        return out

    def close(self) -> None:
        """Detach and end the control client."""
        self._ending = True
        self._nudge.set()
        with contextlib.suppress(OSError, ValueError):
            if self.proc.stdin is not None:
                self.proc.stdin.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._reader.join(timeout=5)
