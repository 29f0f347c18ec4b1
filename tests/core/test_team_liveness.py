"""One liveness rule (``app.core.liveness.TeamLiveness``) for members crewmux did not start.

Claude Code's own teammates carry no crewmux process record and are marked ``isActive: false``
after every turn; they are judged by their process (``claude --agent-id N@T``), in-process ones
and the lead by the team's ``leadProcess``. The real Claude Code doing this is in
``tests/claudecode/test_claude_cohost.py``; here the processes are stand-ins with the same argv.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from app.core.liveness import TeamLiveness, agent_processes, create_time
from app.core.models import Member, TeamFile
from app.mcp.tools import TeamTools

if TYPE_CHECKING:
    from app.core.team import TeamStore


@pytest.fixture
def teammate() -> Iterator[subprocess.Popen[bytes]]:
    """A process whose argv is a Claude Code pane teammate's (``--agent-id carol@t``)."""
    argv = [sys.executable, "-c", "import sys; sys.stdin.read()", "--agent-id", "carol@t", "--agent-name", "carol"]
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE)
    yield proc
    proc.kill()
    proc.wait()


def _claude_members(teams: TeamStore, lead_pid: int, claimed_ms: int) -> None:
    """Make team ``t`` look as Claude Code keeps it: a leadProcess, teammates with no crewmux record."""

    def change(tf: TeamFile) -> None:
        extra = tf.model_extra
        assert extra is not None
        extra["leadProcess"] = {"pid": lead_pid, "pidSpace": "x", "claimedAt": claimed_ms}
        for name, pane in (("carol", "%7"), ("dave", "in-process"), ("erin", "%8")):
            tf.members.append(Member(agent_id=f"{name}@t", name=name, tmux_pane_id=pane, is_active=False))

    teams.update("t", change)


def test_claude_codes_teammates_are_judged_by_their_process_not_isactive(
    teams: TeamStore, team: str, teammate: subprocess.Popen[bytes]
) -> None:
    started = create_time(os.getpid())
    assert started is not None
    _claude_members(teams, os.getpid(), int(started * 1000) + 500)
    deadline = time.monotonic() + 30
    while "carol@t" not in agent_processes():
        assert time.monotonic() < deadline, "the stand-in never showed in the process table"
        time.sleep(0.05)
    live = TeamLiveness(teams.load(team))
    tf = teams.load(team)
    carol, dave, erin, lead = (tf.member(n) for n in ("carol", "dave", "erin", "team-lead"))
    assert carol and dave and erin and lead
    assert live.alive(carol) is True and live.pid(carol) == teammate.pid  # isActive false, yet running
    assert live.alive(dave) is True  # in-process: lives while its lead does
    assert live.alive(erin) is False  # a pane teammate with no process
    assert live.alive(lead) is True
    assert live.alive(tf.member("alice") or lead) is None  # crewmux's member, never started: nothing tells

    status = {m["name"]: m["running"] for m in TeamTools(teams, team, "alice").team_status()["members"]}
    assert status["carol"] is True and status["dave"] is True and status["erin"] is False

    teammate.kill()
    teammate.wait()
    again = {m["name"]: m["running"] for m in TeamTools(teams, team, "alice").team_status()["members"]}
    assert again["carol"] is False


def test_a_reused_lead_pid_is_not_the_lead(teams: TeamStore, team: str) -> None:
    started = create_time(os.getpid())
    assert started is not None
    _claude_members(teams, os.getpid(), int(started * 1000) - 60_000)  # claimed before this process began
    tf = teams.load(team)
    dave, lead = tf.member("dave"), tf.member("team-lead")
    assert dave and lead
    live = TeamLiveness(tf)
    assert live.alive(lead) is False and live.alive(dave) is False
