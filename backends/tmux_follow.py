"""Following tmux panes' output over one control-mode connection (``tmux -C``), no process per refresh.

:class:`TmuxControl` attaches one control client to a session. tmux then streams every pane's
output as ``%output %<pane> <bytes, octal-escaped>`` lines, which are handed to ``on_output``
(pane id, raw bytes) on the reader thread; other notifications (``%layout-change``,
``%window-close``, ...) go to ``on_notice``, and the end of the connection (``%exit``, the server
gone) to ``on_closed`` once. Commands sent through :meth:`TmuxControl.command` are answered on the
same connection in about 0.2 ms instead of a ~3–6 ms ``tmux`` process. A callback that raises is
logged; the reader thread never dies of it.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import re
import subprocess
import threading
from typing import TYPE_CHECKING

from app.core.errors import BackendError, PaneNotFound

if TYPE_CHECKING:
    from collections.abc import Callable

    from backends.tmux_server import TmuxServer

_log = logging.getLogger(__name__)
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
    ) -> None:
        """Attach to ``session``. Raises PaneNotFound when it does not exist."""
        self.on_output = on_output
        self.on_notice = on_notice
        self.on_closed = on_closed
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
        reason = "the tmux server exited"
        block: list[str] | None = None
        for raw in self.proc.stdout:
            line = raw.rstrip(b"\n")
            if block is not None:
                text = line.decode(errors="replace")
                if text.startswith(("%end ", "%error ")):
                    self.replies_done += 1
                    self._replies.put((text.startswith("%end "), block))
                    block = None
                else:
                    block.append(text)
            elif line.startswith(b"%output "):
                _, pane, data = line.split(b" ", 2) if line.count(b" ") >= 2 else (b"", line[8:], b"")
                if self.on_output is not None:
                    self._call(self.on_output, pane.decode(), unescape(data))
            elif line.startswith(b"%begin "):
                block = []
            elif line.startswith(b"%exit"):
                said = line[5:].decode(errors="replace").strip()
                reason = f"tmux ended the connection ({said})" if said else reason
                break
            elif self.on_notice is not None:
                self._call(self.on_notice, line.decode(errors="replace"))
        self.closed = True
        self._replies.put((False, ["control connection closed"]))
        if self.on_closed is not None:
            self._call(self.on_closed, reason)

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
                self.proc.stdin.write(line.encode())
                self.proc.stdin.flush()
                ok, out = self._replies.get(timeout=timeout)
            except (OSError, ValueError, queue.Empty) as exc:
                raise BackendError(f"tmux control connection failed: {exc}") from exc
        if not ok:
            raise BackendError(f"tmux {args[0]} failed: {' '.join(out)}")
        return out

    def close(self) -> None:
        """Detach and end the control client."""
        with contextlib.suppress(OSError, ValueError):
            if self.proc.stdin is not None:
                self.proc.stdin.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._reader.join(timeout=5)
