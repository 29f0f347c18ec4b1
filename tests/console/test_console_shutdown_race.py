"""Shutdown answers reach the waiter while the console is open and reading the lead's inbox.

Real built-in workers (``crewmux worker`` processes) answer each ``shutdown_request``; the
console's watcher refreshes on every inbox change and takes the lead's messages. Each shutdown
must still see its ``shutdown_approved``, whether it runs inside the console's process or as
``crewmux shutdown`` in another one.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from typing import TYPE_CHECKING

from app.lifecycle.shutdown import shutdown_member
from tests.agents.teammate_helpers import REPO, Workers
from tests.console.console_helpers import main_screen, noticed, until

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from app.console.app import CrewmuxApp
    from app.core.team import TeamStore

import pytest

TEAM = "race"
ROUNDS = 5


@pytest.fixture
def workers(home: Path, tmp_path: Path) -> Iterator[Workers]:
    logs = tmp_path / "work"
    logs.mkdir()
    w = Workers(home, logs)
    yield w
    w.reap()


def _cli_shutdown(home: Path, name: str) -> dict[str, object]:
    proc = subprocess.run(
        [sys.executable, "-m", "app", "shutdown", name, "--team", TEAM, "--timeout", "15", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "CREWMUX_HOME": str(home), "PYTHONPATH": str(REPO)},
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    doc: dict[str, object] = json.loads(proc.stdout)
    return doc


async def test_shutdowns_are_approved_while_the_console_reads_the_lead_inbox(
    console_factory: Callable[..., CrewmuxApp], teams: TeamStore, workers: Workers, home: Path
) -> None:
    teams.create(TEAM)
    names = [f"w{i}" for i in range(ROUNDS)]
    procs = {n: workers.start(TEAM, n) for n in names}
    app = console_factory(TEAM, tick=0.2)
    async with app.run_test(size=(140, 44)) as pilot:
        await until(pilot, lambda: main_screen(pilot).snapshot is not None)
        await until(pilot, lambda: all(teams.load(TEAM).member(n) is not None for n in names), timeout=60)
        for i, name in enumerate(names):
            if i % 2:  # the CLI, in its own process
                doc = await asyncio.to_thread(_cli_shutdown, home, name)
                outcome = doc["outcome"]
            else:  # inside the console's process, as the console's own shutdown does
                result = await asyncio.to_thread(shutdown_member, teams, TEAM, name, timeout=15)
                outcome = result.outcome
            assert outcome == "approved", f"round {i}: {name} answered {outcome}"
            assert await asyncio.to_thread(procs[name].wait, 10) == 0
            await until(pilot, noticed(pilot, f"{name} approved the shutdown"))
