"""An invisible widget that keeps the console's picture of the team fresh.

Thread workers wait on the team's directories with :class:`DirWatcher` (inotify, or a poll) and
post :class:`TeamChanged` (coalesced); each change, and a slow tick for CPU/liveness, runs one
exclusive refresh worker that reads the files and psutil and posts :class:`Refreshed`. The slow
tick reads the team at most every :func:`tick_interval` — longer for a large team, so what an idle
console spends on it per second does not grow with the team (a change is still read at once).
A tick that finds nothing new posts nothing (the screen does no work), and each such quiet read
doubles the wait before the next one, up to :data:`QUIET_TICKS` doublings; any change read resets it.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from typing import TYPE_CHECKING

from textual import on, work
from textual.widget import Widget
from textual.worker import Worker, WorkerState, get_current_worker

from app.console.messages import Refreshed, TeamChanged, TeamShown
from app.console.model import snapshot
from app.console.receipts import histories, receipt
from app.console.screen_state import screen_states
from app.console.seat import ViewerInbox
from app.core import policy
from app.core.atomic import ensure_dir
from app.core.paths import LEAD_NAME
from app.core.watch import DirWatcher

if TYPE_CHECKING:
    from collections.abc import Collection
    from pathlib import Path

    from app.console.model import Probe, Usage
    from app.console.ops import TeamContext
    from app.core.models import InboxMessage


HISTORY_LIMIT = 500
"""Archived messages a status pass reads per inbox (the newest): its cost and the console's memory
stay flat however long the team has talked; the conversation shows the newest anyway."""


def lead_history(ctx: TeamContext) -> list[tuple[InboxMessage, str | None]]:
    """The lead's messages (and when each was read), archived then current ([] when unreadable). Blocking."""
    with contextlib.suppress(Exception):
        return ctx.mailbox.history(LEAD_NAME, last=HISTORY_LIMIT)
    return []


def conversation(ctx: TeamContext, name: str, lead_messages: list[InboxMessage]) -> list[tuple[str, str, str]]:
    """The lead's exchange with ``name``: (direction, text, receipt), oldest first. Blocking."""
    if name == LEAD_NAME:
        return []
    rows: list[tuple[str, str, str, str]] = [
        (m.timestamp, "received", m.text, "") for m in lead_messages if m.sender == name
    ]
    with contextlib.suppress(Exception):
        known = histories(ctx.mailbox)  # the ledger: typing, delivered, dead (why)
        for m, read_at in ctx.mailbox.history(name, last=HISTORY_LIMIT):
            if m.sender == LEAD_NAME:
                rows.append((m.timestamp, "sent", m.text, receipt(m, read_at, known)))
    rows.sort(key=lambda r: r[0])
    return [(d, t, r) for _, d, t, r in rows]


TICK_PER_MEMBER = 0.125
"""Seconds of slow-tick period per teammate: past 16 teammates (at a 2 s tick) the periodic read
spreads out, so its cost per second stays what 16 teammates cost."""


QUIET_TICKS = 3
"""Doublings of the slow tick while its reads find nothing new: an idle team is read every 16 s
(at a 2 s tick), a busy one every tick; a file change is read at once whatever the tick."""


def tick_interval(tick: float, members: int, quiet: int = 0) -> float:
    """Seconds between two periodic reads of a team of ``members`` (``tick`` for a small team),
    doubled for each of the last ``quiet`` reads that found nothing new (at most QUIET_TICKS)."""
    return max(tick, members * TICK_PER_MEMBER) * float(2 ** min(max(quiet, 0), QUIET_TICKS))


def same_picture(a: Refreshed, b: Refreshed) -> bool:
    """True when ``b`` would show nothing ``a`` did not (the time it was taken aside)."""
    return (
        not b.new_for_lead
        and a.snapshot.rows == b.snapshot.rows
        and a.tasks == b.tasks
        and a.blocked == b.blocked
        and a.conversation == b.conversation
        and a.delegate == b.delegate
    )


