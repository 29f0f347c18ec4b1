"""TeammateIdle / TaskCompleted hooks, run the way Claude Code runs them.

The team settings file (``teams/<team>/crewmux.json``, :mod:`app.core.settings`) names the commands::

    {"hooks": {"TeammateIdle": ["./check-idle.sh"],
               "TaskCompleted": [{"command": "make test", "timeout": 120}]}}

Claude Code's own nested form (``[{"hooks": [{"type": "command", "command": ...}]}]``) is read
too. Each command runs through ``sh -c`` in the teammate's cwd with Claude Code's JSON on stdin.
Exit 2: its stderr is fed back to the teammate and the idle / completion is refused. A JSON
object on stdout with ``"continue": false`` stops the teammate (``stopReason`` says why). A hook
that runs past its timeout has its process group killed and is reported as a problem; it never
refuses anything and never blocks the team.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from app.core.atomic import Problem, report_problem
from app.core.settings import load_settings

if TYPE_CHECKING:
    from app.core.paths import TeamPaths
    from app.core.settings import HookCommand

HookEvent = Literal["TeammateIdle", "TaskCompleted"]
MAX_FEEDBACK = 8 * 1024


@dataclass
class HookOutcome:
    """What the hooks for one event decided."""

    allowed: bool = True
    feedback: str = ""
    stop: bool = False
    stop_reason: str | None = None
    problems: list[str] = field(default_factory=list)
    ran: int = 0


def hook_payload(
    event: HookEvent,
    *,
    team: str,
    teammate: str,
    cwd: str,
    session_id: str = "",
    transcript_path: str = "",
    task_id: str | None = None,
    task_subject: str | None = None,
    task_description: str | None = None,
) -> dict[str, Any]:
    """Claude Code's stdin JSON for the event."""
    doc: dict[str, Any] = {
        "session_id": session_id,
        "transcript_path": transcript_path,
        "cwd": cwd,
        "hook_event_name": event,
        "teammate_name": teammate,
        "team_name": team,
    }
    if event == "TaskCompleted":
        doc["task_id"] = task_id
        doc["task_subject"] = task_subject
        if task_description:
            doc["task_description"] = task_description
    return doc


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)


def run_one(hook: HookCommand, payload: dict[str, Any], cwd: str) -> tuple[int | None, str, str]:
    """Run one hook; returns (exit code or None when killed on timeout, stdout, stderr)."""
    proc = subprocess.Popen(
        ["sh", "-c", hook.command],
        cwd=cwd or None,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(json.dumps(payload).encode(), timeout=hook.timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        return None, "", ""
    return proc.returncode, out.decode(errors="replace"), err.decode(errors="replace")


def run_hooks(paths: TeamPaths, event: HookEvent, payload: dict[str, Any]) -> HookOutcome:
    """Run every command the team settings name for ``event``; the first refusal or stop wins."""
    outcome = HookOutcome()
    cwd = str(payload.get("cwd") or "")
    for hook in load_settings(paths).commands(event):
        outcome.ran += 1
        started = time.monotonic()
        try:
            code, out, err = run_one(hook, payload, cwd)
        except OSError as exc:
            msg = f"{event} hook {hook.command!r} could not start: {exc}"
            outcome.problems.append(msg)
            report_problem(Problem(path=paths.settings, message=msg, at=time.time()))
            continue
        if code is None:
            msg = f"{event} hook {hook.command!r} hung and was killed after {time.monotonic() - started:.1f}s"
            outcome.problems.append(msg)
            report_problem(Problem(path=paths.settings, message=msg, at=time.time()))
            continue
        decision = _stdout_json(out)
        if decision.get("continue") is False:
            outcome.stop = True
            reason = decision.get("stopReason")
            outcome.stop_reason = str(reason) if reason is not None else f"stopped by {event} hook"
            return outcome
        if code == 2:
            outcome.allowed = False
            outcome.feedback = err.strip()[:MAX_FEEDBACK] or f"{event} refused by hook {hook.command!r}"
            return outcome
        if code != 0:
            msg = f"{event} hook {hook.command!r} exited {code}: {err.strip()[:200]}"
            outcome.problems.append(msg)
            report_problem(Problem(path=paths.settings, message=msg, at=time.time()))
    return outcome


def _stdout_json(out: str) -> dict[str, Any]:
    text = out.strip()
    if not text.startswith("{"):
        return {}
    try:
        doc = json.loads(text)
    except ValueError:
        return {}
    return doc if isinstance(doc, dict) else {}
