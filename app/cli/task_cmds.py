"""``crewmux task ...``: the shared task list."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from app.cli.context import Context, as_option, common_parser, team_option

if TYPE_CHECKING:
    import argparse

    from app.core.models import Task


def task_doc(task: Task, blockers: list[str] | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(task.to_json())
    if blockers is not None:
        doc["blocked"] = bool(blockers)
        doc["availability"] = task.availability(blockers)
    return doc


def task_line(task: Task, blockers: list[str]) -> str:
    flag = f" blocked by {','.join(blockers)}" if blockers else ""
    owner = f" @{task.owner}" if task.owner else ""
    return f"#{task.id:>4} [{task.status}]{owner} {task.subject}{flag}"


def add(ctx: Context, args: argparse.Namespace) -> int:
    team = ctx.team(args)
    store = ctx.tasks(team)
    metadata = {"command": args.command} if args.command else None
    task = store.create(args.subject, args.description or "", blocked_by=args.blocked_by or (), metadata=metadata)
    blockers = store.open_blockers(task.id)
    ctx.emit(task_doc(task, blockers), f"added task #{task.id}")
    return 0


def list_tasks(ctx: Context, args: argparse.Namespace) -> int:
    store = ctx.tasks(ctx.team(args))
    tasks = store.list_tasks()
    blocked = store.blocked(tasks)
    ctx.emit(
        [task_doc(t, blocked[t.id]) for t in tasks],
        "\n".join(task_line(t, blocked[t.id]) for t in tasks) or "no tasks",
    )
    return 0


def show(ctx: Context, args: argparse.Namespace) -> int:
    store = ctx.tasks(ctx.team(args))
    task = store.get(args.id)
    blockers = store.open_blockers(task.id)
    text = task_line(task, blockers) + (f"\n{task.description}" if task.description else "")
    ctx.emit(task_doc(task, blockers), text)
    return 0


def claim(ctx: Context, args: argparse.Namespace) -> int:
    team = ctx.team(args)
    agent = ctx.agent(args)
    ctx.teams.member(team, agent)
    task = ctx.tasks(team).claim(args.id, agent, check_busy=args.check_busy)
    ctx.emit(task_doc(task, []), f"{agent} claimed task #{task.id}: {task.subject}")
    return 0


def update(ctx: Context, args: argparse.Namespace) -> int:
    team = ctx.team(args)
    changes: dict[str, Any] = {}
    for key in ("status", "subject", "description", "active_form"):
        value = getattr(args, key)
        if value is not None:
            changes[key] = value
    if args.owner is not None:
        if args.owner:
            ctx.teams.member(team, args.owner)
        changes["owner"] = args.owner or None
    store = ctx.tasks(team)
    task = store.update(args.id, add_blocked_by=args.add_blocked_by or (), add_blocks=args.add_blocks or (), **changes)
    if task is None:
        ctx.emit({"id": args.id, "deleted": True}, f"deleted task #{args.id}")
        return 0
    ctx.emit(task_doc(task, store.open_blockers(task.id)), f"updated task #{task.id}")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    common = common_parser()
    p = sub.add_parser("task", help="the shared task list")
    tsub = p.add_subparsers(dest="task_command", metavar="ACTION", required=True)

    a = tsub.add_parser("add", parents=[common], help="add a task")
    a.add_argument("subject")
    team_option(a)
    a.add_argument("--description", default="")
    a.add_argument("--blocked-by", action="append", metavar="ID")
    a.add_argument("--command", default=None, help="shell command the built-in worker runs")
    a.set_defaults(handler=add)

    ls = tsub.add_parser("list", parents=[common], help="list tasks with their availability")
    team_option(ls)
    ls.set_defaults(handler=list_tasks)

    s = tsub.add_parser("show", parents=[common], help="show a task")
    s.add_argument("id")
    team_option(s)
    s.set_defaults(handler=show)

    c = tsub.add_parser("claim", parents=[common], help="claim a task (no ID: the lowest available)")
    c.add_argument("id", nargs="?", default=None)
    team_option(c)
    as_option(c)
    c.add_argument("--check-busy", action="store_true", help="refuse if you already own an unfinished task")
    c.set_defaults(handler=claim)

    u = tsub.add_parser("update", parents=[common], help="change a task")
    u.add_argument("id")
    team_option(u)
    u.add_argument("--status", choices=["pending", "in_progress", "completed", "deleted"])
    u.add_argument("--owner", default=None, help="member name; '' to unassign")
    u.add_argument("--subject", default=None)
    u.add_argument("--description", default=None)
    u.add_argument("--active-form", default=None)
    u.add_argument("--add-blocked-by", action="append", metavar="ID")
    u.add_argument("--add-blocks", action="append", metavar="ID")
    u.set_defaults(handler=update)
