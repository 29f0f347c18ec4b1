"""``crewmux worker | shutdown | resume | monitor | worktree`` — teammate lifecycle commands."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from app.cli.context import Context, as_option, common_parser, say, team_option
from app.core.errors import BadInput

if TYPE_CHECKING:
    import argparse

    from app.lifecycle.resume import ResumeEntry
    from app.lifecycle.shutdown import ShutdownResult


def worker(ctx: Context, args: argparse.Namespace) -> int:
    from app.agents.worker import Worker, WorkerConfig

    team = ctx.team(args)
    cfg = WorkerConfig(team=team, name=ctx.agent(args), plan=args.plan, heartbeat_interval=args.heartbeat)
    return Worker(ctx.teams, cfg).run()


def _result_text(r: ShutdownResult) -> str:
    head = {
        "approved": f"{r.name} approved the shutdown",
        "rejected": f"{r.name} REJECTED the shutdown: {r.reason}",
        "timeout": f"{r.name} did not answer ({r.reason}); its processes were ended",
        "not_running": f"{r.name} was not running",
        "quit": f"{r.name} {r.reason}",
    }[r.outcome]
    lines = [head]
    if r.killed:
        lines.append(f"  ended pids {', '.join(map(str, r.killed))}")
    if r.sigkilled:
        lines.append(f"  SIGKILLed pids {', '.join(map(str, r.sigkilled))}")
    if r.pane_closed:
        lines.append("  pane closed")
    if r.removed:
        lines.append(f"  removed from the team; released tasks: {', '.join(r.released) or 'none'}")
    lines.extend(f"  {n}" for n in r.notes)
    return "\n".join(lines)


def shutdown(ctx: Context, args: argparse.Namespace) -> int:
    from app.lifecycle.teammates import Teammates

    team = ctx.team(args)
    r = Teammates(ctx.teams, team).shutdown(args.name, timeout=args.timeout, force=args.force, reason=args.reason)
    doc = {
        "name": r.name,
        "outcome": r.outcome,
        "reason": r.reason,
        "removed": r.removed,
        "killed": r.killed,
        "sigkilled": r.sigkilled,
        "released": r.released,
        "paneClosed": r.pane_closed,
        "notes": r.notes,
        "seconds": round(r.seconds, 3),
    }
    ctx.emit(doc, _result_text(r))
    return 3 if r.outcome == "rejected" and not r.removed else 0


def resume(ctx: Context, args: argparse.Namespace) -> int:
    from app.lifecycle.teammates import Teammates

    ctx.teams.load(args.name)
    report = Teammates(ctx.teams, args.name).resume(backend=args.backend)
    docs = [
        {"name": e.name, "action": e.action, "detail": e.detail, "conversation": e.conversation,
         "released": list(e.released)}
        for e in report
    ]  # fmt: skip
    ctx.emit(docs, "\n".join(_resume_line(e) for e in report) or "no teammates to resume")
    return 1 if any(e.action == "failed" for e in report) else 0


def _resume_line(e: ResumeEntry) -> str:
    extra = [e.conversation] if e.conversation else []
    if e.released:
        extra.append(f"released task(s) {', '.join(e.released)}")
    return f"{e.name:20} {e.action:10} {e.detail}" + "".join(f"\n{'':31}{x}" for x in extra)


def monitor(ctx: Context, args: argparse.Namespace) -> int:
    from app.lifecycle.monitor import LivenessMonitor

    team = ctx.team(args)
    mon = LivenessMonitor(ctx.teams, team, stale_after=args.stale_after)
    if args.once:
        dead = mon.check_once()
        ctx.emit(
            [{"name": d.name, "reason": d.reason, "released": d.released} for d in dead],
            "\n".join(f"{d.name} dead: {d.reason}; released {d.released}" for d in dead) or "all alive",
        )
        return 0
    try:
        with mon.exit_watch() as watch:  # a death is checked when the kernel reports it
            while True:
                for d in mon.check_once():
                    say(f"{d.name} dead: {d.reason}; released {', '.join(d.released) or 'nothing'}", flush=True)
                mon.wait(watch, args.interval)
    except KeyboardInterrupt:
        return 130


def deliver(ctx: Context, args: argparse.Namespace) -> int:
    from app.agents.adapters import load_rules
    from app.agents.delivery import AgentBusy, deliver_unread
    from app.agents.wake import Waker
    from app.lifecycle.inbox_delivery import deliverer_lock
    from app.lifecycle.teammates import Teammates

    team = ctx.team(args)
    teammates = Teammates(ctx.teams, team)
    member = teammates.member(args.name)
    rt = member.crewmux
    kind = (rt.agent_kind if rt else None) or member.agent_type or "shell"
    if rt is None or member.backend_type in (None, "in-process"):
        raise BadInput(f"{args.name!r} has no pane crewmux can type into (backend {member.backend_type or 'none'})")
    rules = load_rules(kind)
    handle, backend = teammates.handle_of(member), teammates.backend_for(member)
    mail = ctx.mailbox(team)
    inbox = mail.paths.inbox(args.name)

    def show(d: object) -> None:
        msg_id, enters = getattr(d, "msg_id", None), getattr(d, "enters", 1)
        say(f"delivered {msg_id} to {args.name}" + (" (second Enter)" if enters > 1 else ""), flush=True)

    from app.agents.mcp_wiring import wired

    if rules.mcp_start > 0 and rt.pid_create_time and wired(rt.argv):  # its MCP start-up first, as the console's
        from app.core.mcp_ready import wait_listed

        started = rt.pid_create_time
        wait_listed(mail.paths, args.name, started, started + rules.mcp_start - time.time())
    # One deliverer per teammate: wait (up to --timeout) while the console's types into it.
    with (
        deliverer_lock(mail.paths, args.name, wait=args.timeout),
        Waker([(inbox.parent, lambda n: n == inbox.name)]) as waker,
    ):
        while True:
            waker.event.clear()
            try:
                deliver_unread(mail, args.name, backend, handle, rules, timeout=args.timeout, on_delivered=show)
            except AgentBusy:
                if not args.follow:
                    raise
            if not args.follow or not backend.is_alive(handle):
                return 0
            waker.wait(30.0)


def worktree_list(ctx: Context, args: argparse.Namespace) -> int:
    from app.agents.worktree import list_worktrees

    found = list_worktrees(Path(args.repo))
    ctx.emit(
        [w.__dict__ for w in found],
        "\n".join(f"{w.path}  {w.branch}{'  (uncommitted work)' if w.dirty else ''}" for w in found)
        or "no crewmux worktrees",
    )
    return 0


def worktree_remove(ctx: Context, args: argparse.Namespace) -> int:
    from app.agents.worktree import remove_worktree

    remove_worktree(Path(args.repo), args.path, force=args.force)
    ctx.emit({"removed": args.path}, f"removed worktree {args.path}")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    common = common_parser()
    p = sub.add_parser("worker", parents=[common], help="run the built-in worker (follows the protocol, no model)")
    team_option(p)
    as_option(p)
    p.add_argument("--plan", action="store_true", help="ask the lead to approve each command before running it")
    p.add_argument("--heartbeat", type=float, default=1.0, metavar="S", help="heartbeat interval (default 1 s)")
    p.set_defaults(handler=worker)

    p = sub.add_parser("shutdown", parents=[common], help="stop a teammate; always ends within timeout + 5 s")
    p.add_argument("name")
    team_option(p)
    p.add_argument("--timeout", type=float, default=10.0, metavar="S", help="wait for an answer (default 10 s)")
    p.add_argument("--force", action="store_true", help="stop it even if it rejects")
    p.add_argument("--reason", default=None, help="told to the teammate")
    p.set_defaults(handler=shutdown)

    p = sub.add_parser("resume", parents=[common], help="re-attach live teammates, restart dead ones")
    p.add_argument("name", metavar="TEAM")
    p.add_argument("--backend", default=None, help="backend for restarted teammates (default: as recorded)")
    p.set_defaults(handler=resume)

    p = sub.add_parser("usage", parents=[common], help="tokens, cost, turns, CPU and memory per teammate")
    team_option(p)
    p.set_defaults(handler=usage)

    p = sub.add_parser("budget", parents=[common], help="raise a teammate's budget; resumes it, releases its messages")
    p.add_argument("name")
    team_option(p)
    p.add_argument("--max-tokens", type=int, default=None, metavar="N")
    p.add_argument("--max-usd", type=float, default=None, metavar="X")
    p.add_argument("--max-minutes", type=float, default=None, metavar="M")
    p.set_defaults(handler=budget)

    p = sub.add_parser("monitor", parents=[common], help="watch a team's liveness; release dead teammates' tasks")
    team_option(p)
    p.add_argument("--once", action="store_true", help="check once and exit")
    p.add_argument("--interval", type=float, default=1.0, metavar="S")
    p.add_argument("--stale-after", type=float, default=5.0, metavar="S", help="heartbeat age that means dead")
    p.set_defaults(handler=monitor)

    p = sub.add_parser("deliver", parents=[common], help="type a teammate's unread messages into its pane")
    p.add_argument("name")
    team_option(p)
    p.add_argument("--follow", action="store_true", help="keep delivering new messages while the pane lives")
    p.add_argument("--timeout", type=float, default=60.0, metavar="S", help="wait this long for its input prompt")
    p.set_defaults(handler=deliver)

    p = sub.add_parser("worktree", parents=[common_parser(json_flag=False)], help="list or remove teammate worktrees")
    wsub = p.add_subparsers(dest="worktree_command", required=True)
    q = wsub.add_parser("list", parents=[common])
    q.add_argument("--repo", default=".", help="repository (default: current dir)")
    q.set_defaults(handler=worktree_list)
    q = wsub.add_parser("remove", parents=[common])
    q.add_argument("path")
    q.add_argument("--repo", default=".")
    q.add_argument("--force", action="store_true", help="drop uncommitted work")
    q.set_defaults(handler=worktree_remove)


def usage(ctx: Context, args: argparse.Namespace) -> int:
    from app.lifecycle.usage import team_usage, total

    ctx.teams.load(args.team)
    rows = team_usage(ctx.teams, args.team)

    def cell(v: float | None, fmt: str = "{:g}") -> str:
        return "-" if v is None else fmt.format(v)

    head = f"{'name':16} {'state':9} {'in':>9} {'out':>9} {'usd':>9} {'turns':>5} "
    head += f"{'wall s':>8} {'cpu s':>7} {'mem MB':>7}"
    lines = [
        f"{r.name:16} {r.state:9} {cell(r.tokens_in):>9} {cell(r.tokens_out):>9} {cell(r.cost_usd, '{:.4f}'):>9} "
        f"{cell(r.turns):>5} {cell(r.wall_seconds):>8} {cell(r.cpu_seconds):>7} {cell(r.memory_mb):>7}"
        for r in [*rows, total(rows)]
    ]
    notes = [f"{r.name}: cost unknown, {r.cost_note}" for r in rows if r.cost_note]  # say why a cost is null
    ctx.emit([r.model_dump(by_alias=True) for r in rows], "\n".join([head, *lines, *notes]))
    return 0


def budget(ctx: Context, args: argparse.Namespace) -> int:
    from app.lifecycle.budgets import set_budget

    team = ctx.team(args)
    released = set_budget(
        ctx.teams, team, args.name, max_tokens=args.max_tokens, max_usd=args.max_usd, max_minutes=args.max_minutes
    )
    text = f"{args.name}: budget set; {len(released)} held message(s) released"
    ctx.emit({"name": args.name, "released": released}, text)
    return 0
