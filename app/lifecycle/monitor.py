"""The liveness monitor: notices dead teammates, gives their tasks back, tells the lead.

A member is dead when its recorded process (pid plus start time) is gone, when the process that
wrote its heartbeat is gone, or when its heartbeat is older than ``stale_after`` seconds. A dead
member is marked inactive, every unfinished task it owned goes back to pending with no owner
(:meth:`TaskStore.release`), and the lead gets a message naming the released tasks. A member
whose heartbeat went stale while its process still exists (hung, stopped) has that process tree
ended first, so it cannot wake later and run a task someone else now owns. Members with
neither a recorded process nor a heartbeat (a Claude Code team seen from outside) are left alone.

Between checks the monitor does not poll its members: :meth:`LivenessMonitor.wait` sleeps on
an :class:`app.core.exits.ExitWatch` (a pidfd per live member's process and heartbeat writer,
inotify on the team's files), so a death is checked the moment the kernel reports it, and an
idle team costs nothing per member. A timed check remains only where time itself is the change:
a heartbeat that would go stale (at its age limit), a budget or a codex session to bind (every
``interval``). Without pidfds/inotify it checks every ``interval`` as before.
"""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.core.errors import CrewmuxError
from app.core.exits import ExitWatch
from app.core.heartbeat import DEFAULT_STALE_AFTER, read_heartbeat
from app.core.liveness import is_alive
from app.core.mailbox import Mailbox
from app.core.paths import LEAD_NAME
from app.core.proctree import terminate_tree, tree
from app.core.tasks import TaskStore
from app.core.watch import DirWatcher

if TYPE_CHECKING:
    from collections.abc import Callable

    from app.core.exits import Proc
    from app.core.models import Member
    from app.core.team import TeamStore


@dataclass(frozen=True)
class DeadTeammate:
    """One teammate found dead, why, and which tasks went back to pending."""

    name: str
    reason: str
    released: list[str]


def death_reason(teams: TeamStore, team: str, member: Member, stale_after: float) -> str | None:
    """Why ``member`` is dead, or None when it lives (or cannot be told)."""
    rt = member.crewmux
    hb = read_heartbeat(teams.paths(team), member.name)
    if rt is not None and rt.pid and not is_alive(rt.pid, rt.pid_create_time):
        return f"its process {rt.pid} is gone"
    if hb is not None and not hb.process_alive():
        return f"its process {hb.pid} is gone"
    if hb is not None and hb.age() > stale_after:
        return f"no heartbeat for {hb.age():.0f}s"
    return None


def release_dead(teams: TeamStore, team: str, name: str, reason: str) -> DeadTeammate:
    """Mark ``name`` inactive, release its tasks and tell the lead. Returns what was done."""
    teams.set_member(team, name, lambda m: setattr(m, "is_active", False))
    store = TaskStore(teams.paths(team))
    try:
        released = store.release(name)
    finally:
        store.close()
    tasks_text = f"released task(s) {', '.join(released)} back to pending" if released else "it owned no open task"
    Mailbox(teams, team).send(
        LEAD_NAME,
        f"[crewmux] teammate {name} is dead ({reason}); {tasks_text}",
        sender=name,
        summary=f"{name} died",
    )
    return DeadTeammate(name, reason, released)


class _WakingEvent(threading.Event):
    """A stop event that also wakes the thread it stops."""

    def __init__(self, wake: Callable[[], None]) -> None:
        super().__init__()
        self._wake = wake

    def set(self) -> None:
        super().set()
        self._wake()


