"""An in-process ``crewmux`` runner: the real ``app.cli.main`` without a process start per call."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from app.cli import main


@dataclass
class Ran:
    code: int
    out: str
    err: str


@pytest.fixture
def crew(home: Any, capsys: pytest.CaptureFixture[str]) -> Any:
    """Run ``crewmux ARGS...`` in this process (``$CREWMUX_HOME`` is the test's root)."""

    def run(*args: str) -> Ran:
        capsys.readouterr()
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse usage errors
            code = int(exc.code or 0)
        captured = capsys.readouterr()
        return Ran(code, captured.out, captured.err)

    return run
