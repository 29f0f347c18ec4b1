"""The ``crewmux`` command: one entry point, one subcommand per verb.

Each command group lives in its own module and registers itself through ``register(subparsers)``;
this module only builds the parser, runs the chosen handler and maps errors to exit codes:
0 ok, 1 unexpected failure, 2 bad input (an argument that is not UTF-8, too), 3 refused, 4 timed
out; 141 (as for a writer killed by SIGPIPE) when the reader closed stdout early.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import logging
import os
import sys
from typing import TYPE_CHECKING

from app.cli.context import Context, common_parser, say
from app.core.errors import EXIT_BAD_INPUT, EXIT_FAILURE, ClaimRefused, CrewmuxError
from app.core.interop import export_interop

if TYPE_CHECKING:
    from collections.abc import Sequence

# Each command group's module and the commands it registers, in the order ``crewmux --help``
# lists them. A command's group is imported when that command runs (or help lists them all):
# ``crewmux console`` does not import what ``crewmux mcp`` or ``crewmux web`` need.
GROUPS: dict[str, tuple[str, ...]] = {
    "team_cmds": ("team",),
    "task_cmds": ("task",),
    "msg_cmds": ("msg",),
    "pane_cmds": ("spawn", "panes", "kill"),
    "agent_cmds": ("worker", "shutdown", "resume", "usage", "budget", "monitor", "deliver", "worktree"),
    "console_cmds": ("attach", "console"),
    "cohost_cmds": ("claude",),
    "iterate_cmds": ("iterate",),
    "doctor_cmds": ("doctor",),
    "hook_cmds": ("hook-event",),
    "mcp_cmds": ("mcp",),
    "web_cmds": ("web",),
}
EXIT_BROKEN_PIPE = 141


def group_of(argv: Sequence[str]) -> str | None:
    """The group of the command ``argv`` names, when only ``--home DIR`` and ``--claude`` come
    before it; else None (no command, help, or anything argparse must judge with every command)."""
    rest = iter(argv)
    for arg in rest:
        if arg == "--home":
            next(rest, None)
        elif arg == "--claude" or arg.startswith("--home="):
            continue
        elif arg.startswith("-"):
            return None
        else:
            return next((group for group, names in GROUPS.items() if arg in names), None)
    return None


def build_parser(group: str | None = None) -> argparse.ArgumentParser:
    """The ``crewmux`` parser: every command, or only ``group``'s (the same parser for its commands)."""
    parser = argparse.ArgumentParser(
        prog="crewmux",
        description="Run a crew of terminal agents as a team.",
        parents=[common_parser(json_flag=False)],
    )
    parser.add_argument(
        "--claude",
        action="store_true",
        default=False,
        help="interop mode: work on Claude Code's teams under $CLAUDE_CONFIG_DIR or ~/.claude, "
        "under Claude Code's locks (also $CREWMUX_CLAUDE=1)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in GROUPS if group is None else (group,):
        importlib.import_module(f"app.cli.{name}").register(sub)
    return parser


def _report(ctx: Context, exc: CrewmuxError) -> None:
    if ctx.json:
        doc: dict[str, object] = {"error": str(exc), "type": type(exc).__name__, "exitCode": exc.exit_code}
        if isinstance(exc, ClaimRefused):
            doc.update(reason=exc.reason, taskId=exc.task_id or None, owner=exc.owner, blockers=list(exc.blockers))
        print(json.dumps(doc), file=sys.stderr)
    else:
        say(f"crewmux: {exc}", err=True)


def _undecodable(argv: Sequence[str]) -> str | None:
    """The first argument holding bytes that are not UTF-8 (Python keeps them as lone surrogates)."""
    for arg in argv:
        if any("\udc80" <= ch <= "\udcff" for ch in arg):
            return arg.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return None


def _quiet_broken_pipe() -> int:
    """The reader closed stdout early (``crewmux ... | head -c1``): stop quietly, as Unix tools do.

    stdout is pointed at /dev/null so the interpreter's final flush does not complain again;
    the status is the shell's for a writer killed by SIGPIPE (128 + 13).
    """
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    return EXIT_BROKEN_PIPE


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    bad = _undecodable(arguments)
    if bad is not None:
        print(f"crewmux: argument {bad!r} is not valid UTF-8", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        return _run(arguments)
    except BrokenPipeError:
        return _quiet_broken_pipe()


def _run(argv: list[str]) -> int:
    args = build_parser(group_of(argv)).parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="crewmux: warning: %(message)s", stream=sys.stderr)
    ctx = Context.from_args(args)
    if ctx.interop:  # processes crewmux starts (workers, panes) work on the same root
        export_interop(ctx.home)
    handler = getattr(args, "handler", None)
    if handler is None:
        from app.cli.team_cmds import overview

        handler = overview
        if sys.stdin.isatty() and sys.stdout.isatty():  # a bare `crewmux` on a terminal opens the console
            from app.cli.console_cmds import console

            handler = console
    try:
        result = handler(ctx, args)
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's exit
        return int(result or 0)
    except BrokenPipeError:
        raise
    except CrewmuxError as exc:
        _report(ctx, exc)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the one place that turns a bug into exit 1 with a message
        logging.getLogger("crewmux").debug("unexpected failure", exc_info=True)
        say(f"crewmux: unexpected failure: {type(exc).__name__}: {exc}", err=True)
        return EXIT_FAILURE
