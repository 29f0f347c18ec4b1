"""The config dir and flags crewmux gives a claude teammate (app/agents/claude_config.py)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from app.agents.claude_config import permission_args, prepare_config_dir, session_uuid, teammate_env
from app.core.errors import BadInput


@pytest.mark.parametrize(
    ("mode", "plan", "flags"),
    [
        ("default", False, ["--permission-mode", "default"]),
        ("auto", False, ["--permission-mode", "auto"]),
        ("acceptEdits", False, ["--permission-mode", "acceptEdits"]),
        ("plan", False, ["--permission-mode", "default"]),  # the lead's own plan mode is not passed on
        ("dontAsk", False, ["--permission-mode", "default"]),
        ("bypassPermissions", False, ["--dangerously-skip-permissions"]),
        ("auto", True, ["--permission-mode", "plan"]),  # a teammate that must get a plan approved
    ],
)
def test_permission_flags_follow_claude_codes_own_mapping(mode: str, plan: bool, flags: list[str]) -> None:
    assert permission_args(mode, plan=plan) == flags


def test_an_unknown_mode_is_refused() -> None:
    with pytest.raises(BadInput):
        permission_args("yolo", plan=False)


def test_the_config_dir_shares_the_team_and_copies_the_users_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    user_home, root, project = tmp_path / "u", tmp_path / "root", tmp_path / "p"
    for d in (user_home / ".claude", root, project):
        d.mkdir(parents=True)
    monkeypatch.setenv("HOME", str(user_home))
    monkeypatch.delenv("CLAUDE_CONFIG_DIR", raising=False)
    monkeypatch.delenv("CLAUDE_SECURESTORAGE_CONFIG_DIR", raising=False)
    theirs = {"hasCompletedOnboarding": True, "projects": {str(project): {"hasTrustDialogAccepted": True}, "/x": {}}}
    (user_home / ".claude.json").write_text(json.dumps(theirs))
    (user_home / ".claude" / "settings.json").write_text("{}")
    before = (user_home / ".claude.json").read_bytes()
    env = teammate_env(root, project)
    config = Path(env["CLAUDE_CONFIG_DIR"])
    assert config == prepare_config_dir(root, project) == root / "claude-config"
    assert env["CLAUDE_SECURESTORAGE_CONFIG_DIR"] == str((user_home / ".claude").resolve())
    assert (config / "teams").resolve() == (root / "teams").resolve()
    assert (config / "tasks").resolve() == (root / "tasks").resolve()
    assert (config / "settings.json").resolve() == (user_home / ".claude" / "settings.json").resolve()
    mine = json.loads((config / ".claude.json").read_text())
    assert mine["hasCompletedOnboarding"] is True
    assert mine["projects"] == {str(project.resolve()): {"hasTrustDialogAccepted": True}}  # only its project
    assert (user_home / ".claude.json").read_bytes() == before  # the user's file is only read
    # On Claude Code's own root nothing is added.
    assert teammate_env(user_home / ".claude", project) == {}


def test_the_parent_session_is_always_a_uuid(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLAUDE_SESSION_ID", raising=False)
    derived = session_uuid(tmp_path, "t")
    assert uuid.UUID(derived) and derived == session_uuid(tmp_path, "t") != session_uuid(tmp_path, "u")
    recorded = str(uuid.uuid4())
    assert session_uuid(tmp_path, "t", recorded) == recorded
    assert session_uuid(tmp_path, "t", "crewmux-t") == derived  # not a UUID: never passed on
