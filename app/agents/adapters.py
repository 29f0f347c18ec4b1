"""Agent adapters: how to start each kind of agent and how its screen looks — as data.

Each kind has a rules file ``app/agents/rules/<kind>.json`` (validated by :class:`AgentRules`),
so a changed spinner or prompt is fixed by editing JSON, not by a release. ``$CREWMUX_RULES_DIR``
may hold overriding files of the same names. The built-in worker needs no rules file: it reads
its inbox and follows the protocol itself.
"""

from __future__ import annotations

import os
import re
import shlex
import sys
import uuid
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.core.errors import BadInput

RULES_DIR = Path(__file__).with_name("rules")
KINDS = ("worker", "claude", "codex", "gemini", "aider", "shell")
ScreenState = Literal["busy", "permission", "waiting", "unknown"]


class ScreenRules(BaseModel):
    """How the agent's screen looks in each state (regular expressions, matched per line)."""

    model_config = ConfigDict(extra="forbid")
    busy: list[str] = Field(default_factory=list, description="Any match on screen: it is working.")
    permission: list[str] = Field(default_factory=list, description="Any match: it asks a permission question.")
    input_line: str = Field(description="Matches its input line; group 'text' is what is typed there.")


class AgentRules(BaseModel):
    """One agent kind: command line, first-prompt convention, screen rules."""

    model_config = ConfigDict(extra="forbid")
    kind: str
    description: str = ""
    command: list[str] = Field(description="Base argv; {name} {team} {color} {session} {shell} are filled in.")
    env: dict[str, str] = Field(default_factory=dict, description="Extra environment.")
    model_args: list[str] = Field(default_factory=list, description="Added with --model; {model} filled in.")
    plan_args: list[str] | None = Field(default=None, description="Added with --plan; null: no plan mode.")
    prompt: Literal["inbox", "arg", "flag", "type"] = Field(
        description="First prompt: written to its inbox, last argv item, prompt_args, or typed once it waits."
    )
    prompt_args: list[str] = Field(default_factory=list, description="With prompt='flag'; {prompt} filled in.")
    reads_inbox: bool = Field(description="True: it reads its own inbox; crewmux never types into it.")
    interrupt_key: Literal["Escape", "C-c"] = "Escape"
    screen: ScreenRules

    def compiled(self) -> CompiledScreen:
        return _compile(self.screen.model_dump_json())


class CompiledScreen:
    def __init__(self, rules: ScreenRules) -> None:
        self.busy = [re.compile(p) for p in rules.busy]
        self.permission = [re.compile(p) for p in rules.permission]
        self.input_line = re.compile(rules.input_line)


@cache
def _compile(doc: str) -> CompiledScreen:
    return CompiledScreen(ScreenRules.model_validate_json(doc))


def load_rules(kind: str) -> AgentRules:
    """The rules for ``kind`` (an override in ``$CREWMUX_RULES_DIR`` first). BadInput when unknown or invalid."""
    override = os.environ.get("CREWMUX_RULES_DIR")
    for folder in ([Path(override)] if override else []) + [RULES_DIR]:
        path = folder / f"{kind}.json"
        if path.is_file():
            try:
                return AgentRules.model_validate_json(path.read_bytes())
            except ValidationError as exc:
                raise BadInput(f"agent rules {path} are invalid: {exc}") from exc
    raise BadInput(f"unknown agent kind {kind!r}; known: {', '.join(KINDS)}")


def _last_lines(lines: list[str]) -> list[str]:
    trimmed = [ln.rstrip() for ln in lines]
    while trimmed and not trimmed[-1]:
        trimmed.pop()
    return trimmed


def classify(lines: list[str], rules: AgentRules) -> ScreenState:
    """What the screen shows: a permission question, busy, waiting for input, or unknown."""
    screen = rules.compiled()
    shown = _last_lines(lines)
    tail = shown[-12:]
    if any(p.search(ln) for p in screen.permission for ln in tail):
        return "permission"
    if any(p.search(ln) for p in screen.busy for ln in tail):
        return "busy"
    if input_text(lines, rules) is not None:
        return "waiting"
    return "unknown"


def input_text(lines: list[str], rules: AgentRules) -> str | None:
    """The text on the agent's (lowest) input line, or None when no input line is shown."""
    screen = rules.compiled()
    for ln in reversed(_last_lines(lines)[-8:]):
        m = screen.input_line.match(ln)
        if m:
            return (m.groupdict().get("text") or "").strip()
    return None


def agent_argv(
    kind: str,
    *,
    name: str,
    team: str,
    color: str = "blue",
    session: str = "",
    prompt: str | None = None,
    plan: bool = False,
    model: str | None = None,
    extra: list[str] | None = None,
    home: Path | None = None,
    cwd: Path | None = None,
    permission_mode: str = "default",
) -> list[str]:
    """The command line that starts an agent of ``kind``, environment included (``env K=V ...``).

    ``extra`` is the user's argv after ``--``: for ``shell`` it is the command itself, for the
    others extra arguments. BadInput for an unknown kind or ``--plan`` where there is no plan mode.
    For ``claude``, ``home`` (crewmux's root) and ``cwd`` choose the config dir it finds its team
    in, and ``permission_mode`` is the team's (see :mod:`app.agents.claude_config`).
    """
    if kind == "worker":
        argv = [sys.executable, "-m", "app", "worker", "--team", team, "--as", name]
        return argv + (["--plan"] if plan else [])
    rules = load_rules(kind)
    env = dict(rules.env)
    if kind == "claude":
        from app.agents import claude_config

        session = session if _is_uuid(session) else claude_config.session_uuid(home or Path.cwd(), team)
        if home is not None:
            env.update(claude_config.teammate_env(home, cwd or Path.cwd()))
    values = {
        "name": name,
        "team": team,
        "color": color,
        "session": session or f"crewmux-{team}",
        "shell": os.environ.get("SHELL", "/bin/sh"),
        "model": model or "",
        "prompt": prompt or "",
    }
    argv = [a.format(**values) for a in rules.command]
    if kind == "shell" and extra:
        argv, extra = list(extra), []
    if model:
        argv += [a.format(**values) for a in rules.model_args]
    if plan:
        if rules.plan_args is None:
            raise BadInput(f"agent kind {kind!r} has no plan mode; drop --plan or use --agent worker/claude")
        argv += rules.plan_args
    if kind == "claude":
        from app.agents.claude_config import permission_args

        argv += permission_args(permission_mode, plan=plan)
    argv += extra or []
    if prompt and rules.prompt == "arg":
        argv.append(prompt)
    elif prompt and rules.prompt == "flag":
        argv += [a.format(**values) for a in rules.prompt_args]
    if env:
        argv = ["env", *(f"{k}={v}" for k, v in env.items()), *argv]
    return argv


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def describe(argv: list[str]) -> str:
    return shlex.join(argv)
