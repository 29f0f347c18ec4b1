"""The liveness monitor: notices dead teammates, gives their tasks back, tells the lead.

A member is dead when its recorded process (pid plus start time) is gone, when the process that
wrote its heartbeat is gone, or when its heartbeat is older than ``stale_after`` seconds. A dead
member is marked inactive, every unfinished task it owned goes back to pending with no owner
(:meth:`TaskStore.release`), and the lead gets a message naming the released tasks. A member
whose heartbeat went stale while its process still exists (hung, stopped) has that process tree
ended first, so it cannot wake later and run a task someone else now owns. Members with
neither a recorded process nor a heartbeat (a Claude Code team seen from outside) are left alone.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.core.errors import CrewmuxError
from app.core.heartbeat import DEFAULT_STALE_AFTER, read_heartbeat
from app.core.liveness import is_alive
from app.core.mailbox import Mailbox
from app.core.paths import LEAD_NAME
from app.core.proctree import terminate_tree, tree
from app.core.tasks import TaskStore

if TYPE_CHECKING:
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


class LivenessMonitor:
    """Checks a team's members; ``run`` in a thread checks every ``interval`` seconds."""

    def __init__(self, teams: TeamStore, team: str, *, stale_after: float = DEFAULT_STALE_AFTER) -> None:
        self.teams = teams
        self.team = team
        self.stale_after = stale_after
        self.found: list[DeadTeammate] = []
        self.members = 0
        """How many members the last check looked at (a caller may space its checks by it)."""

    def check_once(self) -> list[DeadTeammate]:
        """Find members that died since the last check and deal with them."""
        dead: list[DeadTeammate] = []
        members = self.teams.load(self.team).members
        self.members = len(members)
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
        self.found.extend(dead)
        from app.lifecycle.budgets import check_budgets  # budgets are watched on the same beat
        from app.lifecycle.usage import bind_codex_sessions

        with contextlib.suppress(CrewmuxError):  # a member left mid-check: the next beat looks again
            bind_codex_sessions(self.teams, self.team)
            check_budgets(self.teams, self.team)
        return dead

    def run(self, stop: threading.Event, interval: float = 1.0) -> None:
        """Check every ``interval`` s until ``stop`` is set."""
        while not stop.is_set():
            self.check_once()
            stop.wait(interval)

    def start(self, interval: float = 1.0) -> tuple[threading.Thread, threading.Event]:
        """Run in a daemon thread; set the returned event to stop it."""
        stop = threading.Event()
        thread = threading.Thread(target=self.run, args=(stop, interval), name="liveness", daemon=True)
        thread.start()
        return thread, stop
