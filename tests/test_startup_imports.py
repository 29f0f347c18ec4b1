"""What a process imports to start: a command its own group only; the console's first picture of
the team neither SQLite (the ready index) nor pyte (the fallback screen). Each checked in a clean
interpreter, by ``sys.modules``; the parser built for one group is checked against the full one."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from app.cli import GROUPS, build_parser, group_of
from tests.fresh_interpreter import loaded_after

RARE = ("sqlite3", "pyte", "wcwidth", "app.mcp", "app.web", "app.orchestrate")
"""Modules the console's start has no use for (their commands or paths import them)."""


def rare(modules: list[str]) -> list[str]:
    return [m for m in modules if any(m == r or m.startswith(f"{r}.") for r in RARE)]


def commands(parser: argparse.ArgumentParser) -> list[str]:
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return list(sub.choices)


PARSE_ONLY = (
    "import contextlib, io, sys\n"
    "from app.cli import main\n"
    "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
    "    main(sys.argv[1:])\n"
)


def test_the_console_command_imports_no_other_command_group() -> None:
    loaded = loaded_after(PARSE_ONLY, "console", "--help")
    groups = sorted(m for m in loaded if m.startswith("app.cli.") and m.endswith("_cmds"))
    assert groups == ["app.cli.console_cmds"]
    assert rare(loaded) == []


@pytest.mark.parametrize("argv", [["--help"], ["--home", "/nonexistent", "bogus"]])
def test_help_and_errors_still_build_every_group(argv: list[str]) -> None:
    loaded = loaded_after(PARSE_ONLY, *argv)
    assert {f"app.cli.{g}" for g in GROUPS} <= set(loaded)


def test_each_group_registers_the_commands_listed_for_it() -> None:
    for group, names in GROUPS.items():
        assert commands(build_parser(group)) == list(names), group
    assert commands(build_parser()) == [n for names in GROUPS.values() for n in names]


def test_the_command_is_found_after_the_options_every_parser_knows() -> None:
    assert group_of(["--home", "/h", "--claude", "msg", "send"]) == "msg_cmds"
    assert group_of(["--home=/h", "console"]) == "console_cmds"
    assert group_of(["--home", "console", "spawn"]) == "pane_cmds"  # "console" is the root there
    for undecided in ([], ["-h"], ["--ho", "/h", "msg"], ["bogus"], ["--home"]):
        assert group_of(undecided) is None, undecided


FIRST_PICTURE = (
    "import sys\n"
    "from pathlib import Path\n"
    "from app.console.model import PsutilProbe\n"
    "from app.console.ops import TeamContext\n"
    "from app.console.seat import ViewerInbox\n"
    "from app.console.widgets.watcher import read_team\n"
    "import backends.inprocess\n"  # the console builds it at start, for the shell's link
    "backends.inprocess.InProcessBackend()\n"
    "ctx = TeamContext(home=Path(sys.argv[1]), team='t')\n"
    "shown = read_team(ctx, 'team-lead', PsutilProbe(), dead=(), screens=False, viewer=ViewerInbox())\n"
    "assert [t.subject for t in shown.tasks] == ['build'], shown.tasks\n"
    "assert [m.text for m in shown.new_for_lead] == ['hello'], shown.new_for_lead\n"
    "assert 'alice' in shown.snapshot.names(), shown.snapshot\n"
    "ctx.close()\n"
)


def test_the_first_picture_of_the_team_needs_neither_sqlite_nor_pyte(tmp_path: Path) -> None:
    from app.core.mailbox import Mailbox
    from app.core.tasks import TaskStore
    from app.core.team import TeamStore

    teams = TeamStore(tmp_path)
    teams.create("t")
    teams.join("t", "alice")
    store = TaskStore(teams.paths("t"))
    store.create("build")
    store.close()
    Mailbox(teams, "t").send("team-lead", "hello", sender="alice")
    loaded = loaded_after(FIRST_PICTURE, str(tmp_path))
    assert rare(loaded) == []
    assert "app.core.tasks" in loaded and "backends.pty_host" in loaded  # it did read them
