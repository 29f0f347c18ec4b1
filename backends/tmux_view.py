"""A tmux teammate's screen in the console, fed by the team's one control-mode client.

:class:`TeamFollower` keeps one ``tmux -C`` client (:class:`backends.tmux_follow.TmuxControl`) for a
team and one job thread that talks to it. The console shows one teammate at a time:
:meth:`TeamFollower.show` returns that pane's :class:`FollowedPane` — the same kind of screen an
in-process teammate has (:func:`backends.terminal_screen.new_screen`'s, Ghostty's or pyte's, under ``lock``, a
``version`` bumped on every feed, listeners woken after each feed), so the terminal view draws both
alike. Only the shown pane's output is fed to a screen; the others' ``%output`` is dropped as it
is read, not even unescaped (a hidden teammate is neither emulated nor drawn), and the client is
read at most every :data:`READ_PACE` seconds while output streams (tmux writes each pane's output as
it comes: eight busy panes would wake the reader hundreds of times a second). tmux is not asked to stop sending it:
``refresh-client -A %N:off`` crashed tmux 3.3a's server (segfault, every session lost) in about one
run of five here when the client was behind on a busy pane. When a pane is shown or resized, its
screen is seeded from ``capture-pane -e`` (the text, colors and cursor); the output read after that
capture's reply is fed on top. Output tmux had read but not yet sent when it captured may appear
twice, once, at that moment.

A pane that dies, or the tmux server exiting, is reported through ``on_event`` (from the job or
reader thread) and marks the pane's screen ended (``exit_status``); the threads end quietly.

A program's last words are kept. tmux 3.3a drops the ``%output`` a pane had not yet sent to a
control client when its program exits (lost in 4 of 20 runs on a quiet machine, 15 of 20 under
load), so the shown pane is kept on exit (``remain-on-exit``, marked ``@crewmux-kept``): told of
the exit by a subscription to ``#{pane_dead}``, the follower reads the final screen and closes the
pane as it would have closed itself. A pane no longer shown gets its own setting back (closed if
it died meanwhile); one a killed console left kept is closed when next shown, once read.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from app.core.errors import CrewmuxError, PaneNotFound
from backends.terminal_screen import Listeners, new_screen

if TYPE_CHECKING:
    from collections.abc import Callable

    from backends.tmux import TmuxBackend
    from backends.tmux_follow import TmuxControl

_log = logging.getLogger(__name__)
_SEED_FMT = (
    "#{pane_width}\t#{pane_height}\t#{cursor_x}\t#{cursor_y}\t#{cursor_flag}\t#{pane_dead}\t#{session_name}"
    "\t#{remain-on-exit}\t#{@crewmux-kept}\t#{pane_dead_status}"
)
_KEPT = "@crewmux-kept"
_DEAD_SUB = "crewmux-dead"
"""The control client's subscription that tells when a pane of its session dies (per pane: tmux
3.3a's single-pane form never reports the change)."""
_GONE_NOTICES = ("%layout-change", "%window-close", "%unlinked-window-close", "%window-pane-changed")
READ_PACE = 0.05
"""Seconds the control client's reader lets output gather while it streams (a frame of a focused
view's, a quarter of a watched one's; commands, and the echo of keys typed, are read at once)."""
PENDING_LIMIT = 1 << 20
"""Bytes of a shown pane's output held while its seed is on the way (more: the oldest are dropped)."""


@dataclass(frozen=True)
class FollowEvent:
    """Something the console should say: ``pane`` (a pane id, or None for the whole team) ended.
    ``screen``: that pane's screen as last seen (its last output), when it was shown."""

    pane: str | None
    text: str
    screen: FollowedPane | None = None


