"""Refuse a crewmux root that someone else could write to, as ssh refuses a key file others can.

Whoever can write the root can put words in any teammate's mouth: a message in an inbox is
typed into an agent's pane, a task tells a worker what to run. So before a root is used (the
first :class:`app.core.team.TeamStore` on it in a process), :func:`check_root` looks at:

* the root and its ``teams``/``tasks`` folders: they must belong to the current user and not be
  writable by group or others;
* every folder above the root: it must belong to the current user or to root, and may be
  writable by group or others only with the sticky bit (``/tmp``), so nobody else can rename
  the root away and put their own in its place.

It refuses (:class:`UnsafeRoot`, exit 3) with the command that fixes it, rather than warn: a
warning scrolls by unseen in an agent's pane, and the harm (commands typed into agents) is
done by the time anyone reads it. Folders that do not exist yet are skipped (crewmux makes its
own 0700).
"""

from __future__ import annotations

import os
import stat
import threading
from typing import TYPE_CHECKING

from app.core.errors import UnsafeRoot

if TYPE_CHECKING:
    from pathlib import Path

_checked: set[Path] = set()
_guard = threading.Lock()


def _owner_name(uid: int) -> str:
    try:
        import pwd

        return pwd.getpwuid(uid).pw_name
    except (ImportError, KeyError):
        return str(uid)


def _problem(path: Path, st: os.stat_result, *, own: bool) -> str | None:
    """What is wrong with one folder (``own``: the root or its own folders), or None."""
    uid = os.getuid()
    me = _owner_name(uid)
    if own and st.st_uid != uid:
        return (
            f"{path} belongs to {_owner_name(st.st_uid)}, not to {me} (fix: chown {me} {path}, or use another --home)"
        )
    if not own and st.st_uid not in (uid, 0):
        return f"{path}, a folder above the root, belongs to {_owner_name(st.st_uid)} (use a --home you own)"
    writable = st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    if writable and (own or not st.st_mode & stat.S_ISVTX):
        who = (
            "group and others"
            if writable == (stat.S_IWGRP | stat.S_IWOTH)
            else ("its group" if writable == stat.S_IWGRP else "others")
        )
        return f"{path} can be written by {who} (fix: chmod go-w {path})"
    return None


def check_root(home: Path) -> None:
    """Raise :class:`UnsafeRoot` when another user could write ``home`` (see the module docstring).

    Checked once per root per process; a root that does not exist yet is fine.
    """
    with _guard:
        if home in _checked:
            return
    own = [home / "teams", home / "tasks", home]
    for path, is_own in [*((p, True) for p in own), *((p, False) for p in home.parents)]:
        try:
            st = os.stat(path)
        except (FileNotFoundError, NotADirectoryError):
            continue
        except OSError:
            continue  # unreadable above the root: nothing to judge
        problem = _problem(path, st, own=is_own)
        if problem is not None:
            raise UnsafeRoot(f"refusing the crewmux root {home}: {problem}")
    with _guard:
        _checked.add(home)
