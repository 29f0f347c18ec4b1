"""Delegate mode for a *running* Claude Code lead: the ``PreToolUse`` hook ``crewmux claude`` installs.

``crewmux claude`` starts the lead with ``--settings`` holding one ``PreToolUse`` hook for the
editing and shell tools (:data:`GATED_TOOLS`)::

    python -m app.core.lead_gate --home <Claude Code's root> [--delegate]

Claude Code runs it before each such tool call, with the call as JSON on stdin (``session_id``,
``hook_event_name``, ``tool_name``, ``tool_input``, ``agent_id`` only inside a subagent or
in-process teammate). It reads the team's delegate setting *now* (``teams/<team>/crewmux.json``,
the file ``crewmux team delegate`` and the console's toggle write), so switching delegate mode
applies to the lead's next tool call without restarting it. The team is the lead's session team,
``session-<first 8 hex of its session id>`` (Claude Code 2.1.332). While delegate mode is on it
prints Claude Code's deny decision with crewmux's reason (from :mod:`app.core.policy`); the model
gets the reason as the tool's result. Otherwise it prints nothing: Claude Code's own permission
rules decide as usual. ``--delegate`` is the mode before the team has a settings file (the first
moments of ``crewmux claude --delegate``).

Only the lead is gated: a call from a subagent or in-process teammate (``agent_id`` set) passes.
A gate that cannot read its input fails open (Claude Code treats a failing hook as non-blocking);
delegate mode is a coordination rule, not a sandbox.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.core.paths import LEAD_NAME, team_paths
from app.core.policy import Operation, refusal
from app.core.settings import load_settings

if TYPE_CHECKING:
    from collections.abc import Sequence

GATED_TOOLS = ("Edit", "MultiEdit", "Write", "NotebookEdit", "Bash")
"""Claude Code's editing and shell tools: what a lead in delegate mode may not use."""


class PreToolUse(BaseModel):
    """The part of Claude Code's ``PreToolUse`` hook input the gate reads."""

    model_config = ConfigDict(defer_build=True, cache_strings="keys", extra="ignore")
    session_id: str = Field(min_length=8)
    tool_name: str
    agent_id: str | None = None


class _Decision(BaseModel):
    model_config = ConfigDict(defer_build=True, cache_strings="keys")

    hook_event_name: Literal["PreToolUse"] = Field(default="PreToolUse", serialization_alias="hookEventName")
    permission_decision: Literal["deny"] = Field(default="deny", serialization_alias="permissionDecision")
    reason: str = Field(serialization_alias="permissionDecisionReason")


class HookOutput(BaseModel):
    """Claude Code's hook output: ``{"hookSpecificOutput": {"hookEventName": "PreToolUse", ...}}``."""

    model_config = ConfigDict(defer_build=True, cache_strings="keys")

    decision: _Decision = Field(serialization_alias="hookSpecificOutput")


def session_team(session_id: str) -> str:
    """The team Claude Code 2.1.332 gives the session ``session_id``."""
    return f"session-{session_id[:8].lower()}"


def verdict(home: Path, call: PreToolUse, *, default_on: bool = False) -> str | None:
    """crewmux's reason to refuse ``call``, or None when it may go ahead."""
    if call.agent_id or call.tool_name not in GATED_TOOLS:
        return None
    paths = team_paths(home, session_team(call.session_id), interop=True)
    on = load_settings(paths).delegate_mode if paths.settings.exists() else default_on
    operation: Operation = "run_command" if call.tool_name == "Bash" else "edit_files"
    refused = refusal(LEAD_NAME, operation, delegate_mode=on)
    return None if refused is None else str(refused)


def settings_json(python: str, home: Path, *, delegate: bool) -> str:
    """The ``--settings`` JSON that installs the gate in a Claude Code lead."""
    import json
    import shlex

    command = shlex.join(
        [python, "-m", "app.core.lead_gate", "--home", str(home), *(["--delegate"] if delegate else [])]
    )
    hook = {"type": "command", "command": command, "timeout": 30}
    return json.dumps({"hooks": {"PreToolUse": [{"matcher": "|".join(GATED_TOOLS), "hooks": [hook]}]}})


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.core.lead_gate", description=__doc__.splitlines()[0])
    parser.add_argument("--home", required=True, type=Path, help="Claude Code's root (its teams/ dir)")
    parser.add_argument("--delegate", action="store_true", help="delegate mode while the team has no settings file")
    args = parser.parse_args(argv)
    try:
        call = PreToolUse.model_validate_json(sys.stdin.buffer.read())
    except ValidationError as exc:
        print(f"crewmux lead gate: unreadable hook input: {exc.errors()[0]['msg']}", file=sys.stderr)
        return 1
    reason = verdict(args.home, call, default_on=args.delegate)
    if reason is not None:
        sys.stdout.write(HookOutput(decision=_Decision(reason=reason)).model_dump_json(by_alias=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
