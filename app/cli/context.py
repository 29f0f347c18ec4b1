"""What every command handler gets: the root, the team, the caller's name, output helpers."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from app.core.errors import BadInput
from app.core.interop import interop_from_env, interop_root
from app.core.paths import resolve_home
from app.core.sanitize import for_display
from app.core.team import TeamStore

if TYPE_CHECKING:
    from pathlib import Path
    from typing import TextIO

    from app.core.mailbox import Mailbox
    from app.core.tasks import TaskStore

# C1 controls and DEL: JSON leaves them raw (with ensure_ascii=False); a terminal may obey them.
_JSON_RAW_CONTROLS = re.compile(r"[\x7f-\x9f]")


def shown(text: str, stream: TextIO | None = None) -> str:
    """``text`` as it may be written to ``stream`` (stdout by default): made safe for display
    (:func:`app.core.sanitize.for_display`) when the stream is a terminal, as it is when piped."""
    out = sys.stdout if stream is None else stream
    try:
        tty = out.isatty()
    except (AttributeError, ValueError):
        tty = False
    return for_display(text) if tty else text


def say(text: str, *, err: bool = False, flush: bool = False) -> None:
    """Print a line of output that may hold a teammate's text (names, messages, subjects)."""
    stream = sys.stderr if err else sys.stdout
    print(shown(text, stream), file=stream, flush=flush)


def json_text(doc: Any, *, indent: int | None = 2) -> str:
    """``doc`` as JSON; on a terminal with DEL and C1 controls written as ``\\u`` escapes too."""
    text = json.dumps(doc, indent=indent, ensure_ascii=False)
    if sys.stdout.isatty():
        text = _JSON_RAW_CONTROLS.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    return text


def common_parser(*, json_flag: bool = True) -> argparse.ArgumentParser:
    """Options every (sub)command accepts: ``--home`` anywhere, ``--json`` on leaf commands."""
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--home", default=argparse.SUPPRESS, metavar="DIR", help="crewmux root (default $CREWMUX_HOME)")
    if json_flag:
        p.add_argument("--json", action="store_true", default=False, help="print one JSON document")
    return p


def team_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--team", default=os.environ.get("CREWMUX_TEAM"), metavar="T", help="team (default $CREWMUX_TEAM)")


def as_option(p: argparse.ArgumentParser, flag: str = "--as") -> None:
    p.add_argument(
        flag,
        dest="agent",
        default=os.environ.get("CREWMUX_AGENT"),
        metavar="NAME",
        help="who you are (default $CREWMUX_AGENT)",
    )


@dataclass
class Context:
    home: Path
    json: bool
    interop: bool = False
    """Interop mode: ``home`` is Claude Code's root and its locks are taken too."""

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Context:
        """``--claude`` or ``$CREWMUX_CLAUDE`` switch on interop mode; its home is ``--home``
        if given, else Claude Code's root (``$CLAUDE_CONFIG_DIR``, else ``~/.claude``)."""
        interop = bool(getattr(args, "claude", False)) or interop_from_env()
        explicit = getattr(args, "home", None)
        home = interop_root() if interop and not explicit else resolve_home(explicit)
        return cls(home=home, json=bool(getattr(args, "json", False)), interop=interop)

    @cached_property
    def teams(self) -> TeamStore:
        return TeamStore(self.home, interop=self.interop)

    def team(self, args: argparse.Namespace) -> str:
        team = getattr(args, "team", None)
        if not team:
            raise BadInput("no team given: pass --team T or set $CREWMUX_TEAM")
        self.teams.load(team)
        return str(team)

    def agent(self, args: argparse.Namespace) -> str:
        agent = getattr(args, "agent", None)
        if not agent:
            raise BadInput("who are you? pass --as NAME or set $CREWMUX_AGENT")
        return str(agent)

    def tasks(self, team: str) -> TaskStore:
        from app.core.tasks import TaskStore  # imported by the commands that use it only

        return TaskStore(self.teams.paths(team))

    def mailbox(self, team: str) -> Mailbox:
        from app.core.mailbox import Mailbox

        return Mailbox(self.teams, team)

    def emit(self, doc: Any, text: str | None = None) -> None:
        """``doc`` as JSON under ``--json``; otherwise ``text`` (if any)."""
        if self.json:
            sys.stdout.write(json_text(doc) + "\n")
        elif text is not None:
            say(text)
