"""Helpers for the orchestrator tests: a checkpoint path and a ``crewmux iterate`` runner (fixtures)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).resolve().parent / "iter_script.py"
#: the scripted iteration, as a shell command.
ITER_CMD = f"{sys.executable} {SCRIPT}"


@dataclass
class Run:
    code: int
    out: str
    err: str

    def doc(self) -> dict[str, Any]:
        found = json.loads(self.out)
        assert isinstance(found, dict)
        return found


Iterate = Callable[..., Run]


def iterate_argv(checkpoint: Path, *extra: str, command: str = ITER_CMD) -> list[str]:
    """The argv of ``crewmux iterate`` on ``checkpoint`` with the scripted iteration."""
    return [sys.executable, "-m", "app", "iterate", "--checkpoint", str(checkpoint), "--command", command, *extra]


def child_env(home: Path, env: dict[str, str] | None = None) -> dict[str, str]:
    return {**os.environ, "CREWMUX_HOME": str(home), **(env or {})}


@pytest.fixture
def checkpoint(tmp_path: Path) -> Path:
    return tmp_path / "work" / "checkpoint.json"


@pytest.fixture
def iterate(home: Path, checkpoint: Path) -> Iterate:
    """Run ``crewmux iterate`` as a real child process; returns its exit code and output."""

    def run(*extra: str, env: dict[str, str] | None = None, command: str = ITER_CMD, timeout: float = 90) -> Run:
        proc = subprocess.run(
            iterate_argv(checkpoint, *extra, command=command),
            capture_output=True,
            text=True,
            timeout=timeout,
            env=child_env(home, env),
            cwd=REPO,
            check=False,
        )
        return Run(proc.returncode, proc.stdout, proc.stderr)

    return run


def write_checkpoint(path: Path, doc: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc), encoding="utf-8")


def read_checkpoint(path: Path) -> dict[str, Any]:
    found = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(found, dict)
    return found
