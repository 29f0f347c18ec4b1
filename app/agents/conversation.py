"""Each agent CLI's own conversation, kept across a restart: the id crewmux gives it at spawn and
the arguments that resume it. The mechanisms, as the pinned CLIs' ``--help`` states them:

- claude 2.1.332: ``--session-id <uuid>`` ("Use a specific session ID") at spawn, ``--resume <id>``
  on restart (the transcript under its config dir's ``projects/``).
- gemini 0.61.0: ``--session-id <uuid>`` at spawn, ``--resume <uuid>`` on restart (its
  ``sessionUtils``: "--resume {number}, --resume {uuid}, or --resume latest").
- aider 0.86.2: ``--chat-history-file <file>`` (one per teammate, under crewmux's root) at spawn,
  ``--restore-chat-history`` on restart.
- codex 0.169.0: codex picks its thread id itself; crewmux records it while the teammate runs
  (its ``notify`` payload's ``thread-id`` via ``crewmux hook-event``, or the session file its
  process holds open, on the liveness beat: :func:`app.lifecycle.usage.bind_codex_sessions`) and
  on restart runs ``codex resume <id>`` with the same flags (``resume`` takes them all), without
  the first prompt (it is in the conversation already).
- worker and shell teammates have no conversation (the worker resumes its own task).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.agents.adapters import env_prefix_len

if TYPE_CHECKING:
    from pathlib import Path

NO_RESUME: dict[str, str] = {}
"""Kinds whose conversation crewmux cannot resume, and why (shown by ``crewmux resume``)."""


@dataclass(frozen=True)
class SessionStart:
    """Arguments that give a new agent a conversation crewmux can find again, and its id."""

    args: list[str]
    session_id: str | None


def start_args(kind: str | None, *, team_dir: Path, name: str) -> SessionStart:
    """What to add to a new ``kind`` teammate's command line so its conversation can be resumed."""
    if kind in ("claude", "gemini"):
        sid = str(uuid.uuid4())
        return SessionStart(["--session-id", sid], sid)
    if kind == "aider":
        history = team_dir / "aider" / f"{name}.chat.history.md"
        history.parent.mkdir(parents=True, exist_ok=True)
        return SessionStart(["--chat-history-file", str(history)], str(history))
    return SessionStart([], None)


def recorded_session(argv: list[str]) -> str | None:
    """The conversation id (or aider history file) :func:`start_args` put into ``argv``."""
    for flag in ("--session-id", "--chat-history-file"):
        if flag in argv[:-1]:
            return argv[argv.index(flag) + 1]
    return None


def splice_after_program(argv: list[str], args: list[str]) -> list[str]:
    """``argv`` (maybe ``env K=V ... prog ...``) with ``args`` right after the program."""
    i = env_prefix_len(argv)
    return [*argv[: i + 1], *args, *argv[i + 1 :]]


def _without_prompt(argv: list[str], prompt: str | None, kind: str) -> list[str]:
    """``argv`` without the first prompt (and its flag from the kind's ``prompt_args``, e.g.
    gemini's ``--prompt-interactive``): a resumed conversation has it, so it is not sent twice."""
    from app.agents.adapters import load_rules

    out = list(argv)
    if not prompt or prompt not in out:
        return out
    at = len(out) - 1 - out[::-1].index(prompt)
    del out[at]
    flags = {a for a in load_rules(kind).prompt_args if "{prompt}" not in a}
    if at > 1 and out[at - 1] in flags:
        del out[at - 1]
    return out


def resume_argv(
    kind: str | None, argv: list[str], session_id: str | None, prompt: str | None = None
) -> tuple[list[str], str]:
    """The command line that restarts a ``kind`` teammate in its own conversation, and a note
    saying what was done (or why its conversation cannot come back)."""
    if kind in NO_RESUME:
        return argv, NO_RESUME[kind]
    if kind in ("claude", "gemini"):
        if session_id and "--resume" in argv:
            return _without_prompt(argv, prompt, kind), f"its conversation resumed (--resume {session_id})"
        if not session_id or "--session-id" not in argv:
            return argv, "no session id was recorded: a fresh conversation"
        out = _without_prompt(argv, prompt, kind)
        at = out.index("--session-id")
        out[at : at + 2] = ["--resume", session_id]
        return out, f"its conversation resumed (--resume {session_id})"
    if kind == "codex":
        if not session_id:
            return argv, "no codex session was found for it: a fresh conversation"
        out = _without_prompt(argv, prompt, kind)
        if "resume" not in out:
            out = splice_after_program(out, ["resume", session_id])
        return out, f"its conversation resumed (codex resume {session_id})"
    if kind == "aider":
        if not session_id or "--chat-history-file" not in argv:
            return argv, "no chat history file was recorded: a fresh conversation"
        out = argv if "--restore-chat-history" in argv else splice_after_program(argv, ["--restore-chat-history"])
        return out, f"its chat history restored from {session_id}"
    return argv, ""
