"""Is a recorded process still the same process? (pid plus create time, via psutil)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import psutil

from app.core.paths import LEAD_NAME

if TYPE_CHECKING:
    from app.core.models import Member, TeamFile

# create_time is a float of seconds; two reads of the same process agree to the microsecond,
# a different process that reused the pid differs by far more than this.
_SAME_START_TOLERANCE = 0.01


def create_time(pid: int) -> float | None:
    """The process's start time, or None when there is no such process."""
    try:
        return float(psutil.Process(pid).create_time())
    except (psutil.NoSuchProcess, psutil.AccessDenied, ValueError):
        return None


def is_alive(pid: int | None, started: float | None = None) -> bool:
    """True when ``pid`` runs, is not a zombie, and (if given) started at ``started``."""
    if not pid or pid <= 0:
        return False
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        return not (started is not None and abs(proc.create_time() - started) > _SAME_START_TOLERANCE)
    except (psutil.NoSuchProcess, psutil.AccessDenied, ValueError):
        return False


def agent_processes() -> dict[str, int]:
    """Running Claude Code teammates by their ``--agent-id`` (``name@team``): agent id -> pid.

    Claude Code starts a pane teammate as ``claude --agent-id N@T ...`` (through
    ``$CLAUDE_CODE_TEAMMATE_COMMAND`` too, which keeps the flags); one scan of the process table.
    """
    found: dict[str, int] = {}
    for proc in psutil.process_iter(["cmdline"]):
        argv = proc.info.get("cmdline") or []
        if "--agent-id" not in argv:
            continue
        i = argv.index("--agent-id")
        try:
            if i + 1 < len(argv) and proc.status() != psutil.STATUS_ZOMBIE:
                found.setdefault(argv[i + 1], proc.pid)
        except psutil.Error:
            continue  # it ended while we looked
    return found


class TeamLiveness:
    """Who of one team runs now: the one rule the console, ``crewmux panes`` and MCP ``team_status`` use.

    * a member crewmux started: its recorded process (pid and start time) runs;
    * Claude Code's lead: the team's ``leadProcess`` (pid, claimed at) runs;
    * a teammate Claude Code started in-process: its lead runs;
    * a teammate Claude Code started in a pane: a ``claude --agent-id <its id>`` process runs.

    ``isActive`` decides nothing: Claude Code sets it false after every turn of a live teammate.
    :meth:`alive` is None when there is nothing to judge by (a crewmux lead; a Claude Code lead of
    a version that records no ``leadProcess``). The process table is scanned at most once.
    """

    def __init__(self, team: TeamFile) -> None:
        self.team = team
        self._agents: dict[str, int] | None = None

    def _lead_process(self) -> bool | None:
        lead = (self.team.model_extra or {}).get("leadProcess")
        if not isinstance(lead, dict) or not isinstance(lead.get("pid"), int):
            return None
        started = create_time(lead["pid"])
        claimed = lead.get("claimedAt")
        # a pid reused after the lead exited started after the lead claimed the team
        if started is None or (isinstance(claimed, int | float) and started > claimed / 1000 + 1):
            return False
        return is_alive(lead["pid"])

    def pid(self, member: Member) -> int | None:
        """The member's process, when one is known and runs."""
        rt = member.crewmux
        if rt is not None and rt.pid:
            return rt.pid if is_alive(rt.pid, rt.pid_create_time) else None
        if member.tmux_pane_id.startswith("%"):
            if self._agents is None:
                self._agents = agent_processes()
            return self._agents.get(member.agent_id)
        return None

    def alive(self, member: Member) -> bool | None:
        """True / False by the rule above; None when nothing tells."""
        rt = member.crewmux
        if rt is not None and rt.pid:
            return is_alive(rt.pid, rt.pid_create_time)
        if member.name == LEAD_NAME or member.tmux_pane_id == "in-process" or member.backend_type == "in-process":
            return self._lead_process()
        if member.tmux_pane_id.startswith("%"):
            return self.pid(member) is not None
        return None
