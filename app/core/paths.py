"""Where crewmux keeps its files, and the names it accepts.

Layout under the root (the same as Claude Code's Agent Teams)::

    teams/<team>/config.json          the team file
    teams/<team>/inboxes/<agent>.json each member's inbox (a JSON array)
    tasks/<team>/<id>.json            one file per task
    tasks/<team>/.highwatermark       the highest id ever handed out

Names are checked before they become paths: a name that holds a path separator, a control
character, or is ``.``/``..`` is refused outright, never "cleaned" into something else.
"""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from app.core.errors import InvalidName

MAX_NAME_LENGTH = 64
LEAD_NAME = "team-lead"

_SAFE = re.compile(r"[^a-z0-9]")


def default_home() -> Path:
    """The platform's user data dir for crewmux (``~/.local/share/crewmux`` on Linux)."""
    from platformdirs import user_data_path

    return user_data_path("crewmux", appauthor=False)


def resolve_home(explicit: str | os.PathLike[str] | None = None) -> Path:
    """``--home`` if given, else ``$CREWMUX_HOME``, else the platform's data dir."""
    if explicit:
        return Path(explicit).expanduser().resolve()
    env = os.environ.get("CREWMUX_HOME")
    if env:
        return Path(env).expanduser().resolve()
    return default_home()


def check_name(name: str, what: str = "name") -> str:
    """Refuse a name that is empty, too long, has control characters or path parts."""
    if not isinstance(name, str) or not name.strip():
        raise InvalidName(f"{what} must not be empty")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidName(f"{what} {name[:20]!r}... is longer than {MAX_NAME_LENGTH} characters")
    if any(unicodedata.category(ch) in {"Cc", "Cf", "Zl", "Zp"} for ch in name):
        raise InvalidName(f"{what} {name!r} holds control characters")
    if "/" in name or "\\" in name or name in {".", ".."} or name.startswith(".."):
        raise InvalidName(f"{what} {name!r} would escape the crewmux root")
    if name != name.strip():
        raise InvalidName(f"{what} {name!r} has leading or trailing spaces")
    return name


def check_task_id(task_id: str) -> str:
    """A task id in its one written form (``"007"`` → ``"7"``); InvalidName unless decimal digits."""
    text = str(task_id).strip()
    if not text.isdigit() or not text.isascii() or len(text) > 18:
        raise InvalidName(f"task id {task_id!r} is not a decimal number")
    return str(int(text))


def sanitize(name: str, what: str = "name") -> str:
    """The file-system form of a checked name, as Claude Code makes it: lower-case, other characters as "-"."""
    check_name(name, what)
    safe = _SAFE.sub("-", name.lower())
    if not safe.strip("-"):
        raise InvalidName(f"{what} {name!r} has no letters or digits")
    return safe


@dataclass(frozen=True)
class TeamPaths:
    """Every path that belongs to one team."""

    home: Path
    team: str
    interop: bool = False
    """True when this is Claude Code's root and its locks must be taken too (see app.core.interop)."""

    @property
    def team_dir(self) -> Path:
        return self.home / "teams" / self.team

    @property
    def config(self) -> Path:
        return self.team_dir / "config.json"

    @property
    def settings(self) -> Path:
        return self.team_dir / "crewmux.json"

    @property
    def inboxes(self) -> Path:
        return self.team_dir / "inboxes"

    def inbox(self, agent: str) -> Path:
        return self.inboxes / f"{sanitize(agent, 'agent name')}.json"

    def held(self, agent: str) -> Path:
        """Messages held back from a paused (over-budget) member, released when it is resumed."""
        return self.inboxes / f".{sanitize(agent, 'agent name')}.held.json"

    def archive(self, agent: str) -> Path:
        """Read messages compacted out of an inbox (crewmux's own, JSON lines)."""
        return self.inboxes / f".{sanitize(agent, 'agent name')}.archive.jsonl"

    @property
    def tasks_dir(self) -> Path:
        return self.home / "tasks" / self.team

    def task(self, task_id: str) -> Path:
        if not task_id.isdigit():
            raise InvalidName(f"task id {task_id!r} is not a decimal number")
        return self.tasks_dir / f"{int(task_id)}.json"

    @property
    def task_list_lock(self) -> Path:
        """The file Claude Code locks to create a task, ``tasks/<team>/.lock``.

        It locks it with proper-lockfile, so the lock itself is the directory ``.lock.lock``
        (:func:`app.core.mkdir_lock.mkdir_lock_path`); the file only anchors it.
        """
        return self.tasks_dir / ".lock"

    @property
    def highwatermark(self) -> Path:
        return self.tasks_dir / ".highwatermark"

    @property
    def task_index(self) -> Path:
        return self.tasks_dir / ".crewmux-ready.sqlite"

    @property
    def task_journal(self) -> Path:
        return self.tasks_dir / ".crewmux-journal.json"

    @property
    def claude_sent_log(self) -> Path:
        """Messages crewmux put in inboxes Claude Code consumes (it removes what it delivers)."""
        return self.runtime_dir / "claude-sent.jsonl"

    @property
    def runtime_dir(self) -> Path:
        """crewmux's own runtime state (heartbeats, console socket)."""
        return self.team_dir / ".crewmux"

    @property
    def console_seat(self) -> Path:
        """What the owning console's lock guards (``.crewmux/.console-seat.flock``): one owner per team."""
        return self.runtime_dir / "console-seat"


def team_paths(home: Path, team: str, *, interop: bool = False) -> TeamPaths:
    """The paths of ``team`` under ``home``; ``interop`` marks Claude Code's root (its locks apply)."""
    return TeamPaths(home=home, team=sanitize(team, "team name"), interop=interop)
