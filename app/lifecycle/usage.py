"""What each teammate has used: tokens, cost, turns from its agent CLI's own records; wall time,
CPU seconds and memory of its whole process tree (psutil).

Records read (never the screen):

- claude: its transcript ``<CLAUDE_CONFIG_DIR>/projects/<dir>/<session id>.jsonl`` — each
  assistant line's ``message.usage`` (``input_tokens`` + the cache counts in, ``output_tokens``
  out), counted once per ``message.id`` (Claude Code writes a line per content block); the cost is
  its own ``cost-state`` lines' ``totalCostUSD`` (the last of each run, summed over runs).
- aider: its chat-history file, where aider writes ``> Tokens: 2.4k sent, 57 received. Cost:
  $0.01 message, $0.02 session.`` after each reply (the format of aider 0.86.2's
  ``base_coder.calculate_and_show_tokens_and_cost``; seen in runs of the real program).
- codex: its session file ``$CODEX_HOME/sessions/Y/M/D/rollout-<time>-<thread id>.jsonl``
  (``CODEX_HOME`` from the teammate's process environment, else ``~/.codex``), bound to the
  teammate by the thread id its own codex reports: the ``thread-id`` of its ``notify`` payload
  (recorded as ``crewmux.sessionId`` by ``crewmux hook-event``), or, before its first turn ends,
  the rollout file its own process holds open. The last ``token_count`` event's
  ``info.total_token_usage`` (``input_tokens`` of which ``cached_input_tokens``, ``output_tokens``);
  turns = ``token_count`` events; the model is the last ``turn_context``'s.
- gemini: its chat file ``<GEMINI_CLI_HOME or ~>/.gemini/tmp/<project>/chats/session-*.jsonl`` whose
  first line's ``sessionId`` is the one crewmux gave it — each ``type: gemini`` line's ``tokens``
  (``input`` in, of which ``cached``; ``output`` out) and ``model``, once per id.
- worker and shell teammates use no model.

Cost: what the CLI reports (aider's own; Claude Code's ``cost-state``), else the price table
(:mod:`app.lifecycle.prices`, ``prices.json``) for the model named in the record; null when
neither knows, and ``costNote`` says why.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING

import psutil
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from app.core.liveness import is_alive
from app.core.paths import LEAD_NAME
from app.lifecycle.prices import price

if TYPE_CHECKING:
    from app.core.models import Member
    from app.core.paths import TeamPaths
    from app.core.team import TeamStore


class MemberUsage(BaseModel):
    """One teammate's usage (the ``crewmux usage --json`` row)."""

    model_config = ConfigDict(defer_build=True, cache_strings="keys", alias_generator=to_camel, populate_by_name=True)

    name: str
    kind: str | None = None
    state: str = Field(description="running, over-budget (paused), stopped, ended")
    tokens_in: int | None = None
    tokens_out: int | None = None
    cost_usd: float | None = None
    turns: int | None = None
    wall_seconds: float | None = None
    cpu_seconds: float | None = None
    memory_mb: float | None = None
    source: str = Field(default="", description="The record the token counts came from.")
    cost_note: str | None = Field(default=None, description="Why ``costUsd`` is null, when it is.")


IN_KEYS = ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")


def priced(out: MemberUsage, parts: list[tuple[str | None, int, int, int]]) -> None:
    """Set ``out.cost_usd`` from the price table for ``parts`` (model, in, out, cached in), or say
    which model has no price."""
    costs = [price(m, i, o, c) for m, i, o, c in parts]
    unknown = sorted({str(m) for (m, *_), c in zip(parts, costs, strict=True) if c is None})
    if unknown:
        out.cost_usd, out.cost_note = None, f"no price for model {', '.join(unknown)} in app/lifecycle/prices.json"
    else:
        out.cost_usd = round(sum(c or 0.0 for c in costs), 6)


