"""Fixtures shared by every test: an isolated crewmux root and a CLI runner."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.core.tasks import TaskStore
from app.core.team import TeamStore

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh crewmux root; ``$CREWMUX_HOME`` points at it for the test and its children."""
    root = tmp_path / "home"
    root.mkdir()
    monkeypatch.setenv("CREWMUX_HOME", str(root))
    monkeypatch.delenv("CREWMUX_TEAM", raising=False)
    monkeypatch.delenv("CREWMUX_AGENT", raising=False)
    yield root


@pytest.fixture
def teams(home: Path) -> TeamStore:
    return TeamStore(home)


@pytest.fixture
def team(teams: TeamStore) -> str:
    """A team named ``t`` with members alice and bob besides the lead."""
    teams.create("t", "test team")
    teams.join("t", "alice")
    teams.join("t", "bob")
    return "t"


@pytest.fixture
def tasks(teams: TeamStore, team: str) -> Iterator[TaskStore]:
    store = TaskStore(teams.paths(team))
    yield store
    store.close()


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(home: Path) -> object:
    """Run ``crewmux ARGS...`` as a real child process against the test's root."""

    def run(*args: str, timeout: float = 60.0, env: dict[str, str] | None = None) -> Result:
        full_env = {**os.environ, "CREWMUX_HOME": str(home), **(env or {})}
        proc = subprocess.run(
            [sys.executable, "-m", "app", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=full_env,
            cwd=REPO,
            check=False,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)

    return run
