"""``crewmux msg dead | requeue | discard`` and the ledger part of ``msg status`` (see app/core/ledger.py)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Literal

from app.cli.context import Context, common_parser, team_option
from app.core.ledger import Ledger, dead_letters, decide, shown_state

if TYPE_CHECKING:
    import argparse


def _ledger(ctx: Context, team: str) -> Ledger:
    return Ledger(ctx.teams.paths(team))


def _when(at: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(at))


def with_ledger(ctx: Context, team: str, doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` (a mailbox status) with the ledger's state, reason and history for the message."""
    history = _ledger(ctx, team).history(str(doc["msgId"]))
    if not history:
        return doc
    state, reason = shown_state(doc["state"], history)
    return {**doc, "state": state, "reason": reason, "ledger": [e.model_dump(exclude_none=True) for e in history]}


def dead(ctx: Context, args: argparse.Namespace) -> int:
    team = ctx.team(args)
    rows = [
        {"msgId": d.event.id, "to": d.event.to, "at": _when(d.event.at), "reason": d.event.reason, "text": d.text}
        for d in dead_letters(ctx.mailbox(team))
    ]
    lines = [f"{r['msgId']}  to {r['to']}  {r['at']}  {r['reason']}" for r in rows]
    ctx.emit(rows, "\n".join(lines) or "no dead letters")
    return 0


def _decide(ctx: Context, args: argparse.Namespace, state: Literal["requeued", "discarded"]) -> int:
    event = decide(ctx.mailbox(ctx.team(args)), args.msg_id, state, by="cli")
    ctx.emit({"msgId": args.msg_id, "to": event.to, "state": state}, f"{args.msg_id} {state} (to {event.to})")
    return 0


def requeue(ctx: Context, args: argparse.Namespace) -> int:
    return _decide(ctx, args, "requeued")


def discard(ctx: Context, args: argparse.Namespace) -> int:
    return _decide(ctx, args, "discarded")


def add_to(msub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``dead``, ``requeue`` and ``discard`` to ``crewmux msg``."""
    common = common_parser()
    d = msub.add_parser("dead", parents=[common], help="list dead letters (messages crewmux gave up on)")
    team_option(d)
    d.set_defaults(handler=dead)
    for name, handler, text in (
        ("requeue", requeue, "let a dead message be delivered again (typed once more)"),
        ("discard", discard, "drop a dead message for good"),
    ):
        q = msub.add_parser(name, parents=[common], help=text)
        q.add_argument("msg_id")
        team_option(q)
        q.set_defaults(handler=handler)
