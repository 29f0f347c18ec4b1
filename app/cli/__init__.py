"""The ``crewmux`` command: one entry point, one subcommand per verb.

Each command group lives in its own module and registers itself through ``register(subparsers)``;
this module only builds the parser, runs the chosen handler and maps errors to exit codes:
0 ok, 1 unexpected failure, 2 bad input (an argument that is not UTF-8, too), 3 refused, 4 timed
out; 141 (as for a writer killed by SIGPIPE) when the reader closed stdout early.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
from typing import TYPE_CHECKING

from app.cli import (
    agent_cmds,
    cohost_cmds,
    console_cmds,
    doctor_cmds,
    hook_cmds,
    iterate_cmds,
    mcp_cmds,
    msg_cmds,
    pane_cmds,
    task_cmds,
    team_cmds,
    web_cmds,
)
from app.cli.context import Context, common_parser, say
from app.core.errors import EXIT_BAD_INPUT, EXIT_FAILURE, ClaimRefused, CrewmuxError
from app.core.interop import export_interop

if TYPE_CHECKING:
    from collections.abc import Sequence

GROUPS = [
    team_cmds,
    task_cmds,
    msg_cmds,
    pane_cmds,
    agent_cmds,
    console_cmds,
    cohost_cmds,
    iterate_cmds,
    doctor_cmds,
    hook_cmds,
    mcp_cmds,
    web_cmds,
]
EXIT_BROKEN_PIPE = 141


def build_parser() -> argparse.ArgumentParser:
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
    for group in GROUPS:
        group.register(sub)
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
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="crewmux: warning: %(message)s", stream=sys.stderr)
    ctx = Context.from_args(args)
    if ctx.interop:  # processes crewmux starts (workers, panes) work on the same root
        export_interop(ctx.home)
    handler = getattr(args, "handler", None)
    if handler is None:
        from app.cli.team_cmds import overview

        handler = overview
        if sys.stdin.isatty() and sys.stdout.isatty():  # a bare `crewmux` on a terminal opens the console
            handler = console_cmds.console
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
