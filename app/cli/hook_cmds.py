"""``crewmux hook-event``: what an agent CLI's own hook or notify calls to report its state."""

from __future__ import annotations

import contextlib
import json
from typing import TYPE_CHECKING

from app.cli.context import Context, as_option, common_parser, team_option
from app.core.agent_status import EVENTS, record
from app.core.errors import BadInput, CrewmuxError

if TYPE_CHECKING:
    import argparse

    from app.core.models import Member


def hook_event(ctx: Context, args: argparse.Namespace) -> int:
    team = ctx.team(args)
    name = ctx.agent(args)
    if args.event.lstrip().startswith("{"):  # codex notify: the JSON document alone, its "type" is the event
        args.payload = [args.event, *args.payload]
        try:
            doc = json.loads(args.event)
        except ValueError as exc:
            raise BadInput(f"hook payload is not JSON: {exc}") from exc
        args.event = str(doc.get("type", "")) if isinstance(doc, dict) else ""
    if args.event not in EVENTS:
        raise BadInput(f"unknown event {args.event!r}; known: {', '.join(sorted(EVENTS))}")
    detail, doc = None, None
    if args.payload:  # codex notify appends one JSON document
        with contextlib.suppress(ValueError):
            doc = json.loads(args.payload[-1])
        if isinstance(doc, dict):
            detail = str(doc.get("type")) if doc.get("type") else None
    status = record(ctx.teams.paths(team), name, args.event, detail)
    if isinstance(doc, dict):
        with contextlib.suppress(CrewmuxError):  # its state is recorded whatever the team file says
            _bind_codex_thread(ctx, team, name, doc.get("thread-id"))
    ctx.emit(status.model_dump(exclude_none=True), f"{name}: {status.state}")
    return 0


def _bind_codex_thread(ctx: Context, team: str, name: str, thread: object) -> None:
    """Record the thread id a codex teammate's own notify reports as its ``crewmux.sessionId``:
    what binds it to its own session file (usage) and conversation (resume), even when another
    codex runs in the same cwd."""
    if not isinstance(thread, str) or not thread:
        return
    member = ctx.teams.member(team, name)
    rt = member.crewmux
    if rt is None or rt.agent_kind != "codex" or rt.session_id == thread:
        return

    def change(m: Member) -> None:
        if m.crewmux is not None:
            m.crewmux.session_id = thread

    ctx.teams.set_member(team, name, change)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "hook-event",
        parents=[common_parser()],
        help="record an agent's own report of its state (called by its hooks / notify)",
    )
    team_option(p)
    as_option(p)
    p.add_argument("event", metavar="EVENT", help=f"one of {', '.join(sorted(EVENTS))}")
    p.add_argument("payload", nargs="*", help="what the CLI passes (codex notify: one JSON document)")
    p.set_defaults(handler=hook_event)