def _claude_dir(member: Member) -> Path:
    rt = member.crewmux
    for item in [*(rt.argv or []), *(f"{k}={v}" for k, v in (rt.env or {}).items())] if rt else []:
        if item.startswith("CLAUDE_CONFIG_DIR="):
            return Path(item.split("=", 1)[1])
    return Path.home() / ".claude"


def claude_usage(config_dir: Path, session_id: str, out: MemberUsage) -> None:
    """Fill ``out`` from Claude Code's transcript of ``session_id`` under ``config_dir``."""
    files = list((config_dir / "projects").glob(f"*/{session_id}.jsonl"))
    seen: dict[str, tuple[int, int, str | None]] = {}
    runs: dict[str, float] = {}
    for file in files:
        for line in file.read_text(errors="replace").splitlines():
            try:
                doc = json.loads(line)
            except ValueError:
                continue  # a line being written
            if not isinstance(doc, dict):
                continue
            if doc.get("type") == "cost-state":  # its own running total, per run
                runs[str(doc.get("startTime"))] = float(doc.get("totalCostUSD") or 0.0)
                continue
            msg = doc.get("message")
            usage = msg.get("usage") if isinstance(msg, dict) else None
            if doc.get("type") != "assistant" or not isinstance(msg, dict) or not isinstance(usage, dict):
                continue
            tin = sum(int(usage.get(k) or 0) for k in IN_KEYS)
            seen[str(msg.get("id") or len(seen))] = (tin, int(usage.get("output_tokens") or 0), msg.get("model"))
    out.tokens_in = sum(v[0] for v in seen.values())
    out.tokens_out = sum(v[1] for v in seen.values())
    out.turns = len(seen)
    if runs:
        out.cost_usd = round(sum(runs.values()), 6)
    elif seen:
        priced(out, [(m, i, o, 0) for i, o, m in seen.values()])
    out.source = str(files[0]) if files else f"no transcript for session {session_id} yet"


_AIDER = re.compile(
    r"Tokens: ([\d.]+)(k?) sent(?:, ([\d.]+)(k?) cache \w+)*, ([\d.]+)(k?) received\."
    r"(?:\s*>?\s*Cost: \$([\d.]+) message)?"
)


def _count(num: str, k: str) -> int:
    return int(float(num) * (1000 if k else 1))


def aider_usage(history: Path, out: MemberUsage) -> None:
    """Fill ``out`` from the ``Tokens: … Cost: …`` lines aider writes into its chat history."""
    text = history.read_text(errors="replace") if history.is_file() else ""
    found = _AIDER.findall(text)
    out.tokens_in = sum(_count(m[0], m[1]) for m in found)
    out.tokens_out = sum(_count(m[4], m[5]) for m in found)
    out.turns = len(found)
    costs = [float(m[6]) for m in found if m[6]]
    out.cost_usd = round(sum(costs), 6) if costs else None
    if found and not costs:
        out.cost_note = "aider reported no cost (its model has no price in litellm's table)"
    out.source = str(history)


def process_usage(pid: int, started: float | None, out: MemberUsage) -> None:
    """Wall time, CPU seconds and resident memory of ``pid``'s whole process tree."""
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return
    cpu = rss = 0.0
    for p in procs:
        try:
            t = p.cpu_times()
            cpu += t.user + t.system + t.children_user + t.children_system
            rss += p.memory_info().rss
        except psutil.Error:
            continue
    out.wall_seconds = round(time.time() - (started or root.create_time()), 1)
    out.cpu_seconds = round(cpu, 2)
    out.memory_mb = round(rss / 2**20, 1)


_ROLLOUT = "rollout-*.jsonl"


