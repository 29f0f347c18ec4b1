"""The task list's ready index: small SQLite tables of the task ids that may be available, and
of the unfinished tasks each agent may own.

It is a cache that always holds a *superset*: the task store adds a row before the change that
makes it true is written and removes it after, and checks each candidate against its task file
before using it. ``ready`` answers "the lowest available task" and ``owned`` answers
``claim --check-busy`` ("does this agent own unfinished work?") without reading every task
file. Deleting the index costs one rebuild, from the rows the store's ``build`` callback
names. Its files are made 0600. sqlite3 is imported on first use: a process that only reads
tasks (the console drawing the task list) never opens the index.

In interop mode (Claude Code's root) no index is kept (Claude Code does not keep one): an index
made with ``kept=False`` ignores marks and is never written.
"""

from __future__ import annotations

import contextlib
import os
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from app.core.atomic import Problem, open_regular, report_problem
from app.core.errors import UnsafeFile

if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Callable, Iterable, Iterator

T = TypeVar("T")
# What a rebuild fills the index with: the available ids, and (id, owner) of unfinished owned tasks.
Rows = tuple[list[str], list[tuple[str, str]]]
# The index's layout; an index built by another layout is rebuilt on first use.
VERSION = "2"


class ReadyIndex:
    """The ids that may be available, lowest first; opened (and built if new) on first use.

    Being a cache, a damaged index never stops the task list: a file SQLite cannot read
    ("file is not a database", "malformed") or something planted in its place (a symlink, a
    FIFO) is removed, reported, and the index rebuilt from the task files at once.
    """

    def __init__(self, path: Path, build: Callable[[], Rows], *, kept: bool = True) -> None:
        self.path = path
        self.kept = kept
        self._build = build
        self._db: sqlite3.Connection | None = None

    def _open(self) -> sqlite3.Connection:
        import sqlite3

        if self._db is None:
            fresh = not self.path.exists()
            try:  # made 0600 before SQLite opens it: SQLite gives its -wal/-shm files the same mode
                os.close(open_regular(self.path, os.O_RDWR | os.O_CREAT))
            except UnsafeFile as exc:
                self._discard(str(exc))
                os.close(open_regular(self.path, os.O_RDWR | os.O_CREAT))
                fresh = True
            db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            try:
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")
                db.execute("CREATE TABLE IF NOT EXISTS ready (id INTEGER PRIMARY KEY)")
                db.execute("CREATE TABLE IF NOT EXISTS owned (id INTEGER, owner TEXT, PRIMARY KEY (id, owner))")
                db.execute("CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT)")
                built = db.execute("SELECT v FROM meta WHERE k='built'").fetchone()
            except sqlite3.DatabaseError:
                db.close()
                raise
            self._db = db
            if fresh or built is None or built[0] != VERSION:
                self._rebuild(db)
        return self._db

    def _rebuild(self, db: sqlite3.Connection) -> None:
        available, owned = self._build()
        with db:
            db.execute("BEGIN")
            db.execute("DELETE FROM ready")
            db.execute("DELETE FROM owned")
            db.executemany("INSERT INTO ready (id) VALUES (?)", [(int(i),) for i in available])
            db.executemany("INSERT OR IGNORE INTO owned (id, owner) VALUES (?, ?)", [(int(i), o) for i, o in owned])
            db.execute("INSERT OR REPLACE INTO meta (k, v) VALUES ('built', ?)", (VERSION,))

    def _discard(self, why: str) -> None:
        """Remove the index's files (never what a symlink points to) and report why."""
        self.close()
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError, IsADirectoryError, PermissionError):
                Path(str(self.path) + suffix).unlink()
        report_problem(Problem(path=self.path, message=f"ready index rebuilt from the task files: {why}"))

    def _use(self, op: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``op`` on the index; a damaged index is discarded, rebuilt, and ``op`` run again."""
        import sqlite3

        try:
            return op(self._open())
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
                raise
            self._discard(f"{self.path.name} was damaged ({exc})")
            return op(self._open())

    def mark(self, ids: Iterable[str]) -> None:
        """Add ``ids`` (call before the change that makes them available is written)."""
        rows = [(int(i),) for i in ids] if self.kept else []
        if rows:
            self._use(lambda db: db.executemany("INSERT OR IGNORE INTO ready (id) VALUES (?)", rows))

    def unmark(self, task_id: str) -> None:
        """Remove ``task_id`` (call after the change that takes it is written)."""
        if not self.kept:
            return
        self._use(lambda db: db.execute("DELETE FROM ready WHERE id = ?", (int(task_id),)))

    def lowest(self) -> str | None:
        """The lowest id in the index, or None when it is empty (or not kept)."""
        if not self.kept:
            return None
        row = self._use(lambda db: db.execute("SELECT id FROM ready ORDER BY id LIMIT 1").fetchone())
        return None if row is None else str(row[0])

    def own(self, task_id: str, owner: str) -> None:
        """Record that ``owner`` may own unfinished ``task_id`` (call before that is written)."""
        if self.kept:
            self._use(
                lambda db: db.execute("INSERT OR IGNORE INTO owned (id, owner) VALUES (?, ?)", (int(task_id), owner))
            )

    def settle_owner(self, task_id: str, owner: str | None) -> None:
        """After a write: ``task_id`` is unfinished work of ``owner`` alone (None: of nobody)."""
        if self.kept:
            self._use(lambda db: db.execute("DELETE FROM owned WHERE id = ? AND owner IS NOT ?", (int(task_id), owner)))

    @contextmanager
    def owning(self, task_id: str, owner: str | None) -> Iterator[None]:
        """Around the write that leaves ``task_id`` unfinished work of ``owner`` (None: of nobody)."""
        if owner:
            self.own(task_id, owner)
        yield
        self.settle_owner(task_id, owner)

    def owned_by(self, owner: str) -> list[str]:
        """The ids ``owner`` may own unfinished (check each against its file), lowest first."""
        if not self.kept:
            return []
        rows = self._use(lambda db: db.execute("SELECT id FROM owned WHERE owner = ? ORDER BY id", (owner,)).fetchall())
        return [str(r[0]) for r in rows]

    def rebuild(self) -> None:
        """Forget the index and build it again now."""
        self.drop()
        if self.kept:
            self._use(lambda db: None)

    def drop(self) -> None:
        """Close the index and delete its files; the next use rebuilds it."""
        self.close()
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                Path(str(self.path) + suffix).unlink()

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
