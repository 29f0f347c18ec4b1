"""Talking to one tmux server: which socket, and running a command line on it.

The socket is chosen once: an explicit ``-L`` name (``$CREWMUX_TMUX_SOCKET`` overrides, tests use
it), else the server we are running inside (``$TMUX``'s socket path), else tmux's default socket,
so a session crewmux makes outside tmux is one the user can simply ``tmux attach`` to.

User text (names, directories, titles) goes through :func:`literal` wherever tmux would expand it
as a format. Every call is one ``tmux`` process; several commands go into one process with ``;``
separators when they belong together (paste + Enter, capture + cursor, a pane's tags). Streams go
through :mod:`backends.tmux_follow`'s control-mode connection. (libtmux is not used here: see the
README's design notes.)
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
from dataclasses import dataclass

from app.core.errors import BackendError, BackendUnavailable, PaneNotFound

INSTALL_FIX = "install tmux (`apt-get install tmux` or `brew install tmux`)"
_GONE = (
    "server exited unexpectedly",
    "can't find pane",
    "can't find window",
    "can't find session",
    "no server running",
    "error connecting",
)


def literal(text: str) -> str:
    """``text`` as tmux must get it where it expands formats, so it stays text.

    tmux expands formats — ``#(command)`` runs a shell command — in session and window names
    (``-s``, ``-n``), start directories (``-c``) and pane titles (``select-pane -T``); ``##`` is
    its literal ``#``. Option values (``set-option``) and ``-e`` values are not expanded.
    """
    return text.replace("#", "##")


@dataclass(frozen=True)
class TmuxServer:
    """One tmux server, addressed by ``-L name`` or ``-S path`` (or neither: the default)."""

    socket_name: str | None = None
    socket_path: str | None = None

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> TmuxServer:
        """``$CREWMUX_TMUX_SOCKET`` (a ``-L`` name), else the ``$TMUX`` server, else the default."""
        env = dict(os.environ) if env is None else env
        name = env.get("CREWMUX_TMUX_SOCKET")
        if name:
            return cls(socket_name=name)
        inside = env.get("TMUX")
        if inside:
            return cls(socket_path=inside.split(",", 1)[0])
        return cls()

    @classmethod
    def from_locator(cls, locator: str | None) -> TmuxServer:
        """The server a stored handle's locator names (see :meth:`locator`).

        A locator naming no socket was recorded outside tmux: the default server, named as
        ``-L default`` — a bare ``tmux`` inside tmux talks to ``$TMUX``'s server, where the same
        pane id (``%0``...) is some other pane (a console inside tmux mirrored its own)."""
        if not locator:
            return cls.from_env()
        doc = json.loads(locator)
        name, path = doc.get("socket"), doc.get("socketPath")
        return cls(socket_name=name or (None if path else "default"), socket_path=path)

    def locator(self, session: str, window: str) -> str:
        """The string stored as the member's ``paneSession``: socket, session and window."""
        return json.dumps(
            {"socket": self.socket_name, "socketPath": self.socket_path, "session": session, "window": window},
            separators=(",", ":"),
        )

    def base_argv(self) -> list[str]:
        """``["tmux", "-L", name]`` or ``["tmux", "-S", path]`` or ``["tmux"]``."""
        binary = shutil.which("tmux")
        if binary is None:
            raise BackendUnavailable(f"tmux is not installed: {INSTALL_FIX}")
        if self.socket_name:
            return [binary, "-L", self.socket_name]
        if self.socket_path:
            return [binary, "-S", self.socket_path]
        return [binary]

    def attach_command(self, session: str) -> str:
        """The exact shell command that attaches the user's terminal to ``session``."""
        parts = ["tmux"]
        if self.socket_name:
            parts += ["-L", self.socket_name]
        elif self.socket_path:
            parts += ["-S", self.socket_path]
        return shlex.join([*parts, "attach", "-t", session])

    def run(self, *args: str, stdin: str | None = None, check: bool = True) -> list[str]:
        """Run ``tmux <args>``; returns stdout lines.

        Raises PaneNotFound when tmux says the target does not exist, BackendError on any
        other failure (when ``check``).
        """
        proc = subprocess.run(
            [*self.base_argv(), *args],
            input=stdin,
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
        if proc.returncode != 0 and check:
            err = proc.stderr.strip()
            if any(g in err for g in _GONE):
                raise PaneNotFound(f"tmux: {err}")
            raise BackendError(f"tmux {' '.join(args[:1])} failed: {err or proc.returncode}")
        out = proc.stdout
        if out.endswith("\n"):
            out = out[:-1]
        return out.split("\n") if out else []

    def has_session(self, session: str) -> bool:
        """True when a session of exactly that name exists on this server."""
        try:
            names = self.run("list-sessions", "-F", "#{session_name}")
        except PaneNotFound:
            return False
        return session in names