def _open_rollout(pid: int | None, started: float | None) -> Path | None:
    """The codex session file the live process tree of ``pid`` holds open (its own thread's)."""
    if not pid or not is_alive(pid, started):
        return None
    with contextlib.suppress(psutil.Error):
        for p in [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                for f in p.open_files():
                    path = Path(f.path)
                    if path.match(_ROLLOUT) and "sessions" in path.parts:
                        return path
    return None


def codex_session_file(member: Member) -> Path | None:
    """``member``'s own codex session file: by the thread id its codex reported (notify), else the
    one its live process holds open; None before either is known (never a guess by cwd or time)."""
    rt = member.crewmux
    if rt is None:
        return None
    if rt.session_id:
        home = Path(_env_of(member, "CODEX_HOME") or os.environ.get("CODEX_HOME") or Path.home() / ".codex")
        found = sorted((home / "sessions").glob(f"*/*/*/rollout-*-{rt.session_id}.jsonl"))
        if found:
            return found[0]
    return _open_rollout(rt.pid, rt.pid_create_time)


def codex_session_id(member: Member, paths: TeamPaths | None = None) -> str | None:
    """The id of the codex conversation ``member`` ran: the one recorded, else the one its own codex
    named in a hook event since its process started (``paths``: its team's, to read that report),
    else the session file its live process holds open (see :func:`codex_session_file`)."""
    rt = member.crewmux
    if rt is not None and rt.session_id:
        return rt.session_id
    if paths is not None and rt is not None:
        from app.core.agent_status import reported

        said = reported(paths, member.name, fresh_for=float("inf"))
        if said is not None and said.session and said.at >= (rt.pid_create_time or 0.0):
            return said.session
    session = codex_session_file(member)
    if session is None:
        return None
    with contextlib.suppress(OSError, ValueError), session.open(errors="replace") as fh:
        sid = (json.loads(fh.readline()).get("payload") or {}).get("id")
        return str(sid) if sid else None
    return None


def bind_codex_sessions(teams: TeamStore, team: str) -> list[str]:
    """Record, as ``crewmux.sessionId``, the thread id of each codex teammate that has none yet: the
    one its own codex named in a hook event (a turn's start or end), else the one of the session
    file its live process holds open. Runs on the liveness beat and before ``usage`` and ``resume``,
    so a teammate killed mid-turn can still be resumed in its own conversation. Returns the names bound."""
    bound: list[str] = []
    paths = teams.paths(team)
    for m in teams.load(team).members:
        rt = m.crewmux
        if rt is None or rt.agent_kind != "codex" or rt.session_id:
            continue
        sid = codex_session_id(m, paths)
        if sid:

            def change(member: Member, sid: str = sid) -> None:
                if member.crewmux is not None and not member.crewmux.session_id:
                    member.crewmux.session_id = sid

            teams.set_member(team, m.name, change)
            bound.append(m.name)
    return bound


def codex_usage(session: Path, out: MemberUsage) -> None:
    """Fill ``out`` from codex's ``token_count`` events in ``session``."""
    total: dict[str, int] = {}
    turns = 0
    model: str | None = None
    for line in session.read_text(errors="replace").splitlines():
        with contextlib.suppress(ValueError, AttributeError):
            doc = json.loads(line)
            payload = doc.get("payload") or {}
            if doc.get("type") == "turn_context" and payload.get("model"):
                model = str(payload["model"])
            if payload.get("type") == "token_count" and isinstance(payload.get("info"), dict):
                turns += 1
                total = payload["info"].get("total_token_usage") or total
    out.tokens_in = int(total.get("input_tokens") or 0)
    out.tokens_out = int(total.get("output_tokens") or 0)
    out.turns = turns
    if turns:
        priced(out, [(model, out.tokens_in, out.tokens_out, int(total.get("cached_input_tokens") or 0))])
    out.source = str(session)


def _env_of(member: Member, key: str) -> str | None:
    """``key`` in the teammate's environment: as recorded, in its ``env K=V`` prefix, or its live tree's."""
    rt = member.crewmux
    if rt is None:
        return None
    if (rt.env or {}).get(key):
        return (rt.env or {})[key]
    for item in rt.argv or []:
        if item.startswith(f"{key}="):
            return item.split("=", 1)[1]
    if rt.pid:
        with contextlib.suppress(psutil.Error):
            for p in [psutil.Process(rt.pid), *psutil.Process(rt.pid).children(recursive=True)]:
                found = p.environ().get(key)
                if found:
                    return found
    return None


def gemini_usage(gemini_home: Path, session_id: str, out: MemberUsage) -> None:
    """Fill ``out`` from gemini's chat file of ``session_id`` under ``gemini_home`` (its ``.gemini``)."""
    seen: dict[str, tuple[str | None, int, int, int]] = {}
    source = ""
    for file in (gemini_home / "tmp").glob("*/chats/session-*.jsonl"):
        with contextlib.suppress(OSError, ValueError):
            lines = file.read_text(errors="replace").splitlines()
            if not lines or json.loads(lines[0]).get("sessionId") != session_id:
                continue
            source = str(file)
            for line in lines[1:]:
                with contextlib.suppress(ValueError, AttributeError):
                    doc = json.loads(line)
                    tokens = doc.get("tokens")
                    if doc.get("type") == "gemini" and isinstance(tokens, dict):
                        tin, tout = int(tokens.get("input") or 0), int(tokens.get("output") or 0)
                        seen[str(doc.get("id"))] = (doc.get("model"), tin, tout, int(tokens.get("cached") or 0))
    out.tokens_in = sum(v[1] for v in seen.values())
    out.tokens_out = sum(v[2] for v in seen.values())
    out.turns = len(seen)
    if seen:
        priced(out, list(seen.values()))
    out.source = source or f"no gemini chat for session {session_id} yet"


def token_usage(member: Member, out: MemberUsage) -> None:
    """Fill ``out``'s tokens, cost and turns from ``member``'s agent CLI's own records."""
    rt = member.crewmux
    if rt is not None and rt.session_id:
        if rt.agent_kind == "claude":
            claude_usage(_claude_dir(member), rt.session_id, out)
        elif rt.agent_kind == "aider":
            aider_usage(Path(rt.session_id), out)
        elif rt.agent_kind == "gemini":
            home = _env_of(member, "GEMINI_CLI_HOME")
            gemini_usage((Path(home) if home else Path.home()) / ".gemini", rt.session_id, out)
    if rt is not None and rt.agent_kind == "codex":
        session = codex_session_file(member)
        if session is not None:
            codex_usage(session, out)


def member_usage(member: Member) -> MemberUsage:
    """``member``'s usage now (see the module docstring)."""
    rt = member.crewmux
    kind = rt.agent_kind if rt else member.agent_type
    alive = rt is not None and rt.pid is not None and is_alive(rt.pid, rt.pid_create_time)
    state = "running" if alive else ("ended" if rt is not None and rt.ended else "stopped")
    if alive and rt is not None and rt.paused:
        state = "over-budget"
    out = MemberUsage(name=member.name, kind=kind, state=state)
    token_usage(member, out)
    if alive and rt is not None and rt.pid is not None:
        process_usage(rt.pid, rt.pid_create_time, out)
    return out


def team_usage(teams: TeamStore, team: str) -> list[MemberUsage]:
    """Every teammate's usage (the lead excepted); codex teammates are bound to their sessions first."""
    bind_codex_sessions(teams, team)
    return [member_usage(m) for m in teams.load(team).members if m.name != LEAD_NAME]


def total(rows: list[MemberUsage]) -> MemberUsage:
    """The team's sum (counts a member has none of are left out)."""

    def add(values: list[float | None]) -> float | None:
        got = [v for v in values if v is not None]
        return sum(got) if got else None

    out = MemberUsage(name="team", state="")
    tin, tout = add([r.tokens_in for r in rows]), add([r.tokens_out for r in rows])
    out.tokens_in = int(tin) if tin is not None else None
    out.tokens_out = int(tout) if tout is not None else None
    turns = add([r.turns for r in rows])
    out.turns = int(turns) if turns is not None else None
    out.cost_usd = add([r.cost_usd for r in rows])
    out.cpu_seconds = add([r.cpu_seconds for r in rows])
    out.memory_mb = add([r.memory_mb for r in rows])
    return out
