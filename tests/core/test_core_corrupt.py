"""Corrupt files are moved aside to ``<name>.corrupt-<time>``, reported, and work goes on."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.core.atomic import Problem, add_problem_sink
from app.core.errors import TaskNotFound
from app.core.mailbox import Mailbox
from app.core.tasks import TaskStore
from app.core.team import TeamStore


@pytest.fixture
def problems() -> Iterator[list[Problem]]:
    seen: list[Problem] = []
    remove = add_problem_sink(seen.append)
    yield seen
    remove()


def quarantined(path: Path) -> list[Path]:
    return sorted(path.parent.glob(f"{path.name}.corrupt-*"))


def test_corrupt_inbox_quarantined_reported_and_sending_works(
    teams: TeamStore, team: str, problems: list[Problem]
) -> None:
    box = Mailbox(teams, team)
    box.send("bob", "before", sender="alice")
    path = teams.paths(team).inbox("bob")
    path.write_text('[{"from": "alice", "text": "torn')
    assert box.inbox("bob") == []
    (aside,) = quarantined(path)
    assert aside.read_text() == '[{"from": "alice", "text": "torn'
    assert [p.path for p in problems] == [path]
    assert problems[0].quarantined == aside and "bob.json" in problems[0].message
    msg_id = box.send("bob", "after", sender="alice")
    assert [m.msg_id for m in box.inbox("bob")] == [msg_id]
    # An inbox that parses as JSON but not as an inbox (wrong shape) is treated the same way.
    path.write_text('{"not": "a list"}')
    box.send("bob", "again", sender="alice")
    assert len(quarantined(path)) == 2
    assert [m.text for m in box.inbox("bob")] == ["again"]


def test_corrupt_task_file_quarantined_others_still_listed(
    tasks: TaskStore, problems: list[Problem], capfd: pytest.CaptureFixture[str]
) -> None:
    a, b, c = (tasks.create(s).id for s in "abc")
    path = tasks.paths.task(b)
    path.write_text('{"id": "2", "subject": ')
    assert [t.id for t in tasks.list_tasks()] == [a, c]
    (aside,) = quarantined(path)
    assert aside.name.startswith("2.json.corrupt-")
    assert len(problems) == 1 and problems[0].path == path
    with pytest.raises(TaskNotFound):
        tasks.get(b)
    assert tasks.claim(None, "alice").id == a
    assert tasks.create("d").id == "4", "the id of a quarantined task was reused"
    bad_status = tasks.paths.task(c)
    bad_status.write_text(json.dumps({"id": "3", "subject": "c", "status": "exploded"}))
    assert [t.id for t in tasks.list_tasks()] == [a, "4"]
    assert "status" in problems[-1].message


def test_corrupt_team_config_restored_from_last_good_copy(teams: TeamStore, team: str, problems: list[Problem]) -> None:
    path = teams.paths(team).config
    path.write_text("{garbage")
    team_file = teams.load(team)
    assert [m.name for m in team_file.members] == ["team-lead", "alice", "bob"]
    assert len(quarantined(path)) == 1
    assert json.loads(path.read_text())["name"] == "t"
    messages = [p.message for p in problems]
    assert any("corrupt" in m and "config.json" in m for m in messages)
    assert any("restored" in m for m in messages)
    teams.join(team, "carol")
    assert teams.load(team).member("carol") is not None


def test_corrupt_file_warning_on_cli_stderr(cli: Any, home: Path) -> None:
    run = cli
    assert run("team", "create", "w").code == 0
    assert run("team", "join", "bob", "--team", "w").code == 0
    inbox = home / "teams" / "w" / "inboxes" / "bob.json"
    inbox.write_text("not json")
    res = run("msg", "send", "bob", "hi", "--team", "w", "--as", "team-lead")
    assert res.code == 0
    assert "corrupt" in res.err and str(inbox) in res.err
    assert run("msg", "inbox", "--team", "w", "--as", "bob", "--json").out.count('"hi"') == 1
