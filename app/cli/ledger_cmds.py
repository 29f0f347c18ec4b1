"""``crewmux msg dead | requeue | discard`` and the ledger part of ``msg status`` (see app/core/ledger.py)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from app.cli.context import Context, common_parser, team_option
from app.core.errors import BadInput
from app.core.ledger import Ledger

if TYPE_CHECKING:
    import argparse

    from app.core.ledger import LedgerEvent


def _ledger(ctx: Context, team: str) -> Ledger:
    return Ledger(ctx.teams.paths(team))


def _when(at: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(at))


def with_ledger(ctx: Context, team: str, doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` (a mailbox status) with the ledger's state, reason and history for the message."""
    history = _ledger(ctx, team).history(str(doc["msgId"]))
    if not history:
        return doc
    last = history[-1]
    state = doc["state"]
    if last.state in ("dead", "discarded") or (last.state == "delivered" and state == "sent"):
        state = last.state
    elif last.state == "typing" and state == "sent":
        state = "typing"
    return {
        **doc,
        "state": state,
        "reason": last.reason,
        "ledger": [e.model_dump(exclude_none=True) for e in history],
    }


def _find(ctx: Context, team: str, msg_id: str) -> LedgerEvent | None:
    history = _ledger(ctx, team).history(msg_id)
    return history[-1] if history else None


def dead(ctx: Context, args: argparse.Namespace) -> int:
    team = ctx.team(args)
    box = ctx.mailbox(team)
    rows = []
    for e in _ledger(ctx, team).dead():
        texts = [m.text for m in box.inbox(e.to) if m.msg_id == e.id] if e.to else []
        rows.append(
            {"msgId": e.id, "to": e.to, "at": _when(e.at), "reason": e.reason, "text": texts[0] if texts else None}
        )
    lines = [f"{r['msgId']}  to {r['to']}  {r['at']}  {r['reason']}" for r in rows]
    ctx.emit(rows, "\n".join(lines) or "no dead letters")
    return 0


def _decide(ctx: Context, args: argparse.Namespace, state: str) -> int:
    team = ctx.team(args)
    last = _find(ctx, team, args.msg_id)
    if last is None:
        status = ctx.mailbox(team).status(args.msg_id)  # MessageNotFound (exit 2) for a stranger
        raise BadInput(f"message {args.msg_id} is {status.state}: only a dead or typed message can be {state}")
    if last.state not in ("dead", "typing"):
        raise BadInput(f"message {args.msg_id} is {last.state}: only a dead (or stuck typing) message can be {state}")
    ledger = _ledger(ctx, team)
    if state == "requeued":
        ledger.record(args.msg_id, last.to, "requeued", by="cli")
    else:
        ledger.record(args.msg_id, last.to, "discarded", by="cli")
        ctx.mailbox(team).mark_read(last.to, [args.msg_id])
    ctx.emit({"msgId": args.msg_id, "to": last.to, "state": state}, f"{args.msg_id} {state} (to {last.to})")
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
