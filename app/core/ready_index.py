"""The task list's ready index: a small SQLite table of the task ids that may be available.

It is a cache that always holds a *superset* of the available ids: the task store adds ids
before the change that makes them available is written and removes them after, and checks
each candidate against its task file before handing it out. Deleting the index costs one
rebuild, from the ids the store's ``build`` callback names. Its files are made 0600.

In interop mode (Claude Code's root) no index is kept (Claude Code does not keep one): an index
made with ``kept=False`` ignores marks and is never written.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

from app.core.atomic import FILE_MODE

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable


class ReadyIndex:
    """The ids that may be available, lowest first; opened (and built if new) on first use."""

    def __init__(self, path: Path, build: Callable[[], Iterable[str]], *, kept: bool = True) -> None:
        self.path = path
        self.kept = kept
        self._build = build
        self._db: sqlite3.Connection | None = None

    def _open(self) -> sqlite3.Connection:
        if self._db is None:
            fresh = not self.path.exists()
            # Made 0600 before SQLite opens it: SQLite gives its -wal/-shm files the same mode.
            os.close(os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, FILE_MODE))
            db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("CREATE TABLE IF NOT EXISTS ready (id INTEGER PRIMARY KEY)")
            db.execute("CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT)")
            built = db.execute("SELECT v FROM meta WHERE k='built'").fetchone()
            self._db = db
            if fresh or built is None:
                self._rebuild(db)
        return self._db

    def _rebuild(self, db: sqlite3.Connection) -> None:
        ready = [(int(i),) for i in self._build()]
        with db:
            db.execute("BEGIN")
            db.execute("DELETE FROM ready")
            db.executemany("INSERT INTO ready (id) VALUES (?)", ready)
            db.execute("INSERT OR REPLACE INTO meta (k, v) VALUES ('built', '1')")

    def mark(self, ids: Iterable[str]) -> None:
        """Add ``ids`` (call before the change that makes them available is written)."""
        rows = [(int(i),) for i in ids] if self.kept else []
        if rows:
            self._open().executemany("INSERT OR IGNORE INTO ready (id) VALUES (?)", rows)

    def unmark(self, task_id: str) -> None:
        """Remove ``task_id`` (call after the change that takes it is written)."""
        if not self.kept:
            return
        self._open().execute("DELETE FROM ready WHERE id = ?", (int(task_id),))

    def lowest(self) -> str | None:
        """The lowest id in the index, or None when it is empty (or not kept)."""
        if not self.kept:
            return None
        row = self._open().execute("SELECT id FROM ready ORDER BY id LIMIT 1").fetchone()
        return None if row is None else str(row[0])

    def rebuild(self) -> None:
        """Forget the index and build it again now."""
        self.drop()
        if self.kept:
            self._open()

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
