"""The delegate gate's cost per gated tool call of a Claude Code lead (``app/core/lead_gate.py``).

Claude Code runs the gate (a new process) before each ``Edit``/``Write``/``Bash``/... call of a
lead ``crewmux claude`` started; nothing else pays for it. Measured as Claude Code runs it: one
process per call, the hook's JSON on stdin, wall time until it exits. Baselines in the same run:
``true`` (a hook that does nothing) and the bare interpreter (``python -c pass``, the floor any
Python hook pays).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from app.core.lead_gate import session_team
from app.core.paths import team_paths
from app.core.policy import set_delegate
from bench import Row, percentile, print_table, quick, ratio_text, verdict

SESSION = "abcdef12-0000-4000-8000-000000000000"
TARGET_S = 0.5
"""Per-call budget for the gate (p50): well under a model turn, which takes seconds."""


def _timed(argv: list[str], stdin: bytes, n: int) -> tuple[list[float], bytes]:
    times: list[float] = []
    out = b""
    for _ in range(n):
        t0 = time.perf_counter()
        done = subprocess.run(argv, input=stdin, capture_output=True, check=True)
        times.append(time.perf_counter() - t0)
        out = done.stdout
    return times, out


def main() -> None:
    n = 5 if quick() else 30
    call = json.dumps(
        {
            "session_id": SESSION,
            "hook_event_name": "PreToolUse",
            "tool_name": "Bash",
            "tool_input": {"command": "make"},
            "tool_use_id": "toolu_1",
        }
    ).encode()
    with tempfile.TemporaryDirectory(prefix="crewmux-bench-gate-") as tmp:
        home = Path(tmp)
        paths = team_paths(home, session_team(SESSION), interop=True)
        paths.team_dir.mkdir(parents=True)
        gate = [sys.executable, "-m", "app.core.lead_gate", "--home", str(home)]
        baseline, _ = _timed(["true"], call, n)
        bare, _ = _timed([sys.executable, "-c", "pass"], call, n)
        set_delegate(paths, True)
        denied, said = _timed(gate, call, n)
        assert b'"permissionDecision":"deny"' in said, said
        set_delegate(paths, False)
        allowed, said = _timed(gate, call, n)
        assert said == b"", said
    base = percentile(baseline, 50)
    rows = [Row("true (hook doing nothing), p50", f"{base * 1000:.1f} ms")]
    rows.append(Row("python -c pass (interpreter floor), p50", f"{percentile(bare, 50) * 1000:.0f} ms"))
    for what, times in (("gate, delegate on (deny)", denied), ("gate, delegate off (no decision)", allowed)):
        p50, p95 = percentile(times, 50), percentile(times, 95)
        rows.append(
            Row(
                f"{what}, p50 / p95",
                f"{p50 * 1000:.0f} / {p95 * 1000:.0f} ms",
                f"{base * 1000:.1f} ms",
                ratio_text(p50, base),
                f"p50 < {TARGET_S * 1000:.0f} ms",
                verdict(p50 < TARGET_S),
            )
        )
    print_table(f"One gated tool call (n={n} each, one process per call, as Claude Code runs it)", rows)


if __name__ == "__main__":
    main()
