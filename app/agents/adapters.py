"""Agent adapters: how to start each kind of agent and how its screen looks — as data.

Each kind has a rules file ``app/agents/rules/<kind>.json`` (validated by :class:`AgentRules`),
so a changed spinner or prompt is fixed by editing JSON, not by a release. ``$CREWMUX_RULES_DIR``
may hold overriding files of the same names. The built-in worker needs no rules file: it reads
its inbox and follows the protocol itself.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import sys
import unicodedata
import uuid
from dataclasses import dataclass
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

    model_config = ConfigDict(defer_build=True, cache_strings="keys", extra="forbid")
    busy: list[str] = Field(default_factory=list, description="Any match on screen: it is working.")
    permission: list[str] = Field(default_factory=list, description="Any match: it asks a permission question.")
    input_line: str = Field(description="Matches its input line; group 'text' is what is typed there.")
    continuation: str | None = Field(
        default=None, description="Matches the lines of a multi-line composer below its input line (group 'text')."
    )
    placeholder: list[str] = Field(
        default_factory=list, description="Hint texts an empty composer shows (used when the cursor is unknown)."
    )
    prompt_every_line: bool = Field(
        default=False, description="Every line of a multi-line composer repeats the prompt (aider's '> ')."
    )
    cursor_off_input: Literal["busy", "unknown"] = Field(
        default="unknown", description="The state when the terminal cursor is not on the composer (a shell: busy)."
    )


class AgentRules(BaseModel):
    """One agent kind: command line, first-prompt convention, screen rules."""

    model_config = ConfigDict(defer_build=True, cache_strings="keys", extra="forbid")
    kind: str
    description: str = ""
    command: list[str] = Field(description="Base argv; {name} {team} {color} {session} {shell} are filled in.")
    env: dict[str, str] = Field(default_factory=dict, description="Extra environment.")
    unset_env: list[str] = Field(
        default_factory=list,
        description="Variables removed from its environment: under CI=true gemini turns headless and "
        "exits, and claude resumes no conversation.",
    )
    model_args: list[str] = Field(default_factory=list, description="Added with --model; {model} filled in.")
    plan_args: list[str] | None = Field(default=None, description="Added with --plan; null: no plan mode.")
    prompt: Literal["inbox", "arg", "flag", "type"] = Field(
        description="First prompt: written to its inbox, last argv item, prompt_args, or typed once it waits."
    )
    prompt_args: list[str] = Field(default_factory=list, description="With prompt='flag'; {prompt} filled in.")
    reads_inbox: bool = Field(description="True: it reads its own inbox; crewmux never types into it.")
    interrupt_key: Literal["Escape", "C-c"] = "Escape"
    paste_settle: float = Field(
        default=0.0, description="Seconds between the pasted text showing and Enter (gemini drops an early Enter)."
    )
    mcp_start: float = Field(
        default=0.0,
        description="Seconds after its start to wait for it to list crewmux's MCP tools before typing "
        "(codex and gemini queue prompts until their MCP servers are up; see app/core/mcp_ready.py).",
    )
    enter_may_be_newline: bool = Field(
        default=False, description="An Enter right after a paste may become a newline in the composer (gemini)."
    )
    hook_args: list[str] = Field(
        default_factory=list,
        description="Wire the CLI's own notify/hooks to crewmux's recorder (app/core/hook_record.py): "
        "{hook_cmd} a shell command, {hook_toml} a TOML array, {hook_settings} Claude Code --settings JSON, "
        "{hook_codex} codex's hooks table (see hook_values).",
    )
    quit_text: str | None = Field(default=None, description="Typed (then Enter) into an idle agent to end it.")
    quit_keys: list[Literal["C-c", "C-d", "Escape"]] = Field(
        default_factory=list, description="Keys sent, in order, when quit_text did not end it."
    )
    screen: ScreenRules

    def compiled(self) -> CompiledScreen:
        return _compile(self.screen.model_dump_json())


class CompiledScreen:
    def __init__(self, rules: ScreenRules) -> None:
        self.busy = [re.compile(p) for p in rules.busy]
        self.permission = [re.compile(p) for p in rules.permission]
        self.input_line = re.compile(rules.input_line)
        self.continuation = re.compile(rules.continuation) if rules.continuation else None
        self.placeholder = [re.compile(p) for p in rules.placeholder]
        self.prompt_every_line = rules.prompt_every_line
        self.cursor_off_input: ScreenState = rules.cursor_off_input


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


def _columns(text: str) -> int:
    """Terminal cells ``text`` takes (wide East Asian characters take two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


Cursor = tuple[int, int] | None
"""(row, col) of the terminal cursor on the visible screen, when the backend knows it."""


@dataclass(frozen=True)
class Composer:
    """The agent's input area as the screen shows it."""

    first_row: int
    last_row: int
    text: str
    """What is typed there; "" when empty (a placeholder the cursor sits in front of counts as empty)."""
    cursor_inside: bool | None
    """Whether the terminal cursor is in the composer (None: the backend did not say)."""


def composer(lines: list[str], rules: AgentRules, cursor: Cursor = None) -> Composer | None:
    """The lowest input area on screen (a prompt line and its continuation lines), or None."""
    screen = rules.compiled()
    shown = _last_lines(lines)
    start = max(0, len(shown) - 8)
    row = next((i for i in range(len(shown) - 1, start - 1, -1) if screen.input_line.match(shown[i])), None)
    if row is None:
        return None
    match = screen.input_line.match(shown[row])
    assert match is not None
    first, last = row, row
    parts = [match.groupdict().get("text") or ""]
    if screen.prompt_every_line:  # aider: "> " on each line of a multi-line input
        while first > 0 and (above := screen.input_line.match(shown[first - 1])):
            first -= 1
            parts.insert(0, above.groupdict().get("text") or "")
    elif screen.continuation is not None and cursor is not None and cursor[0] > row:
        for i in range(row + 1, min(cursor[0], len(shown) - 1) + 1):
            more = screen.continuation.match(shown[i])
            if more is None:
                break
            last = i
            parts.append(more.groupdict().get("text") or "")
    text = "\n".join(p.rstrip() for p in parts).strip()
    inside = None if cursor is None else first <= cursor[0] <= last
    if cursor is None and any(p.fullmatch(text) for p in screen.placeholder):
        text = ""
    if cursor is not None and cursor[0] == row == last and first == row:
        start_col = _columns(shown[row][: match.start("text")]) if "text" in match.groupdict() else 0
        if match.groupdict().get("text") is None or cursor[1] <= start_col:
            text = ""  # the cursor is where typing starts: whatever shows there is a placeholder
    return Composer(first, last, text, inside)


def classify(lines: list[str], rules: AgentRules, cursor: Cursor = None) -> ScreenState:
    """What the screen shows: a permission question, busy, waiting for input, or unknown.

    With the cursor known, "waiting" also needs the cursor in the composer; elsewhere the state is
    the rules' ``cursor_off_input`` (a shell running ``sleep 5`` shows its prompt line above the cursor).
    """
    screen = rules.compiled()
    tail = _last_lines(lines)[-12:]
    if any(p.search(ln) for p in screen.permission for ln in tail):
        return "permission"
    if any(p.search(ln) for p in screen.busy for ln in tail):
        return "busy"
    box = composer(lines, rules, cursor)
    if box is None:
        return "unknown"
    return "waiting" if box.cursor_inside is not False else screen.cursor_off_input


def input_text(lines: list[str], rules: AgentRules, cursor: Cursor = None) -> str | None:
    """The text in the agent's (lowest) composer, or None when no input line is shown."""
    box = composer(lines, rules, cursor)
    return None if box is None else box.text


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
    status_file: Path | None = None,
) -> list[str]:
    """The command line that starts an agent of ``kind``, environment included (``env K=V ...``).

    ``extra`` is the user's argv after ``--``: for ``shell`` it is the command itself, for the
    others extra arguments. BadInput for an unknown kind or ``--plan`` where there is no plan mode.
    For ``claude``, ``home`` (crewmux's root) and ``cwd`` choose the config dir it finds its team
    in, and ``permission_mode`` is the team's (see :mod:`app.agents.claude_config`).
    ``status_file``: where the agent's own hooks record its state (:mod:`app.core.hook_record`);
    without it they call ``crewmux hook-event`` (slower: the whole CLI starts per event).
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
    values.update(hook_values(team, name, status_file))
    argv = [a.format(**values) for a in rules.command]
    if kind == "shell" and extra:
        argv, extra = list(extra), []
    if model:
        argv += [a.format(**values) for a in rules.model_args]
    if plan:
        if rules.plan_args is None:
            raise BadInput(f"agent kind {kind!r} has no plan mode; drop --plan or use --agent worker/claude")
        argv += rules.plan_args
    argv += [a.format(**values) for a in rules.hook_args]
    if kind == "claude":
        from app.agents.claude_config import permission_args

        argv += permission_args(permission_mode, plan=plan)
    argv += extra or []
    if prompt and rules.prompt == "arg":
        argv.append(prompt)
    elif prompt and rules.prompt == "flag":
        argv += [a.format(**values) for a in rules.prompt_args]
    if env or rules.unset_env:
        unset = [a for var in rules.unset_env for a in ("-u", var)]
        argv = ["env", *unset, *(f"{k}={v}" for k, v in env.items()), *argv]
    return argv


def hook_values(team: str, name: str, status_file: Path | None) -> dict[str, str]:
    """What a rules file's ``hook_args`` may use: ``{hook_cmd}`` (a shell command; aider appends
    ``idle``), ``{hook_toml}`` (a TOML array; codex ``notify`` appends its JSON), ``{hook_settings}``
    (Claude Code ``--settings`` JSON) and ``{hook_codex}`` (codex's ``hooks`` TOML table)."""
    from app.core.hook_record import command

    if status_file is None:
        base = [sys.executable, "-m", "app", "hook-event", "--team", team, "--as", name]
        hooks: dict[str, object] = {}
    else:
        base = command(sys.executable, status_file, "")[:-1]  # the event goes last
        hooks = claude_hooks(base)
    return {
        "hook_cmd": shlex.join(base),
        "hook_toml": "[" + ", ".join(json.dumps(a) for a in base) + "]",  # a TOML array of strings
        "hook_settings": json.dumps({"hooks": hooks} if hooks else {}),
        "hook_codex": _toml(codex_hooks(base) if status_file is not None else {}),
    }


def _toml_key(key: object) -> str:
    """A TOML key: bare where it may be, else a quoted (JSON = TOML basic) string."""
    text = str(key)
    return text if re.fullmatch(r"[A-Za-z0-9_-]+", text) else json.dumps(text)


def _toml(value: object) -> str:
    """A TOML inline value (JSON strings are TOML basic strings)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_toml_key(k)} = {_toml(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(value)


CLAUDE_HOOK_EVENTS = ("UserPromptSubmit", "PreToolUse", "PostToolUse", "Stop", "PermissionRequest", "Notification")
"""Claude Code 2.1.332's hook events crewmux records (names from its binary; JSON on stdin)."""
CODEX_HOOK_EVENTS = ("UserPromptSubmit", "PreToolUse", "PermissionRequest", "Stop")
"""codex 0.169's hook events crewmux records: the same shape and stdin JSON as Claude Code's, given per
process as ``-c hooks={…}``."""
CODEX_HOOK_TIMEOUT = 5
"""Seconds codex gives one recorder run (part of the hook's trusted identity)."""


def codex_hooks(base: list[str]) -> dict[str, object]:
    """codex's ``hooks`` table: each of :data:`CODEX_HOOK_EVENTS` runs the recorder, and ``state``
    trusts exactly these hooks and no other. codex runs a hook only when ``hooks.state."<key>"``
    holds its ``trusted_hash`` — the SHA-256 of the hook's identity as compact JSON with sorted keys
    (codex-rs ``hooks/src/engine/discovery.rs``), keyed ``<source>:<snake_event>:<group>:<handler>``,
    the source of ``-c`` flags being ``/<session-flags>/config.toml``. The user's own hooks keep the
    trust codex's ``/hooks`` review gave them (the real codex running these is the test)."""
    from app.core.hook_record import READS_PAYLOAD

    table: dict[str, object] = {}
    state: dict[str, object] = {}
    for event in CODEX_HOOK_EVENTS:
        command = shlex.join([*base, event, *(["--stdin"] if event in READS_PAYLOAD else [])])
        handler = {"async": False, "command": command, "timeout": CODEX_HOOK_TIMEOUT, "type": "command"}
        table[event] = [{"hooks": [handler]}]
        snake = re.sub(r"(?<!^)(?=[A-Z])", "_", event).lower()
        identity = json.dumps({"event_name": snake, "hooks": [handler]}, sort_keys=True, separators=(",", ":"))
        digest = "sha256:" + hashlib.sha256(identity.encode()).hexdigest()
        state[f"/<session-flags>/config.toml:{snake}:0:0"] = {"enabled": True, "trusted_hash": digest}
    table["state"] = state
    return table


def claude_hooks(base: list[str]) -> dict[str, object]:
    """Claude Code's ``hooks`` setting: each of :data:`CLAUDE_HOOK_EVENTS` runs the recorder (which
    reads the JSON on its stdin for the events whose meaning is in it)."""
    from app.core.hook_record import READS_PAYLOAD

    def reads(event: str) -> list[str]:
        return ["--stdin"] if event in READS_PAYLOAD else []

    return {
        event: [{"matcher": "", "hooks": [{"type": "command", "command": shlex.join([*base, event, *reads(event)])}]}]
        for event in CLAUDE_HOOK_EVENTS
    }


def env_prefix_len(argv: list[str]) -> int:
    """How many leading items of ``argv`` are the ``env [-u VAR]... [K=V]...`` prefix that
    :func:`agent_argv` puts before the program (0 when there is none)."""
    if not argv or argv[0] != "env":
        return 0
    i = 1
    while i < len(argv):
        if argv[i] == "-u" and i + 1 < len(argv):
            i += 2
        elif "=" in argv[i] and not argv[i].startswith("-"):
            i += 1
        else:
            break
    return i


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def describe(argv: list[str]) -> str:
    return shlex.join(argv)
