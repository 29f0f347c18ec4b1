"""``crewmux hook-event``: what an agent CLI's own hook or notify calls to report its state."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from app.cli.context import Context, as_option, common_parser, team_option
from app.core.agent_status import EVENTS, record
from app.core.errors import BadInput

if TYPE_CHECKING:
    import argparse


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
    detail = None
    if args.payload:  # codex notify appends one JSON document
        try:
            doc = json.loads(args.payload[-1])
            detail = str(doc.get("type")) if isinstance(doc, dict) and doc.get("type") else None
        except ValueError:
            detail = None
    status = record(ctx.teams.paths(team), name, args.event, detail)
    ctx.emit(status.model_dump(exclude_none=True), f"{name}: {status.state}")
    return 0


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
