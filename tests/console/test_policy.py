"""Delegate mode is a core policy on the lead's operations, persisted per team, never on teammates."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from app.core import policy
from app.core.errors import PolicyRefused
from app.core.paths import LEAD_NAME

if TYPE_CHECKING:
    from app.core.team import TeamStore


def test_off_by_default_and_everything_allowed(teams: TeamStore, team: str) -> None:
    paths = teams.paths(team)
    assert policy.is_delegate(paths) is False
    for op in ("own_task", "claim_task", "type_into_own_pane", "run_command", "spawn"):
        policy.check(paths, LEAD_NAME, op)


def test_delegate_mode_refuses_the_leads_own_work_with_a_reason(teams: TeamStore, team: str) -> None:
    paths = teams.paths(team)
    policy.set_delegate(paths, True)
    assert json.loads(paths.settings.read_text())["delegateMode"] is True
    for op in ("spawn", "message", "manage_tasks", "approve_plan", "shutdown"):
        policy.check(paths, LEAD_NAME, op)
    with pytest.raises(PolicyRefused, match="cannot own a task"):
        policy.check(paths, LEAD_NAME, "own_task")
    with pytest.raises(PolicyRefused, match="cannot claim"):
        policy.check(paths, LEAD_NAME, "claim_task")
    with pytest.raises(PolicyRefused, match="own pane"):
        policy.check(paths, LEAD_NAME, "type_into_own_pane")
    with pytest.raises(PolicyRefused, match="run commands"):
        policy.check(paths, LEAD_NAME, "run_command")
    with pytest.raises(PolicyRefused):
        policy.check_task_owner(paths, LEAD_NAME)
    policy.check_task_owner(paths, "alice")


def test_never_applies_to_teammates(teams: TeamStore, team: str) -> None:
    paths = teams.paths(team)
    policy.set_delegate(paths, True)
    for op in ("own_task", "claim_task", "type_into_own_pane", "run_command"):
        policy.check(paths, "alice", op)
    assert policy.refusal("bob", "run_command", delegate_mode=True) is None


def test_setting_survives_and_keeps_other_keys(teams: TeamStore, team: str) -> None:
    paths = teams.paths(team)
    paths.settings.write_text(json.dumps({"backend": "tmux"}))
    policy.set_delegate(paths, True)
    doc = json.loads(paths.settings.read_text())
    assert doc == {"backend": "tmux", "delegateMode": True}
    policy.set_delegate(paths, False)
    assert policy.is_delegate(paths) is False


def test_corrupt_settings_file_is_quarantined_and_mode_is_off(teams: TeamStore, team: str) -> None:
    paths = teams.paths(team)
    paths.settings.write_text("{not json")
    assert policy.is_delegate(paths) is False
    assert list(paths.team_dir.glob("crewmux.json.corrupt-*"))