class FollowedPane:
    """One tmux pane's emulated screen, kept only while the console shows it.

    The interface the terminal view draws from (as :class:`backends.pty_host.PtyTerminal`'s):
    ``screen``, ``lock``, ``version``, ``add_listener``/``remove_listener``, ``write``, ``resize``,
    ``alive``/``exit_status``.
    """

    def __init__(self, follower: TeamFollower, pane_id: str, cols: int = 80, rows: int = 24) -> None:
        self.follower = follower
        self.pane_id = pane_id
        self.screen: Any = new_screen(cols, rows)
        self.lock = threading.Lock()
        self.version = 0
        self.exit_status: int | None = None
        self.gone_reason: str | None = None
        self.kept = False
        """This follower set ``remain-on-exit`` on the pane (see the module's doc)."""
        self.bytes_read = 0
        self.seeds = 0
        self._listeners = Listeners()
        self._seed_after: int | None = None  # waiting for the capture answered as reply N (None: live)
        self._pending: list[tuple[int, bytes]] = []
        self._pending_size = 0

    @property
    def alive(self) -> bool:
        return self.exit_status is None

    def add_listener(self, callback: Callable[[], None]) -> None:
        self._listeners.add(callback)

    def remove_listener(self, callback: Callable[[], None]) -> None:
        self._listeners.remove(callback)

    def _notify(self) -> None:
        self._listeners.notify()

    def feed(self, data: bytes, replies_done: int) -> None:
        """Output for the pane (reader thread); ``replies_done``: command replies read before it."""
        with self.lock:
            if self._seed_after is not None or not self.seeds:
                self._pending.append((replies_done, data))
                self._pending_size += len(data)
                while self._pending_size > PENDING_LIMIT and len(self._pending) > 1:
                    self._pending_size -= len(self._pending.pop(0)[1])
                return
            self._feed(self.screen, data)
            self.bytes_read += len(data)
            self.version += 1
        self._notify()

    @staticmethod
    def _feed(screen: Any, data: bytes) -> None:
        screen.feed(data)
        screen.take_replies()  # tmux, the pane's real terminal, answers the program's queries itself

    def expect_seed(self) -> None:
        """A capture is on its way: hold the output until it is applied."""
        with self.lock:
            self._seed_after = -1

    def seed(self, cols: int, rows: int, lines: list[str], cursor: tuple[int, int, bool], reply: int) -> None:
        """Start over from a capture (``capture-pane -e`` rows, cursor x, y, shown) answered as
        reply number ``reply``; output read after that reply is fed on top."""
        x, y, shown = cursor
        fresh = new_screen(cols, rows)
        self._feed(fresh, ("\r\n".join(lines[:rows]) + f"\x1b[0m\x1b[{y + 1};{x + 1}H").encode())
        if not shown:
            self._feed(fresh, b"\x1b[?25l")
        fresh.dirty.update(range(rows))
        with self.lock:
            later = [data for n, data in self._pending if n >= reply]
            self._pending, self._pending_size, self._seed_after = [], 0, None
            self.screen = fresh
            for data in later:
                self._feed(fresh, data)
            self.seeds += 1
            self.version += 1
        self._notify()

    def end(self, reason: str) -> None:
        """The pane (or its server) is gone: the screen stays as last seen, with the output held
        for a capture that will not come now fed on top (it follows what the screen shows)."""
        with self.lock:
            if self.exit_status is not None:
                return
            for _, data in self._pending:
                self._feed(self.screen, data)
            self._pending, self._pending_size, self._seed_after = [], 0, None
            self.exit_status = -1
            self.gone_reason = reason
            self.version += 1
        self._notify()

    def write(self, data: bytes) -> None:
        """Send bytes to the pane as typed (``send-keys -H``), off the caller's thread."""
        if data and self.alive:
            self.follower.submit(lambda: self.follower.send_bytes(self.pane_id, data))

    def resize(self, cols: int, rows: int) -> None:
        """Ask for the pane to be ``cols`` x ``rows`` (as tmux allows: see ``TmuxBackend.fit``);
        the screen then takes the pane's real size from a fresh capture."""
        if self.alive:
            self.follower.submit(lambda: self.follower.fit(self, cols, rows))


