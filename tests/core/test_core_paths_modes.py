"""Names that would escape the root are refused; everything crewmux creates is private (0700/0600)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from app.core.atomic import atomic_write, ensure_dir
from app.core.errors import InvalidName
from app.core.mailbox import Mailbox
from app.core.paths import MAX_NAME_LENGTH, check_name, resolve_home, sanitize, team_paths
from app.core.tasks import TaskStore
from app.core.team import TeamStore

HOSTILE = ["../x", "a/b", "a\\b", "a\x1bb", "tab\there", "new\nline", "", "   ", "..", ".", "..x", "x" * 65, " lead"]


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_names_refused_everywhere(name: str, home: Path, teams: TeamStore, team: str) -> None:
    with pytest.raises(InvalidName):
        check_name(name)
    with pytest.raises(InvalidName):
        teams.create(name)
    with pytest.raises(InvalidName):
        teams.join(team, name)
    # Nothing was created outside (or inside) the root for the refused name.
    assert sorted(p.name for p in (home / "teams").iterdir()) == ["t"]
    assert not (home.parent / "x").exists()


def test_name_limits_and_sanitizing() -> None:
    assert check_name("a" * MAX_NAME_LENGTH) == "a" * MAX_NAME_LENGTH
    assert sanitize("My Team_1") == "my-team-1"
    with pytest.raises(InvalidName, match="letters or digits"):
        sanitize("---")
    with pytest.raises(InvalidName):
        team_paths(Path("/r"), "..")
    with pytest.raises(InvalidName):
        team_paths(Path("/r"), "t").task("../1")


def test_lead_name_is_reserved(teams: TeamStore, team: str) -> None:
    with pytest.raises(InvalidName):
        teams.join(team, "Team-Lead")


def test_resolve_home_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CREWMUX_HOME", str(tmp_path / "env"))
    assert resolve_home(str(tmp_path / "flag")) == tmp_path / "flag"
    assert resolve_home() == tmp_path / "env"
    monkeypatch.delenv("CREWMUX_HOME")
    assert resolve_home().name == "crewmux"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_ensure_dir_makes_every_missing_level_0700(tmp_path: Path) -> None:
    existing = tmp_path / "kept"
    existing.mkdir(mode=0o755)
    deep = existing / "a" / "b" / "c"
    assert ensure_dir(deep) == deep
    assert _mode(existing) == 0o755, "an existing directory's mode was changed"
    for level in (existing / "a", existing / "a" / "b", deep):
        assert _mode(level) == 0o700, level
    assert ensure_dir(deep) == deep  # idempotent
    atomic_write(tmp_path / "f" / "g.json", "{}")
    assert _mode(tmp_path / "f") == 0o700
    assert _mode(tmp_path / "f" / "g.json") == 0o600


def test_every_file_and_dir_under_a_fresh_root_is_private(tmp_path: Path) -> None:
    home = tmp_path / "not" / "yet" / "home"
    teams = TeamStore(home)
    teams.create("t")
    teams.join("t", "alice")
    store = TaskStore(teams.paths("t"))
    first = store.create("a")
    store.create("b", blocked_by=[first.id])
    store.claim(None, "alice")
    store.update(first.id, status="completed")
    store.close()
    box = Mailbox(teams, "t")
    box.send("alice", "hi", sender="team-lead")
    box.mark_read("alice")
    created = [tmp_path / "not", tmp_path / "not" / "yet", home, *home.rglob("*")]
    names = {p.name for p in created}
    assert {".crewmux-ready.sqlite", ".alice.archive.jsonl", "config.json", ".highwatermark"} <= names
    for path in created:
        want = 0o700 if path.is_dir() else 0o600
        assert _mode(path) == want, f"{path} has mode {oct(_mode(path))}"
