"""Symlinks and FIFOs planted where crewmux keeps its files: never followed, never a hang."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from app.core.errors import UnsafeFile
from app.core.locks import file_lock, lock_path_for
from app.core.mailbox import Mailbox
from app.core.paths import LEAD_NAME
from app.core.tasks import TaskStore
from app.core.team import TeamStore

FAST = 10.0  # a hang shows as the CLI's subprocess timeout, far below the 30 s lock timeout


def test_a_fifo_inbox_is_refused_at_once_and_holds_no_lock(teams: TeamStore, team: str, cli: object) -> None:
    inbox = teams.paths(team).inbox("alice")
    inbox.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(inbox)
    for _ in range(2):  # the second send would wait 30 s for the lock if the first had kept it
        started = time.monotonic()
        result = cli("msg", "send", "alice", "hi", "--team", team, "--as", "bob", timeout=FAST)  # type: ignore[operator]
        assert result.code == 3, result.err
        assert "is a FIFO, not a regular file" in result.err and f"rm {inbox}" in result.err
        assert time.monotonic() - started < FAST
    ok = cli("msg", "send", "bob", "still works", "--team", team, "--as", "alice", timeout=FAST)  # type: ignore[operator]
    assert ok.code == 0, ok.err


def test_a_fifo_task_or_team_file_is_refused_at_once(teams: TeamStore, team: str, cli: object) -> None:
    tasks_dir = teams.paths(team).tasks_dir
    tasks_dir.mkdir(parents=True, exist_ok=True)
    os.mkfifo(tasks_dir / "3.json")
    result = cli("task", "list", "--team", team, timeout=FAST)  # type: ignore[operator]
    assert result.code == 3 and "3.json is a FIFO" in result.err
    config = teams.paths(team).config
    config.unlink()
    os.mkfifo(config)
    result = cli("team", "show", team, timeout=FAST)  # type: ignore[operator]
    assert result.code == 3 and "config.json is a FIFO" in result.err


def test_a_fifo_lock_sidecar_does_not_hang_the_lock(tmp_path: Path) -> None:
    guarded = tmp_path / "file.json"
    os.mkfifo(lock_path_for(guarded))
    with pytest.raises(UnsafeFile, match="FIFO"), file_lock(guarded, timeout=FAST):
        pass


def test_symlinks_are_never_followed_out_of_the_root(teams: TeamStore, team: str, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    paths = teams.paths(team)
    mail = Mailbox(teams, team)
    # the archive, a lock sidecar and the ready index's file point out of the root
    paths.archive("alice").symlink_to(outside / "archive")
    lock_path_for(paths.inbox("bob")).symlink_to(outside / "lock")
    paths.tasks_dir.mkdir(parents=True, exist_ok=True)
    paths.task_index.symlink_to(outside / "index")
    msg = mail.send("alice", "hello", sender=LEAD_NAME)
    with pytest.raises(UnsafeFile, match="symlink"):
        mail.mark_read("alice", [msg])  # compaction would append to the archive
    with pytest.raises(UnsafeFile, match="symlink"):
        mail.send("bob", "hi", sender=LEAD_NAME)
    store = TaskStore(paths)
    store.create("a task")
    assert store.claim(None, "alice").id == "1"  # the index is a cache: the link is dropped, it is rebuilt
    store.close()
    assert not paths.task_index.is_symlink()
    assert sorted(p.name for p in outside.iterdir()) == []  # nothing created or written out there
    # a symlinked inbox is refused too, and its target is left as it was
    (outside / "victim").write_text("precious")
    paths.inbox("alice").unlink()
    paths.inbox("alice").symlink_to(outside / "victim")
    with pytest.raises(UnsafeFile, match="symlink"):
        mail.send("alice", "again", sender=LEAD_NAME)
    assert (outside / "victim").read_text() == "precious"


def test_team_delete_refuses_a_symlinked_team_folder(teams: TeamStore, tmp_path: Path, cli: object) -> None:
    teams.create("real")
    elsewhere = tmp_path / "elsewhere"
    teams.paths("real").team_dir.rename(elsewhere)
    teams.paths("real").team_dir.symlink_to(elsewhere)
    result = cli("team", "delete", "real", timeout=FAST)  # type: ignore[operator]
    assert result.code == 3, result.err
    assert "is a symlink, not a real folder" in result.err
    assert (elsewhere / "config.json").exists() and teams.paths("real").team_dir.is_symlink()