class TeamFollower:
    """One control-mode client for ``team``, and the one pane of it the console shows."""

    def __init__(self, backend: TmuxBackend, team: str, on_event: Callable[[FollowEvent], None]) -> None:
        self.backend = backend
        self.team = team
        self.on_event = on_event
        self.control: TmuxControl | None = None
        self.shown: FollowedPane | None = None
        self.session: str | None = None
        self._jobs: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self._closing = False
        self._shown_key: bytes | None = None  # the shown pane's id as the client sends it
        self._told_of_exits = False  # the client's subscription reports the panes' exits
        self._thread = threading.Thread(target=self._run, name=f"tmux-follow-{team}", daemon=True)
        self._thread.start()

    @property
    def dropped(self) -> int:
        """Bytes of hidden panes' output read and dropped by the current client (diagnostics)."""
        control = self.control
        return control.dropped if control is not None else 0

    def _keep(self, pane: bytes) -> bool:
        """Reader thread: is this pane's output wanted (the shown one's)?"""
        return pane == self._shown_key

    # -- the job thread ------------------------------------------------------------------
    def submit(self, job: Callable[[], None]) -> None:
        """Run ``job`` on the follower's thread (the only one that sends commands)."""
        if not self._closing:
            self._jobs.put(job)

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                break
            try:
                job()
            except CrewmuxError as exc:
                self._failed(str(exc))
            except Exception as exc:  # a bug must not end the thread every tmux teammate's view needs
                _log.exception("tmux follower for %s: a job failed", self.team)
                self._failed(f"{type(exc).__name__}: {exc}")

    def _failed(self, text: str) -> None:
        shown = self.shown
        if shown is not None:
            self._gone(shown, text)

    def _gone(self, pane: FollowedPane, reason: str) -> None:
        if pane.alive:
            pane.end(reason)
            self.on_event(FollowEvent(pane.pane_id, reason, pane))

    def _connect(self, pane_id: str) -> TmuxControl:
        """The control client, attached (when there is none) to the session that holds ``pane_id``
        on this follower's server: a pane Claude Code placed carries no crewmux tag, and a pane on
        another server is followed through that server's own client."""
        if self.control is None or self.control.closed:
            from backends.tmux_follow import TmuxControl

            found = self.backend.server.run("display-message", "-p", "-t", pane_id, "#{session_name}")
            if not found or not found[0]:
                raise PaneNotFound(f"tmux has no pane {pane_id}")
            self.control = TmuxControl(
                self.backend.server, f"={found[0]}", self._output, on_notice=self._notice, on_closed=self._closed,
                keep=self._keep, pace=READ_PACE,
            )  # fmt: skip
            self.session = found[0]
            try:  # per client, once; tmux < 3.2 has no subscriptions: the shown pane is then not kept on exit
                self.control.command("refresh-client", "-B", f"{_DEAD_SUB}:%*:#{{pane_dead}}")
                self._told_of_exits = True
            except CrewmuxError:
                self._told_of_exits = False
        return self.control

    # -- reader thread callbacks --------------------------------------------------------------
    def _output(self, pane: str, data: bytes) -> None:
        shown = self.shown
        control = self.control
        if shown is not None and shown.pane_id == pane and control is not None:
            shown.feed(data, control.replies_done)

    def _notice(self, line: str) -> None:
        if line.startswith(_GONE_NOTICES):  # panes closed or resized: look at the shown one again
            self.submit(self._check_shown)
        elif line.startswith(f"%subscription-changed {_DEAD_SUB} ") and line.endswith(" : 1"):
            shown = self.shown  # "... $session @window index %pane : 1": a pane's program exited
            if shown is not None and line.split(" : ", maxsplit=1)[0].endswith(f" {shown.pane_id}"):
                self.submit(self._check_shown)

    def _closed(self, reason: str) -> None:
        if self._closing:
            return
        shown = self.shown
        if shown is not None:
            self._gone(shown, reason)
        else:
            self.on_event(FollowEvent(None, reason))

    # -- jobs ----------------------------------------------------------------------------------
    def show(self, pane_id: str | None) -> FollowedPane | None:
        """Show ``pane_id`` from now on (None: nothing). Returns its screen at once; it fills when
        the capture arrives (on the follower's thread)."""
        old = self.shown
        if old is not None and old.pane_id == pane_id and old.alive:
            return old
        self._let_go(old)
        if pane_id is None:
            self.shown, self._shown_key = None, None
            return None
        pane = FollowedPane(self, pane_id)
        pane.expect_seed()
        self.shown, self._shown_key = pane, pane_id.encode()
        self.submit(lambda: self._seed(pane))
        return pane

    def _seed(self, pane: FollowedPane) -> None:
        if self.shown is not pane or not pane.alive:
            return
        control = self._connect(pane.pane_id)
        pane.expect_seed()
        try:
            head = control.command("display-message", "-p", "-t", pane.pane_id, _SEED_FMT)
        except CrewmuxError as exc:
            self._gone(pane, f"the pane is gone ({exc})")
            return
        fields = head[0].split("\t") if head else []
        if len(fields) != 10 or not all(f.isdigit() for f in fields[:6]):
            self._gone(pane, f"the pane is gone (tmux answered {head[:1]!r})")
            return
        cols, rows, x, y, shown, dead = (int(f) for f in fields[:6])
        pane.kept = pane.kept or fields[8] == "1"
        if fields[6] != self.session and not dead:  # the pane lives in another session: follow that one
            control.command("switch-client", "-t", f"={fields[6]}")
            self.session = fields[6]
        if not dead and fields[7] != "on" and self._told_of_exits:
            self._keep_on_exit(control, pane)
        lines = control.command("capture-pane", "-p", "-e", "-t", pane.pane_id)
        pane.seed(cols, rows, lines, (x, y, bool(shown)), control.replies_done)
        if dead:  # kept on exit (by this follower, or a teammate watched at start): its last screen, then the end
            status = f" (status {fields[9]})" if fields[9].isdigit() else ""
            self._gone(pane, f"its program exited{status}")
            if pane.kept:  # kept by crewmux only for its last screen: it closes, as it would have
                with contextlib.suppress(CrewmuxError):  # closed by someone else meanwhile
                    control.command("kill-pane", "-t", pane.pane_id)

    @staticmethod
    def _keep_on_exit(control: TmuxControl, pane: FollowedPane) -> None:
        """Keep the shown pane when its program exits (the client's subscription says when)."""
        control.command("set-option", "-p", "-t", pane.pane_id, _KEPT, "1")
        with contextlib.suppress(CrewmuxError):  # no "Pane is dead" line under the last output (tmux >= 3.3)
            control.command("set-option", "-p", "-t", pane.pane_id, "remain-on-exit-format", "")
        control.command("set-option", "-p", "-t", pane.pane_id, "remain-on-exit", "on")
        pane.kept = True

    def _let_go(self, pane: FollowedPane | None) -> None:
        """``pane`` is no longer shown: if this follower keeps it on exit, give it back (job thread)."""
        if pane is not None and pane.kept and pane.alive:
            self.submit(lambda: self._release(pane))

    def _release(self, pane: FollowedPane) -> None:
        """Unset ``remain-on-exit``, then close ``pane`` if it died before that (after, it closes by
        itself). Not ``if-shell``: its commands' own reply blocks would put the replies out of step."""
        control = self.control
        if control is None or control.closed:
            return
        target = pane.pane_id
        try:
            control.command("set-option", "-p", "-u", "-t", target, "remain-on-exit")
            control.command("set-option", "-p", "-u", "-t", target, _KEPT)
            with contextlib.suppress(CrewmuxError):
                control.command("set-option", "-p", "-u", "-t", target, "remain-on-exit-format")
            if control.command("display-message", "-p", "-t", target, "#{pane_dead}") == ["1"]:
                control.command("kill-pane", "-t", target)
        except CrewmuxError:  # closed already: nothing to give back
            return
        pane.kept = False

    def _check_shown(self) -> None:
        pane = self.shown
        if pane is None or not pane.alive or self.control is None:
            return
        try:
            head = self.control.command(
                "display-message", "-p", "-t", pane.pane_id, "#{pane_width}\t#{pane_height}\t#{pane_dead}"
            )
        except CrewmuxError as exc:
            self._gone(pane, f"the pane is gone ({exc})")
            return
        with pane.lock:
            size = f"{pane.screen.columns}\t{pane.screen.lines}\t0"
        if head[:1] != [size]:
            self._seed(pane)  # resized by tmux (another client, a layout), or its program exited: read it again

    def send_bytes(self, pane_id: str, data: bytes) -> None:
        control = self._connect(pane_id)
        for start in range(0, len(data), 512):
            chunk = data[start : start + 512]
            control.command("send-keys", "-H", "-t", pane_id, *(f"{b:02x}" for b in chunk))

    def fit(self, pane: FollowedPane, cols: int, rows: int) -> None:
        from backends.base import PaneHandle

        if self.shown is not pane or not pane.alive:
            return
        self.backend.fit(PaneHandle("tmux", pane.pane_id, None, None, None), cols, rows)
        self._seed(pane)

    def close(self) -> None:
        """End the control client and the job thread (the shown pane gets its own setting back)."""
        self._let_go(self.shown)
        self._closing = True
        self._jobs.put(None)
        self._thread.join(timeout=5)
        control = self.control
        if control is not None:
            control.close()
