"""`crewmux team delete --force` goes through the shutdown path: live teammates end first."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from app.core.liveness import is_alive


def test_team_delete_force_shuts_live_workers_down(cli: Any, home: Path) -> None:
    assert cli("team", "create", "gone").code == 0
    env_home = {"CREWMUX_HOME": str(home)}
    worker = subprocess.Popen(
        [sys.executable, "-m", "app", "worker", "--team", "gone", "--as", "w1"],
        env={**os.environ, **env_home},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            shown = json.loads(cli("team", "show", "gone", "--json").out)
            if any(m["name"] == "w1" and m.get("alive") for m in shown["members"]):
                break
            time.sleep(0.05)
        else:
            raise AssertionError("worker never registered as a live member")
        refused = cli("team", "delete", "gone")
        assert refused.code == 3 and "w1" in refused.err
        done = cli("team", "delete", "gone", "--force", "--timeout", "5", "--json")
        assert done.code == 0, done.err
        assert json.loads(done.out)["shutDown"] == ["w1"]
        worker.wait(timeout=15)
        assert not is_alive(worker.pid)
        assert not (home / "teams" / "gone").exists()
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
