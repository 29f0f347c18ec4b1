"""A root another user could write to is refused, with the fix; crewmux's own folders are 0700."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest

from app.core.heartbeat import beat
from app.core.locks import file_lock
from app.core.team import TeamStore


def test_a_group_or_world_writable_root_is_refused(home: Path, cli: Any) -> None:
    assert cli("team", "create", "t").code == 0
    for mode, who in ((0o770, "its group"), (0o707, "others"), (0o777, "group and others")):
        home.chmod(mode)
        res = cli("team", "list")
        assert res.code == 3, res.err
        assert f"{home} can be written by {who} (fix: chmod go-w {home})" in res.err
    home.chmod(0o700)
    (home / "teams").chmod(0o777)
    res = cli("msg", "send", "alice", "x", "--team", "t", "--as", "team-lead")
    assert res.code == 3 and f"chmod go-w {home / 'teams'}" in res.err
    (home / "teams").chmod(0o700)
    assert cli("team", "list").code == 0


def test_a_folder_above_the_root_writable_by_others_is_refused_unless_sticky(tmp_path: Path, cli: Any) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    root = shared / "root"
    shared.chmod(0o777)
    res = cli("team", "list", env={"CREWMUX_HOME": str(root)})
    assert res.code == 3 and f"{shared} can be written by group and others" in res.err
    shared.chmod(0o1777)  # like /tmp: others may not rename what is not theirs
    assert cli("team", "list", env={"CREWMUX_HOME": str(root)}).code == 0


@pytest.mark.skipif(os.getuid() != 0, reason="giving a folder to another user needs root")
def test_a_root_owned_by_another_user_is_refused(home: Path, cli: Any) -> None:
    os.chown(home, 65534, 65534)
    res = cli("team", "list")
    assert res.code == 3 and "belongs to" in res.err and f"chown root {home}" in res.err


def test_crewmux_makes_its_folders_0700_and_files_0600_under_umask_0(home: Path) -> None:
    old = os.umask(0)
    try:
        teams = TeamStore(home)
        teams.create("t")
        paths = teams.paths("t")
        beat(paths, "team-lead")
        with file_lock(paths.runtime_dir / "probe"):
            pass
    finally:
        os.umask(old)
    assert stat.S_IMODE(paths.runtime_dir.stat().st_mode) == 0o700
    for path in home.rglob("*"):
        mode = stat.S_IMODE(path.lstat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), f"{path} is {oct(mode)}"
