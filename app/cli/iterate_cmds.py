"""``crewmux iterate``: run work as a chain of fresh processes that hand on a checkpoint."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import TYPE_CHECKING

from app.cli.context import common_parser
from app.core.errors import EXIT_FAILURE, EXIT_OK, BadInput

if TYPE_CHECKING:
    import argparse

    from app.cli.context import Context

#: how each known agent is run once, non-interactively, on a prompt (the prompt is appended).
AGENT_ARGV: dict[str, list[str]] = {
    "claude": ["claude", "--output-format", "json", "-p"],
    "codex": ["codex", "exec", "--skip-git-repo-check"],  # iterations may run outside a git repository
    "gemini": ["gemini", "-p"],
    "aider": ["aider", "--yes", "--message"],
}

PROMPT_PREAMBLE = (
    "You are one iteration of a longer job. Read the checkpoint file named in $CREWMUX_CHECKPOINT, "
    "do the next piece of work, write the checkpoint back (set status to done when the job is "
    "finished) and exit. Earlier failures, if any, are in the file named in $CREWMUX_LEARNINGS.\n\n"
)


def command_argv(args: argparse.Namespace) -> list[str]:
    """The argv each iteration runs. Raises BadInput when neither --command nor --agent fits."""
    if args.command_line:
        return ["/bin/sh", "-c", args.command_line]
    if args.agent_kind:
        base = AGENT_ARGV.get(args.agent_kind)
        if base is None:
            raise BadInput(f"unknown agent {args.agent_kind!r}; known: {', '.join(sorted(AGENT_ARGV))}")
        if not args.prompt_file:
            raise BadInput("--agent needs --prompt-file F")
        try:
            prompt = Path(args.prompt_file).read_text(encoding="utf-8")
        except OSError as exc:
            raise BadInput(f"cannot read prompt file {args.prompt_file}: {exc}") from exc
        return [*base, PROMPT_PREAMBLE + prompt]
    raise BadInput("give the iteration to run: --command CMD, or --agent NAME --prompt-file F")


def _terminated(signum: int, _frame: object) -> None:
    """SIGTERM stops the run like Ctrl-C: running iterations are killed, --resume re-runs them."""
    raise KeyboardInterrupt(f"signal {signum}")


def iterate(ctx: Context, args: argparse.Namespace) -> int:
    from app.orchestrate.runner import Options
    from app.orchestrate.start import run

    if args.parallel is not None and args.parallel < 1:
        raise BadInput("--parallel must be at least 1")
    if args.max_iterations is not None and args.max_iterations < 0:
        raise BadInput("--max-iterations must not be negative")
    options = Options(
        checkpoint=Path(args.checkpoint).expanduser().resolve(),
        argv=command_argv(args),
        home=ctx.home,
        max_iterations=args.max_iterations,
        until_done=args.until_done,
        parallel=args.parallel or 0,
        team=args.team,
        resume=args.resume,
        iteration_timeout=args.iteration_timeout,
        heartbeat_timeout=args.heartbeat_timeout,
        retries=args.retries,
        backend=None if args.headless else args.backend,
    )
    previous = signal.signal(signal.SIGTERM, _terminated)
    try:
        summary = run(options)
    finally:
        signal.signal(signal.SIGTERM, previous)
    ctx.emit(summary.to_doc(), summary.to_text())
    if summary.status == "done":
        return EXIT_OK
    if summary.status == "failed" or args.until_done:
        return EXIT_FAILURE
    return EXIT_OK


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "iterate",
        parents=[common_parser()],
        help="run work as fresh processes that hand on a checkpoint",
        description=(
            "Run each iteration as a fresh process with $CREWMUX_CHECKPOINT and $CREWMUX_ITERATION; "
            "it reads the checkpoint, works, writes it back and exits. Stops when the checkpoint "
            "says done, after --max-iterations, or when an iteration fails past --retries."
        ),
    )
    p.add_argument("--checkpoint", required=True, metavar="FILE", help="the checkpoint file (made if missing)")
    what = p.add_mutually_exclusive_group()
    what.add_argument("--command", dest="command_line", metavar="CMD", help="shell command run per iteration")
    what.add_argument("--agent", dest="agent_kind", metavar="NAME", help=f"one of {', '.join(AGENT_ARGV)}")
    p.add_argument("--prompt-file", metavar="F", help="the prompt handed to --agent")
    p.add_argument("--max-iterations", type=int, metavar="N", help="stop after N committed iterations")
    p.add_argument("--until-done", action="store_true", help="exit 1 unless the checkpoint ends done")
    p.add_argument("--parallel", type=int, metavar="N", help="run the checkpoint's tasks, N at a time")
    p.add_argument("--team", metavar="T", help="team whose task list shows the tasks (parallel mode)")
    p.add_argument("--resume", action="store_true", help="settle an iteration a crash left in flight")
    p.add_argument("--iteration-timeout", type=float, metavar="S", help="kill an iteration after S seconds")
    p.add_argument(
        "--heartbeat-timeout", type=float, metavar="S", help="kill an iteration silent (no heartbeat, no output) for S"
    )
    p.add_argument("--retries", type=int, default=2, metavar="N", help="retries of a failing iteration (default 2)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--backend", metavar="NAME", help="run each iteration in a pane of this backend")
    where.add_argument("--headless", action="store_true", help="plain child processes (the default)")
    p.set_defaults(handler=iterate)
