"""Teams: create, list, show, join, leave, delete (refused while a member process lives)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.errors import InvalidName, MemberExists, TeamBusy, TeamExists, TeammateNotFound, TeamNotFound
from app.core.liveness import create_time, is_alive
from app.core.models import MemberRuntime
from app.core.team import TeamStore


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(["sleep", "300"])
    yield proc
    proc.kill()
    proc.wait()


def test_create_makes_the_lead_member_zero(teams: TeamStore) -> None:
    team = teams.create("Alpha", "does things")
    assert team.members[0].name == "team-lead"
    assert team.lead_agent_id == "team-lead@alpha"
    assert teams.paths("Alpha").config.exists()
    on_disk = json.loads(teams.paths("alpha").config.read_text())
    assert on_disk["name"] == "Alpha" and on_disk["leadAgentId"] == "team-lead@alpha"
    assert {"createdAt", "members"} <= on_disk.keys()
    assert on_disk["members"][0]["agentId"] == "team-lead@alpha"
    with pytest.raises(TeamExists):
        teams.create("alpha")


def test_list_show_and_unknown_team(teams: TeamStore) -> None:
    assert teams.list_teams() == []
    teams.create("b")
    teams.create("a")
    assert [t.name for t in teams.list_teams()] == ["a", "b"]
    assert teams.load("a").name == "a"
    with pytest.raises(TeamNotFound):
        teams.load("nope")


def test_join_and_leave(teams: TeamStore, team: str) -> None:
    carol = teams.join(team, "carol", agent_type="worker")
    assert carol.agent_id == "carol@t" and carol.agent_type == "worker" and carol.is_active
    assert [m.name for m in teams.load(team).members] == ["team-lead", "alice", "bob", "carol"]
    assert len({m.color for m in teams.load(team).members[1:]}) == 3
    with pytest.raises(MemberExists):
        teams.join(team, "carol")
    assert teams.leave(team, "carol").name == "carol"
    assert teams.load(team).member("carol") is None
    with pytest.raises(TeammateNotFound):
        teams.leave(team, "carol")
    with pytest.raises(InvalidName):
        teams.leave(team, "team-lead")
    with pytest.raises(TeamNotFound):
        teams.join("ghost-team", "x")


def test_rejoin_replaces_only_a_dead_member(teams: TeamStore, team: str, sleeper: subprocess.Popen[bytes]) -> None:
    live = MemberRuntime(pid=sleeper.pid, pid_create_time=create_time(sleeper.pid))
    teams.join(team, "carol", runtime=live)
    with pytest.raises(MemberExists):
        teams.join(team, "carol", replace_dead=True)
    sleeper.kill()
    sleeper.wait()
    assert teams.join(team, "carol", replace_dead=True).crewmux is None


def test_liveness_uses_create_time(sleeper: subprocess.Popen[bytes]) -> None:
    started = create_time(sleeper.pid)
    assert started is not None
    assert is_alive(sleeper.pid, started)
    assert not is_alive(sleeper.pid, started - 100.0), "a reused pid would count as alive"
    assert not is_alive(None) and not is_alive(-1)


def test_delete_refused_while_member_alive_then_forced(
    teams: TeamStore, team: str, sleeper: subprocess.Popen[bytes]
) -> None:
    runtime = MemberRuntime(pid=sleeper.pid, pid_create_time=create_time(sleeper.pid))
    teams.set_member(team, "alice", lambda m: setattr(m, "crewmux", runtime))
    with pytest.raises(TeamBusy, match="alice"):
        teams.delete(team)
    assert teams.exists(team)
    alive = teams.delete(team, force=True)
    assert [m.name for m in alive] == ["alice"]
    assert not teams.exists(team)
    assert not teams.paths(team).tasks_dir.exists()


def test_delete_allowed_when_recorded_process_is_gone(teams: TeamStore, team: str) -> None:
    proc = subprocess.Popen(["true"])
    proc.wait()
    runtime = MemberRuntime(pid=proc.pid, pid_create_time=1.0)
    teams.set_member(team, "bob", lambda m: setattr(m, "crewmux", runtime))
    assert teams.delete(team) == []
    with pytest.raises(TeamNotFound):
        teams.delete(team)


def test_unknown_fields_in_team_file_survive_a_rewrite(teams: TeamStore, team: str, home: Path) -> None:
    path = teams.paths(team).config
    doc = json.loads(path.read_text())
    doc["futureField"] = {"x": 1}
    doc["members"][1]["newMemberKey"] = "kept"
    path.write_text(json.dumps(doc))
    teams.join(team, "carol")
    again = json.loads(path.read_text())
    assert again["futureField"] == {"x": 1}
    assert again["members"][1]["newMemberKey"] == "kept"
    assert again["members"][-1]["name"] == "carol"


def test_names_that_share_an_inbox_file_are_refused(teams: TeamStore, team: str) -> None:
    teams.join(team, "a-b")
    for twin in ("a b", "A-B", "a_b"):
        with pytest.raises(MemberExists, match="share an inbox"):
            teams.join(team, twin)
    assert [m.name for m in teams.load(team).members][-1] == "a-b"