TRIM_EVERY = 5.0
"""Seconds between two returns of freed heap memory to the system (glibc's ``malloc_trim``)."""


def return_freed_memory() -> bool:
    """Hand the heap's free pages back to the system (glibc only; False elsewhere). A status pass
    parses hundreds of messages in a worker thread and frees them; without this the console's RSS
    keeps the high-water mark of every arena those threads touched and creeps up with the traffic."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes  # imported on first use: not for the first frame

    try:
        libc = ctypes.CDLL(None)
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return False  # not glibc (musl has no malloc_trim)
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    trim(0)
    return True


def fingerprint(directory: Path) -> dict[str, tuple[int, int]]:
    """``name → (mtime_ns, size)`` of the directory's ``*.json`` files (not dot files: locks, indexes)."""
    out: dict[str, tuple[int, int]] = {}
    with contextlib.suppress(OSError), os.scandir(directory) as entries:
        for e in entries:
            if e.name.endswith(".json") and not e.name.startswith("."):
                with contextlib.suppress(OSError):
                    st = e.stat()
                    out[e.name] = (st.st_mtime_ns, st.st_size)
    return out


class TeamWatcher(Widget):
    """Runs the watcher and refresh workers for ``ctx``; ``selected`` picks the conversation."""

    DEFAULT_CSS = "TeamWatcher { display: none; }"

    def __init__(
        self, ctx: TeamContext, probe: Probe, *, tick: float = 2.0, dead: Collection[str] = (), screens: bool = True
    ) -> None:
        super().__init__()
        self.ctx = ctx
        self.probe = probe
        self.tick = tick
        self.dead = dead  # names the liveness monitor found dead (a live set it keeps filling)
        self.screens = screens  # read typed-into teammates' states off their screens
        self.selected = LEAD_NAME
        self._reading = False
        self._read_again = False
        self._watching = False
        self._dir_watchers: list[DirWatcher] = []  # the watches' waiters (woken to end them)
        self._viewer_inbox = ViewerInbox()
        self._members = 0
        self._read_at = 0.0
        self._quiet = 0  # reads in a row, by the tick, that found nothing new
        self._ticked = False  # the read under way was the tick's (not a change's)
        self._shown: Refreshed | None = None  # the last picture posted
        self._trimmed_at = 0.0
        self._first = True  # the first pass skips the probe and the screens: the first frame sooner
        self._shown_once = False  # the first pass has ended (its picture is being drawn)

    def on_mount(self) -> None:
        self._watching = True
        paths = self.ctx.paths
        for name, directory in (("inboxes", paths.inboxes), ("tasks", paths.tasks_dir), ("team", paths.team_dir)):
            ensure_dir(directory)
            self.watch_dir(name, directory)
        if self.tick > 0:
            self.set_interval(self.tick, self._tick)
        self.refresh_team()

    def on_unmount(self) -> None:
        """End the directory watches: their threads sleep until a change, so wake them."""
        self._watching = False
        for dir_watcher in list(self._dir_watchers):
            dir_watcher.wake()

    @work(thread=True, exit_on_error=False, group="watch", description="watch a team directory")
    def watch_dir(self, what: str, directory: Path) -> None:
        """Post TeamChanged when ``directory``'s files change; asleep (no timer) until they do."""
        worker = get_current_worker()
        with DirWatcher(directory) as watcher:
            self._dir_watchers.append(watcher)
            seen = fingerprint(directory)
            while not worker.is_cancelled and self._watching:
                if watcher.wait(None) and not worker.is_cancelled:
                    now = fingerprint(directory)
                    if now != seen:
                        seen = now
                        self.post_message(TeamChanged(what))

    @on(TeamChanged)
    def _changed(self, event: TeamChanged) -> None:
        event.stop()
        self.refresh_team()

    def _tick(self) -> None:
        """The slow tick (CPU, liveness): a read when one is due for a team this size, this quiet."""
        due = tick_interval(self.tick, self._members, self._quiet) - self.tick / 2
        if time.monotonic() - self._read_at >= due:
            self.refresh_team(ticked=True)

    def refresh_team(self, *, ticked: bool = False) -> None:
        """Read the team again: now, or right after the read under way (never two at once).

        Any read but the tick's (a change, a new selection) ends a quiet spell."""
        if not ticked:
            self._quiet = 0
        if not self._watching:
            return  # on_mount reads the team first
        if self._reading:
            self._read_again = True
            return
        self._reading = True
        self._read_again = False
        self._ticked = ticked
        self._read_at = time.monotonic()
        first, self._first = self._first, False
        self._refresh(self.selected, first)

    @on(Worker.StateChanged)
    def _refresh_done(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "refresh" or event.state not in (
            WorkerState.SUCCESS,
            WorkerState.ERROR,
            WorkerState.CANCELLED,
        ):
            return
        self._reading = False
        if not self._shown_once:
            # The first (light) pass: the full one (CPU, memory, screens) waits until its picture is
            # drawn, when the screen posts TeamShown and asks for it; without a picture, at once.
            self._shown_once = True
            if event.state != WorkerState.SUCCESS:
                self.post_message(TeamShown())
        if self._read_again:  # asked during the read (a change; TeamShown may come before this)
            self.refresh_team()

    @work(thread=True, exit_on_error=False, group="refresh", description="read the team")
    def _refresh(self, selected: str, first: bool = False) -> None:
        """One pass; the ``first`` one reads no process figures, no screens and no token usage (a large
        team's first psutil pass alone took ~0.3 s), so the team shows at once and the full pass follows."""
        viewer, probe, screens = self._viewer_inbox, self.probe, self.screens and not first
        if first:
            probe = _no_usage
        refreshed = read_team(
            self.ctx, selected, probe, dead=self.dead, screens=screens, viewer=viewer, spend=not first
        )
        self._members = len(refreshed.snapshot.rows)
        if time.monotonic() - self._trimmed_at >= TRIM_EVERY:
            self._trimmed_at = time.monotonic()
            return_freed_memory()
        shown = self._shown
        if self._ticked and shown is not None and same_picture(shown, refreshed):
            self._quiet = min(self._quiet + 1, QUIET_TICKS)  # nothing new: nothing posted; the next tick waits longer
            return
        if self._ticked:
            self._quiet = 0
        self._shown = refreshed
        self.post_message(refreshed)


def _no_usage(pid: int) -> Usage | None:
    """The first pass's probe: no figures yet (the table shows ``-``)."""
    return None


def read_team(
    ctx: TeamContext,
    selected: str,
    probe: Probe,
    *,
    dead: Collection[str],
    screens: bool,
    viewer: ViewerInbox,
    spend: bool = True,
) -> Refreshed:
    """One status pass: the team file, tasks, screens, inboxes and processes (and, with ``spend``,
    each one's token usage), read. Blocking."""
    team_file = ctx.teams.load(ctx.team)
    tasks = ctx.tasks.list_tasks()
    blocked = ctx.tasks.blocked(tasks)
    states = screen_states(ctx, team_file) if screens else None
    history = lead_history(ctx)  # read once: idle states, the conversation and a viewer's news use it
    lead_messages = [m for m, _read_at in history]
    snap = snapshot(
        team_file,
        ctx.mailbox,
        tasks,
        probe,
        lead_messages=lead_messages,
        dead=frozenset(dead),
        screens=states,
        spend=spend,
    )
    # The seat's owner is the lead inbox's one consumer (waiting shutdowns still get their answer);
    # the other consoles on the team show what appears without consuming it.
    new = viewer.not_shown(ctx.lead_inbox.take()) if ctx.seat.try_take() else viewer.new(history)
    return Refreshed(
        snapshot=snap,
        tasks=tasks,
        blocked=blocked,
        new_for_lead=new,
        conversation=conversation(ctx, selected, lead_messages),
        delegate=policy.is_delegate(ctx.paths),
    )
