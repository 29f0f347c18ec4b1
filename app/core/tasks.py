"""The team's task list: one JSON file per task, ids never reused, dependencies kept symmetric.

Rules (the same as Claude Code's, kept stricter):

* a task is *available* when it is pending, has no owner and every ``blockedBy`` task is
  completed; completing a blocker makes its dependents available with no further step;
* ``blocks``/``blockedBy`` are always written together (through the journal), cycles refused;
* deleting a task strips its id from every edge; ids are never handed out twice
  (``.highwatermark``);
* a claim is refused with a reason: ``already_claimed``, ``already_resolved``, ``blocked``
  (naming the blockers), or ``agent_busy`` (when asked to check).

Every change runs under the list lock. To keep a claim's cost flat however long the list is,
crewmux keeps an index of the ids that may be available (a small SQLite table). It is a cache
that always holds a *superset* of the available ids — ids are added before the change that
makes them available is written, removed after — and each candidate is checked against its
task file before it is handed out. Deleting the index only costs one rebuild.

In interop mode (Claude Code's root, see :mod:`app.core.interop`) Claude Code changes a task
under that task's mkdir lock ``<id>.json.lock`` alone, so every task crewmux reads inside a
change is read under its mkdir lock too (taken after crewmux's own list flock, held until the
change is written); creating also takes Claude Code's list lock ``.lock`` and numbers the task
1 + max(highest id on disk, ``.highwatermark``). The ready index is not used there (Claude Code
does not keep it): a claim without an id scans the task files for the lowest available id.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from app.core import journal
from app.core.atomic import FILE_MODE, atomic_write, ensure_dir, read_bytes, read_model
from app.core.errors import BadInput, ClaimRefused, DependencyCycle, TaskNotFound
from app.core.interop import claude_dir_lock, claude_lock, read_shared
from app.core.locks import file_lock
from app.core.models import Task

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping

    from app.core.paths import TeamPaths

UpdateStatus = Literal["pending", "in_progress", "completed", "deleted"]
_UNSET: Any = object()
MAX_SUBJECT = 500
MAX_DESCRIPTION = 64 * 1024


class TaskStore:
    """One team's task list."""

    def __init__(self, paths: TeamPaths, *, lock_timeout: float = 30.0) -> None:
        self.paths = paths
        self.lock_timeout = lock_timeout
        self._db: sqlite3.Connection | None = None
        # Interop mode, inside a change: the task files whose mkdir locks this change holds.
        self._held: ExitStack | None = None
        self._held_paths: set[Path] = set()

    # -- plumbing --------------------------------------------------------------------------
    @contextmanager
    def _locked(self, *, creating: bool = False) -> Iterator[None]:
        ensure_dir(self.paths.tasks_dir)
        interop = self.paths.interop
        with file_lock(self.paths.tasks_dir / "tasks", self.lock_timeout), ExitStack() as held:
            if interop and creating:
                held.enter_context(claude_dir_lock(self.paths.task_list_lock, interop=True, timeout=self.lock_timeout))
            if interop:
                self._held, self._held_paths = held, set()
            try:
                for path in _journal_targets(self.paths.task_journal) if interop else []:
                    self._hold(path)  # a journal is replayed below: under Claude Code's task locks
                if journal.recover(self.paths.task_journal):
                    self._drop_index()
                yield
            finally:
                self._held, self._held_paths = None, set()

    def _read(self, task_id: str) -> Task | None:
        path = self.paths.task(task_id)
        if not self.paths.interop:
            found = read_model(path, Task)
        elif self._held is not None:  # inside a change: read under the task's mkdir lock, keep it
            self._hold(path)
            found = read_model(path, Task)
        else:
            found = read_shared(path, Task, interop=True, timeout=self.lock_timeout)
        return found if isinstance(found, Task) else None

    def _hold(self, path: Path) -> None:
        """Interop mode, inside a change: take Claude Code's lock on task file ``path`` until the change ends."""
        if self._held is not None and path not in self._held_paths:
            self._held.enter_context(claude_lock(path, interop=True, timeout=self.lock_timeout))
            self._held_paths.add(path)

    def _require(self, task_id: str) -> Task:
        task = self._read(_check_id(task_id))
        if task is None:
            raise TaskNotFound(f"no task {task_id} in team {self.paths.team!r}")
        return task

    def _ids_on_disk(self) -> list[int]:
        if not self.paths.tasks_dir.is_dir():
            return []
        ids = []
        for entry in self.paths.tasks_dir.iterdir():
            stem, dot, ext = entry.name.partition(".")
            if dot and ext == "json" and stem.isdigit():
                ids.append(int(stem))
        return sorted(ids)

    def _open_blockers(self, task: Task, cache: Mapping[str, Task | None] | None = None) -> list[str]:
        """Ids of ``task``'s blockers that are not completed; blockers are taken from ``cache``
        (tasks already read, or changed but not yet written) before the disk."""
        open_ids = []
        for bid in task.blocked_by:
            blocker = cache.get(bid) if cache is not None and bid in cache else self._read(bid)
            if blocker is not None and blocker.status != "completed":
                open_ids.append(bid)
        return open_ids

    def _available(self, task: Task, cache: Mapping[str, Task | None] | None = None) -> bool:
        """The one availability rule: pending, no owner, every blocker completed."""
        return task.status == "pending" and not task.owner and not self._open_blockers(task, cache)

    def _take(self, task: Task, agent: str) -> Task:
        """Write ``agent`` as the owner of ``task`` (already checked) and drop it from the index."""
        if task.owner != agent:
            task.owner = agent
            atomic_write(self.paths.task(task.id), task.to_json())
        self._unmark_ready(task.id)
        return task

    # -- the ready index -------------------------------------------------------------------
    def _index(self) -> sqlite3.Connection:
        if self._db is None:
            fresh = not self.paths.task_index.exists()
            # Made 0600 before SQLite opens it: SQLite gives its -wal/-shm files the same mode.
            os.close(os.open(self.paths.task_index, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, FILE_MODE))
            db = sqlite3.connect(self.paths.task_index, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("CREATE TABLE IF NOT EXISTS ready (id INTEGER PRIMARY KEY)")
            db.execute("CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT)")
            built = db.execute("SELECT v FROM meta WHERE k='built'").fetchone()
            self._db = db
            if fresh or built is None:
                self._rebuild_index()
        return self._db

    def _rebuild_index(self) -> None:
        db = self._db
        assert db is not None
        tasks = {t.id: t for t in self._scan()}
        ready = [(int(t.id),) for t in tasks.values() if self._available(t, tasks)]
        with db:
            db.execute("BEGIN")
            db.execute("DELETE FROM ready")
            db.executemany("INSERT INTO ready (id) VALUES (?)", ready)
            db.execute("INSERT OR REPLACE INTO meta (k, v) VALUES ('built', '1')")

    def _drop_index(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                Path(str(self.paths.task_index) + suffix).unlink()

    def _mark_ready(self, ids: Iterable[str]) -> None:
        if self.paths.interop:
            return
        rows = [(int(i),) for i in ids]
        if rows:
            self._index().executemany("INSERT OR IGNORE INTO ready (id) VALUES (?)", rows)

    def _unmark_ready(self, task_id: str) -> None:
        if self.paths.interop:
            return
        self._index().execute("DELETE FROM ready WHERE id = ?", (int(task_id),))

    def rebuild_index(self) -> None:
        """Forget the index and rebuild it from the task files (after hand edits; none in interop mode)."""
        if self.paths.interop:
            return
        with self._locked():
            self._drop_index()
            self._index()

    # -- reading ---------------------------------------------------------------------------
    def _scan(self) -> list[Task]:
        tasks = []
        for tid in self._ids_on_disk():
            task = self._read(str(tid))
            if task is not None:
                tasks.append(task)
        return tasks

    def _peek_scan(self) -> list[Task]:
        """Every task, to choose which to change: in interop mode read without Claude Code's locks
        (whatever is chosen is read again under its lock), skipping a file caught mid-write."""
        if not self.paths.interop:
            return self._scan()
        tasks = []
        for tid in self._ids_on_disk():
            raw = read_bytes(self.paths.task(str(tid)))
            try:
                tasks.append(Task.model_validate_json(raw or b""))
            except ValueError:
                continue
        return tasks

    def list_tasks(self) -> list[Task]:
        """Every task, in id order (corrupt files are quarantined and reported)."""
        return self._scan()

    def get(self, task_id: str) -> Task:
        return self._require(task_id)

    def blocked(self, tasks: list[Task]) -> dict[str, list[str]]:
        """For each task id, the ids of its unfinished blockers (an empty list: not blocked)."""
        by_id: dict[str, Task | None] = {t.id: t for t in tasks}
        return {t.id: self._open_blockers(t, by_id) for t in tasks}

    def open_blockers(self, task_id: str) -> list[str]:
        return self._open_blockers(self._require(task_id))

    # -- writing ---------------------------------------------------------------------------
    def _next_id(self) -> str:
        raw = read_bytes(self.paths.highwatermark)
        try:
            mark = int(raw.decode().strip()) if raw else 0
        except ValueError:
            mark = 0
        if raw is None or mark == 0 or self.paths.interop:  # Claude Code: 1 + max(disk, mark)
            ids = self._ids_on_disk()
            mark = max(mark, ids[-1] if ids else 0)
        candidate = mark + 1
        while self.paths.task(str(candidate)).exists():
            candidate += 1
        return str(candidate)

    def create(
        self,
        subject: str,
        description: str = "",
        *,
        blocked_by: Iterable[str] = (),
        active_form: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Task:
        """A new pending task; ``blocked_by`` ids must exist."""
        _check_text(subject, description)
        wanted = _dedupe(_check_id(b) for b in blocked_by)
        with self._locked(creating=True):
            blockers = [self._require(b) for b in wanted]
            task_id = self._next_id()
            task = Task(
                id=task_id,
                subject=subject,
                description=description,
                active_form=active_form,
                blocked_by=wanted,
                metadata=metadata or None,
            )
            writes: journal.Writes = {self.paths.task(task_id): task.to_json()}
            for b in blockers:
                b.blocks.append(task_id)
                writes[self.paths.task(b.id)] = b.to_json()
            atomic_write(self.paths.highwatermark, task_id)
            if not self._open_blockers(task, {b.id: b for b in blockers}):
                self._mark_ready([task_id])
            journal.commit(self.paths.task_journal, writes)
            return task

    def _would_cycle(self, task_id: str, blocker_id: str, pending: dict[str, Task] | None = None) -> bool:
        """True if ``task_id`` blocked by ``blocker_id`` closes a cycle.

        ``pending`` holds tasks changed in this update but not yet written; they are read from
        there, so two edges added in one call cannot close a cycle unseen.
        """
        if task_id == blocker_id:
            return True
        seen: set[str] = set()
        stack = [blocker_id]
        while stack:
            current = stack.pop()
            if current == task_id:
                return True
            if current in seen:
                continue
            seen.add(current)
            found = pending.get(current) if pending is not None and current in pending else self._read(current)
            if found is not None:
                stack.extend(found.blocked_by)
        return False

    def update(
        self,
        task_id: str,
        *,
        subject: str = _UNSET,
        description: str = _UNSET,
        active_form: str | None = _UNSET,
        status: UpdateStatus = _UNSET,
        owner: str | None = _UNSET,
        metadata: dict[str, Any] | None = None,
        add_blocked_by: Iterable[str] = (),
        add_blocks: Iterable[str] = (),
    ) -> Task | None:
        """Change a task; returns it, or None when ``status='deleted'`` removed it.

        ``metadata`` is merged key by key; a key set to None is removed.
        """
        tid = _check_id(task_id)
        new_blockers = _dedupe(_check_id(b) for b in add_blocked_by)
        new_dependents = _dedupe(_check_id(b) for b in add_blocks)
        if status is not _UNSET and status not in ("pending", "in_progress", "completed", "deleted"):
            raise BadInput(f"status {status!r} is not one of pending, in_progress, completed, deleted")
        with self._locked():
            task = self._require(tid)
            if status == "deleted":
                self._delete(task)
                return None
            cache: dict[str, Task] = {tid: task}
            for sub in (subject, description):
                if sub is not _UNSET and not isinstance(sub, str):
                    raise BadInput("subject and description must be text")
            _check_text(
                task.subject if subject is _UNSET else subject,
                task.description if description is _UNSET else description,
            )
            if subject is not _UNSET:
                task.subject = subject
            if description is not _UNSET:
                task.description = description
            if active_form is not _UNSET:
                task.active_form = active_form
            if owner is not _UNSET:
                task.owner = owner or None
            if status is not _UNSET:
                task.status = status
            if metadata:
                merged = dict(task.metadata or {})
                for key, value in metadata.items():
                    if value is None:
                        merged.pop(key, None)
                    else:
                        merged[key] = value
                task.metadata = merged or None
            for bid in new_blockers:
                if bid in task.blocked_by:
                    continue
                if self._would_cycle(tid, bid, cache):
                    raise DependencyCycle(f"task {tid} blocked by {bid} would make a dependency cycle")
                blocker = cache.get(bid) or self._require(bid)
                cache[bid] = blocker
                task.blocked_by.append(bid)
                blocker.blocks.append(tid)
            for did in new_dependents:
                dependent = cache.get(did) or self._require(did)
                if tid in dependent.blocked_by:
                    continue
                if self._would_cycle(did, tid, cache):
                    raise DependencyCycle(f"task {did} blocked by {tid} would make a dependency cycle")
                cache[did] = dependent
                dependent.blocked_by.append(tid)
                task.blocks.append(did)
            # Whatever may have become available goes into the index before it is written.
            maybe_ready = [tid]
            if task.status == "completed":
                maybe_ready.extend(task.blocks)
            self._mark_ready(i for i in maybe_ready if self._is_available_after(i, cache))
            writes: journal.Writes = {self.paths.task(t.id): t.to_json() for t in cache.values()}
            journal.commit(self.paths.task_journal, writes)
            return task

    def _is_available_after(self, task_id: str, cache: dict[str, Task]) -> bool:
        """Whether ``task_id`` is available once the changed tasks in ``cache`` are written."""
        task = cache.get(task_id) or self._read(task_id)
        return task is not None and self._available(task, cache)

    def _delete(self, task: Task) -> None:
        writes: journal.Writes = {self.paths.task(task.id): None}
        freed: list[str] = []
        cache: dict[str, Task] = {}
        for other_id in _dedupe([*task.blocks, *task.blocked_by]):
            other = self._read(other_id)
            if other is None:
                continue
            other.blocks = [x for x in other.blocks if x != task.id]
            had = task.id in other.blocked_by
            other.blocked_by = [x for x in other.blocked_by if x != task.id]
            cache[other.id] = other
            writes[self.paths.task(other.id)] = other.to_json()
            if had:
                freed.append(other.id)
        self._mark_ready(i for i in freed if self._is_available_after(i, cache))
        journal.commit(self.paths.task_journal, writes)
        self._unmark_ready(task.id)

    def delete(self, task_id: str) -> None:
        """Remove a task and strip its id from every edge."""
        with self._locked():
            self._delete(self._require(_check_id(task_id)))

    def _busy_with(self, agent: str, except_id: str | None = None) -> list[str]:
        return [t.id for t in self._peek_scan() if t.owner == agent and t.status != "completed" and t.id != except_id]

    def _refusal(self, task: Task, agent: str) -> ClaimRefused | None:
        if task.status == "completed":
            return ClaimRefused(task.id, "already_resolved")
        if task.owner and task.owner != agent:
            return ClaimRefused(task.id, "already_claimed", owner=task.owner)
        blockers = self._open_blockers(task)
        if blockers:
            return ClaimRefused(task.id, "blocked", blockers=tuple(blockers))
        return None

    def claim(self, task_id: str | None, agent: str, *, check_busy: bool = False) -> Task:
        """Make ``agent`` the owner of a task: the one named, or the lowest-id available one.

        Raises :class:`ClaimRefused` with the reason; ``none_available`` when no id was named
        and nothing is available.
        """
        with self._locked():
            if check_busy:
                busy = self._busy_with(agent, except_id=task_id)
                if busy:
                    raise ClaimRefused(task_id or "", "agent_busy", busy_with=tuple(busy))
            if task_id is not None:
                task = self._require(_check_id(task_id))
                refused = self._refusal(task, agent)
                if refused is not None:
                    raise refused
                return self._take(task, agent)
            if self.paths.interop:  # Claude Code keeps no index: scan, lowest id first
                for seen in self._peek_scan():
                    if seen.status != "pending" or seen.owner:
                        continue
                    candidate = self._read(seen.id)  # again, under Claude Code's lock
                    if candidate is not None and self._available(candidate):
                        return self._take(candidate, agent)
                raise ClaimRefused("", "none_available")
            db = self._index()
            while True:
                row = db.execute("SELECT id FROM ready ORDER BY id LIMIT 1").fetchone()
                if row is None:
                    raise ClaimRefused("", "none_available")
                candidate = self._read(str(row[0]))
                if candidate is not None and self._available(candidate):
                    return self._take(candidate, agent)
                self._unmark_ready(str(row[0]))

    def release(self, agent: str) -> list[str]:
        """Give back every unfinished task ``agent`` owns: pending, no owner. Returns their ids."""
        with self._locked():
            released = []
            for seen in self._peek_scan():
                task = self._read(seen.id) if self.paths.interop else seen  # interop: again, locked
                if task is not None and task.owner == agent and task.status != "completed":
                    task.owner = None
                    task.status = "pending"
                    if not self._open_blockers(task):
                        self._mark_ready([task.id])
                    atomic_write(self.paths.task(task.id), task.to_json())
                    released.append(task.id)
            return released

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


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


def _check_id(task_id: str) -> str:
    text = str(task_id).strip()
    if not text.isdigit() or not text.isascii() or len(text) > 18:
        raise BadInput(f"task id {task_id!r} is not a decimal number")
    return str(int(text))


def _check_text(subject: str, description: str) -> None:
    if not subject or not subject.strip():
        raise BadInput("a task needs a subject")
    if len(subject) > MAX_SUBJECT:
        raise BadInput(f"subject is longer than {MAX_SUBJECT} characters")
    if len(description) > MAX_DESCRIPTION:
        raise BadInput(f"description is longer than {MAX_DESCRIPTION} characters")


def _dedupe(ids: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for i in ids:
        seen.setdefault(i, None)
    return list(seen)
