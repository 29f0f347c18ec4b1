"""How the task list is locked, in crewmux's own root and in Claude Code's (interop mode).

Every change runs under crewmux's list flock. Creating a task also takes Claude Code's list lock
— the file ``.lock`` locked the proper-lockfile way, i.e. the directory ``.lock.lock`` — on every
team, crewmux's own too (a claude teammate creates tasks in the same directory through its task
tools), so the two sides never hand out the same id. In interop mode (Claude Code's root, see
:mod:`app.core.interop`) Claude Code changes a task under that task's mkdir lock
``<id>.json.lock`` alone, so every task crewmux reads inside a change is read under its mkdir
lock too (taken after crewmux's list flock, held until the change is written). A journal left
by a crash is replayed under the locks of the task files it rewrites. Outside a change, a task is read with
:func:`app.core.interop.read_shared`, which tells a file caught mid-write from a corrupt one.
"""

from __future__ import annotations

import contextlib
import json
import os
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from app.core.atomic import ensure_dir, maybe_sweep_temps, read_bytes, read_model
from app.core.interop import claude_lock, read_shared
from app.core.locks import file_lock
from app.core.mkdir_lock import MkdirLock
from app.core.models import Task

if TYPE_CHECKING:
    from collections.abc import Iterator

    from app.core.paths import TeamPaths


class TaskLocks:
    """The lock strategy for one team's task list, and the reads that go with it."""

    def __init__(self, paths: TeamPaths, timeout: float) -> None:
        self.paths = paths
        self.timeout = timeout
        # Interop mode, inside a change: the task files whose mkdir locks this change holds.
        self._held: ExitStack | None = None
        self._held_paths: set[Path] = set()

    @contextmanager
    def change(self, *, creating: bool = False) -> Iterator[None]:
        """Hold the list's locks for one change (``creating``: Claude Code's list lock too)."""
        ensure_dir(self.paths.tasks_dir)
        interop = self.paths.interop
        with file_lock(self.paths.tasks_dir / "tasks", self.timeout), ExitStack() as held:
            if creating:
                held.enter_context(self._list_lock())
            if interop:
                self._held, self._held_paths = held, set()
            maybe_sweep_temps(self.paths.tasks_dir)  # temp files of writers killed mid-write
            try:
                for path in _journal_targets(self.paths.task_journal) if interop else []:
                    self._hold(path)  # the journal is replayed inside the change: under Claude Code's task locks
                yield
            finally:
                self._held, self._held_paths = None, set()

    def _list_lock(self) -> MkdirLock:
        """Claude Code's list lock: ``.lock`` (created empty if missing, as Claude Code does) via ``.lock.lock``."""
        anchor = self.paths.task_list_lock
        with contextlib.suppress(FileExistsError):
            os.close(os.open(anchor, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        return MkdirLock(anchor, timeout=self.timeout)

    def read(self, path: Path) -> Task | None:
        """The task at ``path`` (None if missing or quarantined); in interop mode inside a change,
        read under the task's mkdir lock, kept until the change ends."""
        if not self.paths.interop:
            found = read_model(path, Task)
        elif self._held is not None:
            self._hold(path)
            found = read_model(path, Task)
        else:
            found = read_shared(path, Task, interop=True, timeout=self.timeout)
        return found if isinstance(found, Task) else None

    def peek(self, path: Path) -> Task | None:
        """The task at ``path``, to choose what to change: in interop mode read without Claude
        Code's lock (whatever is chosen is read again with :meth:`read`), None for a file caught
        mid-write."""
        if not self.paths.interop:
            return self.read(path)
        try:
            return Task.model_validate_json(read_bytes(path) or b"")
        except ValueError:
            return None

    def _hold(self, path: Path) -> None:
        if self._held is not None and path not in self._held_paths:
            self._held.enter_context(claude_lock(path, interop=True, timeout=self.timeout))
            self._held_paths.add(path)


def _journal_targets(path: Path) -> list[Path]:
    """The task files a journal left by a crash would rewrite (none if there is no journal)."""
    raw = read_bytes(path)
    if raw is None:
        return []
    try:
        data = json.loads(raw)
    except ValueError:
        return []  # journal.recover quarantines it
    if not isinstance(data, dict):
        return []
    return sorted(Path(k) for k in data if Path(k).parent == path.parent and Path(k).name.endswith(".json"))
