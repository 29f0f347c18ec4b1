"""What runs inside a pane for one iteration: the command, its output teed to a log, its status.

``python -m app.orchestrate.panerun STATUS LOG -- ARGV...`` runs ARGV with its output going both
to the pane (so it can be watched) and to LOG (so the orchestrator sees activity and keeps the
tail), then writes ``{"exit_status": n, "cpu_s": x}`` to STATUS with the crash-safe helper and
exits with the command's code. The command stays in this process's group, so killing the pane's
process group kills it too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from app.core.atomic import atomic_write

CHUNK = 65536


def run(status: str, log: str, argv: list[str]) -> int:
    """Run ``argv`` teeing its output; returns its exit code (127 when it cannot start)."""
    with open(log, "ab") as log_fh:
        try:
            child = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        except OSError as exc:
            log_fh.write(f"crewmux: cannot start {argv[0]!r}: {exc}\n".encode())
            atomic_write_status(status, 127, 0.0)
            return 127
        assert child.stdout is not None
        out = sys.stdout.buffer
        while True:
            chunk = os.read(child.stdout.fileno(), CHUNK)
            if not chunk:
                break
            log_fh.write(chunk)
            log_fh.flush()
            out.write(chunk)
            out.flush()
        _pid, wstatus, usage = os.wait4(child.pid, 0)
        child.returncode = code = os.waitstatus_to_exitcode(wstatus)
    atomic_write_status(status, code, usage.ru_utime + usage.ru_stime)
    return code if code >= 0 else 128 - code


def atomic_write_status(status: str, code: int, cpu: float) -> None:
    from pathlib import Path

    atomic_write(Path(status), json.dumps({"exit_status": code, "cpu_s": cpu}), fsync=False)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) < 4 or args[2] != "--":
        print("usage: python -m app.orchestrate.panerun STATUS LOG -- ARGV...", file=sys.stderr)
        return 2
    return run(args[0], args[1], args[3:])


if __name__ == "__main__":
    sys.exit(main())
