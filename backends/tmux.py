"""Teammates in tmux panes.

Where panes go:

* inside tmux (``$TMUX`` set): a dedicated window ``crewmux-<team>`` in the user's session, or,
  with ``beside_lead=True`` (the console's default), splits of the lead's window beside its pane
  (``$TMUX_PANE``), laid out by the spec's layout (``windows``: one window each); the user's own
  panes are never killed and split only in that second mode;
* outside tmux: a detached session ``crewmux-<team>`` on the default socket (or
  ``$CREWMUX_TMUX_SOCKET``), which the user attaches to with :meth:`TmuxBackend.attach_command`.

Every pane crewmux makes carries the pane options ``@crewmux-team`` and ``@crewmux-name`` (its
window is tagged ``@crewmux-window``: a different name, as pane options inherit window ones); a
kill checks them plus the recorded pid and its start time, so a stale ``%N`` (tmux restarts
numbering with each server) never reaches an unrelated pane. Layout changes happen under a
per-team lock, so two spawns at once cannot interleave their splits.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import tempfile
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from app.core.errors import BackendError, PaneNotFound
from app.core.liveness import create_time, is_alive
from app.core.locks import file_lock
from app.core.paths import check_name, sanitize
from app.core.proctree import kill_tree
from app.core.sanitize import for_display, paste_safe
from backends.base import Key, PaneHandle, PaneSpec, ScreenText
from backends.tmux_follow import TmuxControl
from backends.tmux_server import TmuxServer, literal

if TYPE_CHECKING:
    from collections.abc import Callable

    from app.core.models import BackendType

_TMUX_COLORS = {"purple": "magenta", "orange": "colour208", "pink": "colour205", "grey": "colour244"}
_FIELDS = "#{pane_id}\t#{pane_pid}\t#{window_id}\t#{session_name}"
_CLIENT = "#{client_session}\t#{client_control_mode}"
_OWNER = "#{pane_id}\t#{pane_pid}\t#{@crewmux-team}\t#{@crewmux-name}\t#{window_id}\t#{session_name}"


# tmux 3.3 keeps border styles per window, not per pane (``set -p`` falls back to the window), so
# each pane's color is a pane option that the (per-pane evaluated) border format and the active
# border style read.
_BORDER_FORMAT = " #[fg=#{@crewmux-color},bold]#{?@crewmux-title,#{@crewmux-title},#{pane_title}}#[default] "
_ACTIVE_BORDER = "#{?@crewmux-color,fg=#{@crewmux-color},default}"


def tmux_color(color: str | None) -> str:
    """A crewmux color name as tmux understands it (``purple`` → ``magenta``, ...)."""
    if not color:
        return "default"
    return _TMUX_COLORS.get(color, color)


def session_name(team: str) -> str:
    """The session (outside tmux) or window (inside) that holds a team's panes."""
    return f"crewmux-{sanitize(team, 'team name')}"


