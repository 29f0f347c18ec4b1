"""Teammate worktrees: created on spawn --worktree options, kept when dirty at shutdown, listed, removed."""

from __future__ import annotations

import subprocess
from typing import TYPE_CHECKING

import pytest

from app.agents.worktree import create_worktree, describe_leftover, list_worktrees, remove_worktree
from app.core.errors import BadInput
from app.core.models import MemberRuntime
from app.lifecycle.shutdown import shutdown_member

if TYPE_CHECKING:
    from pathlib import Path

    from app.core.team import TeamStore


def _repo(path: Path) -> Path:
    path.mkdir()
    for cmd in (["init", "-q"], ["commit", "-q", "--allow-empty", "-m", "root"]):
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@t", *cmd], cwd=path, check=True, capture_output=True
        )
    return path


def test_worktree_lifecycle(tmp_path: Path, teams: TeamStore, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = _repo(tmp_path / "repo")
    monkeypatch.setenv("CREWMUX_WORKTREES", str(tmp_path / "trees"))
    wt = create_worktree(repo, "team", "alice")
    assert wt.parent == tmp_path / "trees" and (wt / ".git").exists()
    assert create_worktree(repo, "team", "alice") == wt  # reused, not duplicated
    [info] = list_worktrees(repo)
    assert info.branch == "crewmux/team/alice" and not info.dirty
    (wt / "work.txt").write_text("unsaved")
    teams.create("team")
    teams.join("team", "alice", runtime=MemberRuntime(worktree=str(wt)))
    result = shutdown_member(teams, "team", "alice", timeout=1)
    assert any("KEPT" in n and "uncommitted" in n for n in result.notes)
    assert wt.exists()
    with pytest.raises(BadInput, match="uncommitted"):
        remove_worktree(repo, str(wt))
    remove_worktree(repo, str(wt), force=True)
    assert not wt.exists() and list_worktrees(repo) == []
    assert "already gone" in describe_leftover(str(wt))


def test_worktree_needs_a_repo(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="git repository"):
        create_worktree(tmp_path, "t", "a")
