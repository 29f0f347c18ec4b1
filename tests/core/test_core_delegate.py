"""Delegate mode is enforced in the core: the CLI (a real subprocess) is refused like the console."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from app.core.models import Task

if TYPE_CHECKING:
    from app.core.tasks import TaskStore


def test_cli_refuses_the_lead_owning_tasks_in_delegate_mode(cli: Any, team: str, tasks: TaskStore) -> None:
    tasks.create("write docs")
    tasks.create("ship it")
    on = cli("team", "delegate", team, "on", "--json")
    assert on.code == 0 and json.loads(on.out) == {"team": team, "delegateMode": True}
    claim = cli("task", "claim", "1", "--team", team, "--as", "team-lead")
    assert claim.code == 3 and "cannot claim a task in delegate mode" in claim.err
    lowest = cli("task", "claim", "--team", team, "--as", "team-lead")
    assert lowest.code == 3
    update = cli("task", "update", "2", "--team", team, "--owner", "team-lead", "--json")
    assert update.code == 3 and json.loads(update.err)["type"] == "PolicyRefused"
    assert tasks.get("1").owner is None and tasks.get("2").owner is None
    assert cli("task", "update", "2", "--team", team, "--owner", "alice").code == 0  # others: fine
    assert cli("team", "delegate", team, "off").code == 0
    assert cli("task", "claim", "1", "--team", team, "--as", "team-lead").code == 0
    assert tasks.get("1").owner == "team-lead"


def test_the_lead_cannot_work_a_task_it_owns_in_delegate_mode(cli: Any, team: str, tasks: TaskStore) -> None:
    tasks.create("old job")
    tasks.claim("1", "team-lead")
    assert cli("team", "delegate", team, "on").code == 0
    assert cli("task", "update", "1", "--team", team, "--status", "completed").code == 3
    assert cli("task", "update", "1", "--team", team, "--owner", "bob", "--status", "in_progress").code == 0
    assert tasks.get("1").owner == "bob"
    assert cli("team", "delegate", "nosuchteam", "on").code != 0


def test_availability_is_one_rule_with_its_reason(cli: Any, team: str, tasks: TaskStore) -> None:
    first = tasks.create("first")
    tasks.create("second", blocked_by=[first.id])
    tasks.create("third")
    tasks.update("3", status="in_progress")  # in progress, nobody owns it: not available
    listed = cli("task", "list", "--team", team, "--json")
    assert listed.code == 0
    assert [t["availability"] for t in json.loads(listed.out)] == ["available", "blocked by 1", "in progress"]
    assert Task(id="9", subject="x", owner="bob").availability([]) == "owned"
    assert Task(id="9", subject="x", status="completed").availability(["1"]) == "done"
