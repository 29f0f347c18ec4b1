"""``crewmux team ...`` and the overview printed by a bare ``crewmux``."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from app.cli.context import Context, common_parser, say, team_option
from app.core.liveness import is_alive
from app.core.models import MemberRuntime, TeamFile

if TYPE_CHECKING:
    import argparse

    from app.core.models import Member


def _doc(model: TeamFile | Member) -> Any:
    return json.loads(model.to_json())


def _alive(m: Member) -> bool:
    return m.crewmux is not None and is_alive(m.crewmux.pid, m.crewmux.pid_create_time)


def create(ctx: Context, args: argparse.Namespace) -> int:
    team = ctx.teams.create(args.name, args.description)
    ctx.emit(_doc(team), f"created team {team.name!r} in {ctx.teams.paths(team.name).team_dir}")
    return 0


def list_teams(ctx: Context, args: argparse.Namespace) -> int:
    teams = ctx.teams.list_teams()
    lines = [f"{t.name:24} {len(t.members):3} members  {t.description or ''}".rstrip() for t in teams]
    ctx.emit([_doc(t) for t in teams], "\n".join(lines) if lines else f"no teams under {ctx.home}")
    return 0


def _member_line(m: Member) -> str:
    rt = m.crewmux
    pid = rt.pid if rt and rt.pid else "-"
    state = "alive" if _alive(m) else ("-" if m.name == "team-lead" else "not running")
    kind = m.agent_type or (rt.agent_kind if rt else None) or "-"
    where = f"{m.backend_type or '-':10} pane {m.tmux_pane_id or '-':10}"
    return f"  {m.name:20} {kind:12} {where} pid {pid!s:8} {state}"


def show(ctx: Context, args: argparse.Namespace) -> int:
    team = ctx.teams.load(args.name)
    doc = _doc(team)
    for entry, m in zip(doc["members"], team.members, strict=True):
        entry["alive"] = _alive(m)
    text = "\n".join([f"team {team.name}: {team.description or ''}".rstrip(), *(_member_line(m) for m in team.members)])
    ctx.emit(doc, text)
    return 0


def delete(ctx: Context, args: argparse.Namespace) -> int:
    """Refused while members run; with --force, shut them down first (request, then escalation)."""
    stopped: list[str] = []
    if args.force and ctx.teams.alive_members(args.name):
        from app.lifecycle.teammates import Teammates

        results = Teammates(ctx.teams, args.name).shutdown_all(timeout=args.timeout, force=True)
        stopped = [r.name for r in results if r.outcome != "not_running"]
    alive = ctx.teams.delete(args.name, force=args.force)
    note = f" (shut down {', '.join(stopped)})" if stopped else ""
    if alive:
        note += f" ({len(alive)} member process(es) were still running)"
    doc = {"deleted": args.name, "shutDown": stopped, "stillAlive": [m.name for m in alive]}
    ctx.emit(doc, f"deleted team {args.name!r}{note}")
    return 0


def join(ctx: Context, args: argparse.Namespace) -> int:
    team = ctx.team(args)
    runtime = None
    if args.pid:
        from app.core.liveness import create_time

        runtime = MemberRuntime(pid=args.pid, pid_create_time=create_time(args.pid))
    member = ctx.teams.join(team, args.name, agent_type=args.agent_type, runtime=runtime)
    ctx.emit(_doc(member), f"{member.name} joined team {team!r}")
    return 0


def leave(ctx: Context, args: argparse.Namespace) -> int:
    team = ctx.team(args)
    member = ctx.teams.leave(team, args.name)
    ctx.emit(_doc(member), f"{member.name} left team {team!r}")
    return 0


def overview(ctx: Context, args: argparse.Namespace) -> int:
    """A bare ``crewmux``: every team with its members and task counts."""
    teams = ctx.teams.list_teams()
    if not teams:
        print(f"no teams under {ctx.home}; start with: crewmux team create NAME")
        return 0
    for team in teams:
        tasks = ctx.tasks(team.name).list_tasks()
        done = sum(t.status == "completed" for t in tasks)
        say(f"{team.name}: {len(team.members)} members, {done}/{len(tasks)} tasks completed")
        for m in team.members:
            say(_member_line(m))
    return 0


def delegate(ctx: Context, args: argparse.Namespace) -> int:
    """``team delegate T on|off``: the lead may only coordinate while on (enforced in the core)."""
    from app.core.policy import set_delegate

    ctx.teams.load(args.name)
    on = args.state == "on"
    set_delegate(ctx.teams.paths(args.name), on)
    ctx.emit(
        {"team": args.name, "delegateMode": on},
        f"delegate mode {args.state} for team {args.name!r}"
        + (": the lead may spawn, message, manage tasks, approve plans and shut down, not work" if on else ""),
    )
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    common = common_parser()
    p = sub.add_parser("team", help="create, list, show, join, leave, delete teams")
    tsub = p.add_subparsers(dest="team_command", metavar="ACTION", required=True)

    c = tsub.add_parser("create", parents=[common], help="create a team (the lead is member 0)")
    c.add_argument("name")
    c.add_argument("--description", default=None)
    c.set_defaults(handler=create)

    ls = tsub.add_parser("list", parents=[common], help="list teams")
    ls.set_defaults(handler=list_teams)

    s = tsub.add_parser("show", parents=[common], help="show a team and its members")
    s.add_argument("name")
    s.set_defaults(handler=show)

    d = tsub.add_parser("delete", parents=[common], help="delete a team's files")
    d.add_argument("name")
    d.add_argument("--force", action="store_true", help="shut live members down first, then delete")
    d.add_argument("--timeout", type=float, default=10.0, help="seconds each member gets to approve shutdown")
    d.set_defaults(handler=delete)

    j = tsub.add_parser("join", parents=[common], help="register a member")
    j.add_argument("name")
    team_option(j)
    j.add_argument("--pid", type=int, default=None)
    j.add_argument("--agent-type", default=None)
    j.set_defaults(handler=join)

    dm = tsub.add_parser("delegate", parents=[common], help="turn delegate mode on or off (the lead only coordinates)")
    dm.add_argument("name", metavar="TEAM")
    dm.add_argument("state", choices=("on", "off"))
    dm.set_defaults(handler=delegate)

    lv = tsub.add_parser("leave", parents=[common], help="remove a member")
    lv.add_argument("name")
    team_option(lv)
    lv.set_defaults(handler=leave)