class LivenessMonitor:
    """Checks a team's members; ``run`` in a thread checks every ``interval`` seconds."""

    def __init__(self, teams: TeamStore, team: str, *, stale_after: float = DEFAULT_STALE_AFTER) -> None:
        self.teams = teams
        self.team = team
        self.stale_after = stale_after
        self.found: list[DeadTeammate] = []
        self.members = 0
        """How many members the last check looked at (a caller may space its checks by it)."""
        self.alive: dict[str, Proc] = {}
        """The processes the last check found alive (a member's own, ``<name> heartbeat``'s writer)."""
        self.stale_at: float | None = None
        """When (epoch) the first heartbeat the last check saw would go stale, if any."""
        self.timed = False
        """Whether the last check saw work due with time alone (a budget, a codex session to bind)."""
        self._watch: ExitWatch | None = None

    def check_once(self) -> list[DeadTeammate]:
        """Find members that died since the last check and deal with them."""
        dead: list[DeadTeammate] = []
        members = self.teams.load(self.team).members
        self.members = len(members)
        self.alive, self.stale_at, self.timed = {}, None, False
        for m in members:
            claude = m.crewmux is not None and m.crewmux.agent_kind == "claude"
            if m.name == LEAD_NAME or (m.is_active is False and not claude):
                continue  # Claude Code marks its teammates inactive after every turn: liveness decides
            if m.crewmux is not None and m.crewmux.ended:
                continue  # ended on purpose (shut down, killed): not a death
            reason = death_reason(self.teams, self.team, m, self.stale_after)
            if reason is not None:
                hb = read_heartbeat(self.teams.paths(self.team), m.name)
                if hb is not None and hb.process_alive():
                    # Hung, not gone: end it, so it cannot wake up and redo a released task.
                    terminate_tree(tree(hb.pid, hb.pid_create_time), grace=1.0)
                dead.append(release_dead(self.teams, self.team, m.name, reason))
            else:
                self._note_alive(m)
        self.found.extend(dead)
        from app.lifecycle.budgets import check_budgets  # budgets are watched on the same beat
        from app.lifecycle.usage import bind_codex_sessions

        with contextlib.suppress(CrewmuxError):  # a member left mid-check: the next beat looks again
            bind_codex_sessions(self.teams, self.team)
            check_budgets(self.teams, self.team)
        return dead

    def _note_alive(self, m: Member) -> None:
        """Remember what to watch until the next check: ``m``'s processes, its heartbeat's age limit."""
        rt = m.crewmux
        if rt is not None and rt.pid:
            self.alive[m.name] = (rt.pid, rt.pid_create_time)
            kind = rt.agent_kind or m.agent_type
            self.timed |= bool(rt.max_tokens or rt.max_usd or rt.max_minutes)
            self.timed |= kind == "codex" and not rt.session_id
        hb = read_heartbeat(self.teams.paths(self.team), m.name)
        if hb is not None:
            self.alive[f"{m.name} heartbeat"] = (hb.pid, hb.pid_create_time)
            at = hb.at + self.stale_after
            self.stale_at = at if self.stale_at is None else min(self.stale_at, at)
        elif rt is not None and rt.agent_kind == "worker":
            self.timed = True  # a worker beats: look again for its first heartbeat

    def exit_watch(self) -> ExitWatch:
        """What :meth:`wait` sleeps on: the team's files (members, budgets) and, once tracked, processes."""
        return ExitWatch([DirWatcher(self.teams.paths(self.team).team_dir, {"config.json", "crewmux.json"})])

    def wait(self, watch: ExitWatch, interval: float, stop: threading.Event | None = None) -> bool:
        """Sleep until the next check is due (see the module docstring); True when woken by an event.

        ``interval``: the period of timed work, and of every check when ``watch`` cannot tell events."""
        if stop is not None and stop.is_set():
            return False
        watch.track(self.alive)
        timeout: float | None = interval
        if watch.event_driven:
            timeout = None if not self.timed else interval
            if self.stale_at is not None:
                # just past the limit, so the beat that is late is late by then
                stale_in = max(0.0, self.stale_at - time.time()) + 0.05
                timeout = stale_in if timeout is None else min(timeout, stale_in)
        woke = watch.wait(timeout)
        watch.take_ended()
        return woke

    def run(self, stop: threading.Event, interval: float = 1.0) -> None:
        """Check until ``stop`` is set (then call :meth:`wake`): at each event, and as :meth:`wait` says."""
        with self.exit_watch() as watch:
            self._watch = watch
            try:
                while not stop.is_set():
                    self.check_once()
                    self.wait(watch, interval, stop)
            finally:
                self._watch = None

    def wake(self) -> None:
        """Interrupt :meth:`run`'s wait (any thread): it looks at its ``stop`` again."""
        watch = self._watch
        if watch is not None:
            watch.wake()

    def start(self, interval: float = 1.0) -> tuple[threading.Thread, threading.Event]:
        """Run in a daemon thread; set the returned event to stop it (it wakes the thread)."""
        stop = _WakingEvent(self.wake)
        thread = threading.Thread(target=self.run, args=(stop, interval), name="liveness", daemon=True)
        thread.start()
        return thread, stop