class TmuxBackend:
    """The tmux backend. Thread-safe; holds no state besides the server address."""

    name: ClassVar[BackendType] = "tmux"
    CAN_FOCUS: ClassVar[bool] = True
    SURVIVES_CONSOLE: ClassVar[bool] = True
    CAN_STYLE: ClassVar[bool] = True

    def __init__(self, server: TmuxServer | None = None, *, beside_lead: bool = False) -> None:
        self.server = server or TmuxServer.from_env()
        self.inside = bool(os.environ.get("TMUX")) and not os.environ.get("CREWMUX_TMUX_SOCKET")
        self.lead_pane = os.environ.get("TMUX_PANE")
        self.beside_lead = beside_lead

    @classmethod
    def check_available(cls) -> None:
        """Raises BackendUnavailable (naming the fix) when tmux is not installed."""
        TmuxServer().base_argv()

    # -- spawning ------------------------------------------------------------------------
    def _lock_path(self, team: str) -> Path:
        sock = self.server.socket_name or (self.server.socket_path or "default").replace("/", "_")
        return Path(tempfile.gettempdir()) / f"crewmux-{os.getuid()}" / f"tmux-{sock}-{sanitize(team)}.layout"

    def _command(self, spec: PaneSpec) -> list[str]:
        """Options placing the command: cwd, env, then the argv (exec'd directly by tmux)."""
        opts = ["-c", literal(spec.cwd or os.getcwd())]
        for key, value in spec.env.items():
            opts += ["-e", f"{key}={value}"]
        argv = spec.argv if len(spec.argv) > 1 else [f"exec {shlex.quote(spec.argv[0])}"]
        return [*opts, "--", *argv]

    def _find_window(self, team: str) -> str | None:
        """The window id holding this team's panes (inside tmux), if one exists."""
        try:
            rows = self.server.run("list-windows", "-a", "-F", "#{window_id}\t#{@crewmux-window}")
        except PaneNotFound:
            return None
        for row in rows:
            wid, _, owner = row.partition("\t")
            if owner == sanitize(team):
                return wid
        return None

    def _team_panes(self, team: str) -> list[list[str]]:
        try:
            rows = self.server.run("list-panes", "-a", "-F", _OWNER)
        except PaneNotFound:
            return []
        return [r.split("\t") for r in rows if r.split("\t")[2:3] == [sanitize(team)]]

    def _in_user_window(self) -> bool:
        return bool(self.inside and self.beside_lead and self.lead_pane)

    def _place(self, spec: PaneSpec) -> list[str]:
        """Create the pane (under the team's layout lock); returns [pane_id, pid, window, session]."""
        session = session_name(spec.team)
        cmd = self._command(spec)
        fmt = ["-P", "-F", _FIELDS]
        if self._in_user_window() and spec.layout != "windows":
            return self._beside_lead(spec, fmt, cmd)
        if self.inside:
            window = self._find_window(spec.team)
            if window is None or spec.layout == "windows":
                target = self.server.run("display-message", "-p", "-t", self.lead_pane or "", "#{session_id}")[0]
                label = spec.name if spec.layout == "windows" else session
                new = ["new-window", "-d", "-t", f"{target}:", "-n", literal(label)]
                return self.server.run(*new, *fmt, *cmd)[0].split("\t")
            return self._split(window, spec, fmt, cmd)
        if not self.server.has_session(session):
            size = ["-x", str(spec.cols), "-y", str(spec.rows)]
            new = ["new-session", "-d", "-s", literal(session), "-n", literal(spec.name)]
            return self.server.run(*new, *size, *fmt, *cmd)[0].split("\t")
        if spec.layout == "windows":
            new = ["new-window", "-d", "-t", f"{session}:", "-n", literal(spec.name)]
            return self.server.run(*new, *fmt, *cmd)[0].split("\t")
        window = self._find_window(spec.team) or f"{session}:"
        return self._split(window, spec, fmt, cmd)

    def _beside_lead(self, spec: PaneSpec, fmt: list[str], cmd: list[str]) -> list[str]:
        """Split the lead's own window and lay it out by ``spec.layout``: the lead's pane (the
        console) stays where it is, the main pane of ``main-vertical`` at half the width."""
        mine = self._team_panes(spec.team)
        target = mine[-1][0] if mine else str(self.lead_pane)
        row = self.server.run("split-window", "-d", "-v" if mine else "-h", "-t", target, *fmt, *cmd)[0].split("\t")
        if spec.layout == "main-vertical" and not mine:
            self.server.run("set-option", "-w", "-t", row[2], "main-pane-width", "50%")
        self.server.run("select-layout", "-t", row[2], spec.layout)
        return row

    def _split(self, window: str, spec: PaneSpec, fmt: list[str], cmd: list[str]) -> list[str]:
        row = self.server.run("split-window", "-d", "-t", window, *fmt, *cmd)[0].split("\t")
        self.server.run("select-layout", "-t", row[2], spec.layout)
        return row

    def spawn(self, spec: PaneSpec) -> PaneHandle:
        """Start ``spec.argv`` in a new pane; returns its handle. Raises BackendError."""
        if not spec.argv:
            raise BackendError("nothing to run: the command is empty")
        check_name(spec.name, "agent name")  # before any tmux call: a refused name never reaches tmux
        sanitize(spec.team, "team name")
        with file_lock(self._lock_path(spec.team)):
            pane_id, pid_text, window, session = self._place(spec)
            team = sanitize(spec.team)
            tags = [
                *(["set-option", "-p", "-t", pane_id, "remain-on-exit", "on", ";"] if spec.keep_on_exit else []),
                "set-option", "-p", "-t", pane_id, "@crewmux-team", team, ";",
                "set-option", "-p", "-t", pane_id, "@crewmux-name", spec.name,
            ]  # fmt: skip
            if not self._in_user_window():  # the user's own window keeps its look and is never ours
                tags += [
                    ";", "set-option", "-w", "-t", window, "@crewmux-window", team, ";",
                    "set-option", "-w", "-t", window, "pane-border-status", "top", ";",
                    "set-option", "-w", "-t", window, "pane-border-format", _BORDER_FORMAT, ";",
                    "set-option", "-w", "-t", window, "pane-active-border-style", _ACTIVE_BORDER,
                ]  # fmt: skip
            self.server.run(*tags)
        pid = int(pid_text)
        handle = PaneHandle(
            backend="tmux",
            pane_id=pane_id,
            pid=pid,
            pid_create_time=create_time(pid),
            locator=self.server.locator(session, window),
        )
        self.set_title(handle, spec.title or spec.name, spec.color)
        return handle

    def attach_command(self, team: str) -> str | None:
        """The command that shows the team's panes, or None inside tmux (they are already there)."""
        return None if self.inside else self.server.attach_command(session_name(team))

    def follow(
        self,
        team: str,
        on_output: Callable[[str, bytes], None],
        *,
        on_notice: Callable[[str], None] | None = None,
        on_closed: Callable[[str], None] | None = None,
        every_pane: bool = False,
    ) -> TmuxControl:
        """Stream the output of the team's panes to ``on_output(pane_id, bytes)`` over one control client
        attached to the session of the team's first pane (``every_pane``: panes started later too).

        Raises PaneNotFound when the team has no pane. Call ``close()`` on the result to stop.
        """
        panes = self._team_panes(team)
        if not panes:
            raise PaneNotFound(f"team {team!r} has no tmux panes to follow")
        mine = {row[0] for row in panes}

        def output(pane: str, data: bytes) -> None:
            if every_pane or pane in mine:
                on_output(pane, data)

        return TmuxControl(self.server, panes[0][5], output, on_notice=on_notice, on_closed=on_closed)

    # -- using a pane --------------------------------------------------------------------
    def server_for(self, handle: PaneHandle) -> TmuxServer:
        """The tmux server ``handle``'s pane lives on: the one its locator records (a teammate the
        CLI started on another server), else this backend's. Whatever mirrors or follows a member
        must address that server: its pane id (``%0``...) also names some pane on every other one."""
        return TmuxServer.from_locator(handle.locator) if handle.locator else self.server

    _server = server_for

    def write(self, handle: PaneHandle, text: str, *, paste: bool = True, enter: bool = True) -> None:
        """Type ``text`` (as a bracketed paste when ``paste``), then Enter as a separate key.

        A paste holds no escape sequence and no control character but newline and tab
        (:func:`app.core.sanitize.paste_safe`), so nothing in it can end the paste early.
        """
        srv, pane = self._server(handle), handle.pane_id
        args: list[str] = []
        if paste:
            text = paste_safe(text)
        if text and paste:
            buf = f"crewmux-{uuid.uuid4().hex[:12]}"
            args += ["set-buffer", "-b", buf, "--", text, ";", "paste-buffer", "-p", "-d", "-b", buf, "-t", pane]
        elif text:
            args += ["send-keys", "-l", "-t", pane, "--", text]
        if enter:
            args += [*([";"] if args else []), "send-keys", "-t", pane, "Enter"]
        if args:
            srv.run(*args)

    def send_key(self, handle: PaneHandle, key: Key) -> None:
        """Send one key (Escape, C-c, Enter, ...)."""
        self._server(handle).run("send-keys", "-t", handle.pane_id, key)

    def screen(self, handle: PaneHandle, *, scrollback: int = 0) -> ScreenText:
        """The visible screen, and up to ``scrollback`` lines above it."""
        fmt = "#{pane_height}\t#{cursor_y}\t#{cursor_x}"
        start = ["-S", f"-{scrollback}"] if scrollback else []
        out = self._server(handle).run(
            "display-message", "-p", "-t", handle.pane_id, fmt, ";", "capture-pane", "-p", "-t", handle.pane_id, *start
        )
        head = out[0].split("\t") if out else []
        if len(head) != 3 or not all(x.isdigit() for x in head):
            # the server went away between the two commands (kill-server): it answers nothing
            raise PaneNotFound(f"tmux pane {handle.pane_id}: no screen (tmux answered {out[:1]!r})")
        height, cy, cx = (int(x) for x in head)
        body = out[1:]
        body += [""] * max(0, height - len(body))  # tmux drops trailing blank rows
        visible, above = body[len(body) - height :], body[: len(body) - height]
        return ScreenText(lines=visible, scrollback=above[-scrollback:] if scrollback else [], cursor=(cy, cx))

    def _owner(self, handle: PaneHandle) -> list[str] | None:
        try:
            row = self._server(handle).run("display-message", "-p", "-t", handle.pane_id, _OWNER)
        except PaneNotFound:
            return None
        parts = row[0].split("\t") if row else []
        return parts if parts and parts[0] == handle.pane_id else None

    def _verified(self, handle: PaneHandle) -> list[str]:
        """The pane's owner row when it is still the recorded teammate's; else PaneNotFound."""
        row = self._owner(handle)
        if row is None:
            raise PaneNotFound(f"tmux pane {handle.pane_id} is gone")
        if not row[2] or (handle.pid is not None and str(handle.pid) != row[1]):
            raise PaneNotFound(f"tmux pane {handle.pane_id} now belongs to another process; left alone")
        if not is_alive(int(row[1]), handle.pid_create_time):
            raise PaneNotFound(f"tmux pane {handle.pane_id}'s process is not the recorded one; left alone")
        return row

    def is_alive(self, handle: PaneHandle) -> bool:
        """True while the pane exists and its process (pid + start time) still runs."""
        try:
            self._verified(handle)
        except PaneNotFound:
            return False
        return True

    def pid(self, handle: PaneHandle) -> int | None:
        """The pane's main process id (as tmux reports it), or None when the pane is gone."""
        row = self._owner(handle)
        return int(row[1]) if row else None

    def kill(self, handle: PaneHandle, *, grace: float = 3.0) -> None:
        """SIGTERM the pane's process tree, SIGKILL after ``grace``, close the pane.

        Raises PaneNotFound (touching nothing) unless the pane is one crewmux made and its process
        is the recorded one.
        """
        row = self._verified(handle)
        kill_tree(int(row[1]), handle.pid_create_time, grace=grace)
        with contextlib.suppress(PaneNotFound):  # it may have closed when its process ended
            self._server(handle).run("kill-pane", "-t", handle.pane_id)

    def end_start_watch(self, handle: PaneHandle, *, died: bool) -> None:
        """After a spawn with ``keep_on_exit``: close the pane of a teammate that died, else let the
        pane close by itself again when its process ends."""
        srv = self._server(handle)
        with contextlib.suppress(PaneNotFound):
            if died:
                srv.run("kill-pane", "-t", handle.pane_id)
            else:
                srv.run("set-option", "-p", "-t", handle.pane_id, "remain-on-exit", "off")

    def focus(self, handle: PaneHandle) -> None:
        """Select the pane's window and the pane itself."""
        self._verified(handle)
        srv = self._server(handle)
        srv.run("select-window", "-t", handle.pane_id, ";", "select-pane", "-t", handle.pane_id)

    def fit(self, handle: PaneHandle, cols: int, rows: int) -> bool:
        """Make the pane ``cols`` x ``rows`` (the console's view) when tmux allows it without
        fighting anyone: the pane is alone in its window and no client shows that session (a
        detached teammate session; its window then keeps this size, ``window-size manual``). A pane
        beside the console, or on a screen someone watches, is left to that layout. The program
        gets SIGWINCH from tmux."""
        fmt = "#{window_panes}\t#{session_name}\t#{pane_width}\t#{pane_height}\t#{window_height}"
        out = self._server(handle).run(
            "display-message", "-p", "-t", handle.pane_id, fmt, ";", "list-clients", "-F", _CLIENT
        )
        row = out[0].split("\t") if out else []
        if len(row) != 5 or row[0] != "1":
            return False
        # a control client (the console following the team, tmux -C) has no screen: it does not count
        if any(client == f"{row[1]}\t0" for client in out[1:]):
            return False
        width, height, window_height = (int(x) for x in row[2:])
        if (width, height) != (cols, rows):  # the window also holds the status line: add its rows
            extra = window_height - height
            self._server(handle).run("resize-window", "-t", handle.pane_id, "-x", str(cols), "-y", str(rows + extra))
        return True

    def set_title(self, handle: PaneHandle, title: str, color: str | None = None) -> None:
        """Set the pane's title and color (pane options shown on its border line)."""
        title = for_display(title, one_line=True)
        self._server(handle).run(
            "select-pane", "-t", handle.pane_id, "-T", literal(title), ";",
            "set-option", "-p", "-t", handle.pane_id, "@crewmux-title", title, ";",
            "set-option", "-p", "-t", handle.pane_id, "@crewmux-color", tmux_color(color),
        )  # fmt: skip

    def list_panes(self, team: str) -> list[PaneHandle]:
        """The live panes crewmux made for ``team`` on this server."""
        handles = []
        for row in self._team_panes(team):
            pid = int(row[1])
            handles.append(
                PaneHandle(
                    backend="tmux",
                    pane_id=row[0],
                    pid=pid,
                    pid_create_time=create_time(pid),
                    locator=self.server.locator(row[5], row[4]),
                )
            )
        return handles
