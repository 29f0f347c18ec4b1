"""``crewmux msg ...``: mailboxes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.cli.context import Context, as_option, common_parser, team_option
from app.core.errors import Timeout
from app.core.mailbox import dump_messages

if TYPE_CHECKING:
    import argparse

    from app.core.models import InboxMessage


def _line(m: InboxMessage) -> str:
    mark = " " if m.read else "*"
    return f"{mark} {m.timestamp} {m.sender}: {m.text}"


def send(ctx: Context, args: argparse.Namespace) -> int:
    team = ctx.team(args)
    msg_id = ctx.mailbox(team).send(args.to, args.text, sender=ctx.agent(args), summary=args.summary)
    ctx.emit({"msgId": msg_id, "to": args.to, "state": "sent"}, msg_id)
    return 0


def broadcast(ctx: Context, args: argparse.Namespace) -> int:
    team = ctx.team(args)
    ids = ctx.mailbox(team).broadcast(args.text, sender=ctx.agent(args), summary=args.summary)
    ctx.emit({"msgIds": ids}, "\n".join(f"{to} {mid}" for to, mid in ids.items()) or "no other members")
    return 0


def inbox(ctx: Context, args: argparse.Namespace) -> int:
    team = ctx.team(args)
    agent = ctx.agent(args)
    box = ctx.mailbox(team)
    messages = box.inbox(agent, unread_only=args.unread)
    if args.mark_read and messages:
        # Only what was shown: with nothing shown, a message arriving meanwhile must stay unread.
        box.mark_read(agent, [m.msg_id for m in messages if m.msg_id] if any(m.msg_id for m in messages) else None)
    ctx.emit(dump_messages(messages), "\n".join(_line(m) for m in messages) or "no messages")
    return 0


def wait(ctx: Context, args: argparse.Namespace) -> int:
    team = ctx.team(args)
    agent = ctx.agent(args)
    message = ctx.mailbox(team).wait(agent, args.timeout, mark_read=args.mark_read)
    if message is None:
        raise Timeout(f"no message for {agent} within {args.timeout:g}s")
    ctx.emit(dump_messages([message])[0], _line(message))
    return 0


def status(ctx: Context, args: argparse.Namespace) -> int:
    from app.cli.ledger_cmds import with_ledger

    team = ctx.team(args)
    state = ctx.mailbox(team).status(args.msg_id)
    doc = with_ledger(ctx, team, state.as_dict())
    why = f"; {doc['reason']}" if doc.get("reason") else ""
    ctx.emit(doc, f"{doc['state']} (to {state.to}, from {state.sender}, at {state.timestamp}){why}")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    common = common_parser()
    p = sub.add_parser("msg", help="send, broadcast, read and wait for messages")
    msub = p.add_subparsers(dest="msg_command", metavar="ACTION", required=True)

    s = msub.add_parser("send", parents=[common], help="send a message to one member")
    s.add_argument("to")
    s.add_argument("text")
    team_option(s)
    as_option(s)
    s.add_argument("--summary", default=None)
    s.set_defaults(handler=send)

    b = msub.add_parser("broadcast", parents=[common], help="send to every member but yourself")
    b.add_argument("text")
    team_option(b)
    as_option(b)
    b.add_argument("--summary", default=None)
    b.set_defaults(handler=broadcast)

    i = msub.add_parser("inbox", parents=[common], help="list your messages")
    team_option(i)
    as_option(i)
    i.add_argument("--unread", action="store_true")
    i.add_argument("--mark-read", action="store_true")
    i.set_defaults(handler=inbox)

    w = msub.add_parser("wait", parents=[common], help="wait for the first unread message")
    team_option(w)
    as_option(w)
    w.add_argument("--timeout", type=float, default=60.0, metavar="SECONDS")
    w.add_argument("--mark-read", action="store_true")
    w.set_defaults(handler=wait)

    st = msub.add_parser("status", parents=[common], help="sent or read?")
    st.add_argument("msg_id")
    team_option(st)
    st.set_defaults(handler=status)

    from app.cli.ledger_cmds import add_to

    add_to(msub)  # dead, requeue, discard
