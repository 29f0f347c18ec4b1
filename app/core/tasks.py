"""The team's task list: one JSON file per task, ids never reused, dependencies kept symmetric.

Rules (the same as Claude Code's, kept stricter):

* a task is *available* when it is pending, has no owner and every ``blockedBy`` task is
  completed; completing a blocker makes its dependents available with no further step;
* ``blocks``/``blockedBy`` are always written together (through the journal), cycles refused;
* deleting a task strips its id from every edge; ids are never handed out twice (``.highwatermark``);
* a claim is refused with a reason: ``already_claimed``, ``already_resolved``, ``blocked``
  (naming the blockers), or ``agent_busy`` (when asked to check); in delegate mode the lead may
  not claim, own or work a task (:mod:`app.core.policy`), whoever asks (CLI, console, MCP).

Every change runs under the list's locks (:mod:`app.core.task_locks`, Claude Code's too in
interop mode). A claim's cost stays flat however long the list is through the ready index
(:mod:`app.core.ready_index`), a cache checked against the task file before a task is handed out.
In interop mode (Claude Code's root) there is no index: a claim without an id scans for the lowest
available id, and creating numbers the task 1 + max(highest id on disk, ``.highwatermark``).
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Literal

from app.core import journal, policy
from app.core.atomic import atomic_write, read_bytes
from app.core.errors import BadInput, ClaimRefused, DependencyCycle, TaskNotFound
from app.core.models import Task
from app.core.paths import LEAD_NAME, check_task_id
from app.core.ready_index import ReadyIndex, Rows
from app.core.task_locks import TaskLocks

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
        self._locks = TaskLocks(paths, lock_timeout)
        self._ready = ReadyIndex(paths.task_index, self._index_rows, kept=not paths.interop)

    # -- plumbing --------------------------------------------------------------------------
    @contextmanager
    def _locked(self, *, creating: bool = False) -> Iterator[None]:
        with self._locks.change(creating=creating):
            if journal.recover(self.paths.task_journal):
                self._ready.drop()
            yield

    def _read(self, task_id: str) -> Task | None:
        return self._locks.read(self.paths.task(task_id))

    def _require(self, task_id: str) -> Task:
        task = self._read(check_task_id(task_id))
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
        """:meth:`Task.availability` says ``available`` (blockers read only for a pending unowned task)."""
        ready = task.status == "pending" and not task.owner
        return ready and task.availability(self._open_blockers(task, cache)) == "available"

    def _take(self, task: Task, agent: str) -> Task:
        """Write ``agent`` as the owner of ``task`` (already checked) and drop it from the index."""
        self._ready.own(task.id, agent)
        if task.owner != agent:
            task.owner = agent
            atomic_write(self.paths.task(task.id), task.to_json())
        self._ready.unmark(task.id)
        return task

    # -- the ready index -------------------------------------------------------------------
    def _index_rows(self) -> Rows:
        tasks: dict[str, Task | None] = {t.id: t for t in self._scan()}  # what the index is rebuilt with
        available = [tid for tid, t in tasks.items() if t is not None and self._available(t, tasks)]
        owned = [(t.id, t.owner) for t in tasks.values() if t is not None and t.owner and t.status != "completed"]
        return available, owned

    def rebuild_index(self) -> None:
        """Forget the index and rebuild it from the task files (after hand edits; none in interop mode)."""
        if self._ready.kept:
            with self._locked():
                self._ready.rebuild()

    # -- reading ---------------------------------------------------------------------------
    def _scan(self, *, peek: bool = False) -> list[Task]:
        """Every task, in id order. ``peek``: to choose which to change; in interop mode that reads
        without Claude Code's locks (whatever is chosen is read again under its lock)."""
        read = self._locks.peek if peek else self._locks.read
        found = (read(self.paths.task(str(tid))) for tid in self._ids_on_disk())
        return [task for task in found if task is not None]

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
        wanted = list(dict.fromkeys(check_task_id(b) for b in blocked_by))
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
                self._ready.mark([task_id])
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

        ``metadata`` is merged key by key; a key set to None is removed. In delegate mode making
        the lead the owner, or changing the status of a task it owns, is :class:`PolicyRefused`.
        """
        tid = check_task_id(task_id)
        policy.check_task_owner(self.paths, None if owner is _UNSET else owner or None)
        new_blockers = list(dict.fromkeys(check_task_id(b) for b in add_blocked_by))
        new_dependents = list(dict.fromkeys(check_task_id(b) for b in add_blocks))
        if status is not _UNSET and status not in ("pending", "in_progress", "completed", "deleted"):
            raise BadInput(f"status {status!r} is not one of pending, in_progress, completed, deleted")
        with self._locked():
            task = self._require(tid)
            if status == "deleted":
                self._delete(task)
                return None
            if status is not _UNSET and (task.owner if owner is _UNSET else owner) == LEAD_NAME:
                policy.check(self.paths, LEAD_NAME, "own_task")
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
            self._ready.mark(i for i in maybe_ready if self._is_available_after(i, cache))
            writes: journal.Writes = {self.paths.task(t.id): t.to_json() for t in cache.values()}
            with self._ready.owning(tid, task.owner if task.status != "completed" else None):
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
        for other_id in list(dict.fromkeys([*task.blocks, *task.blocked_by])):
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
        self._ready.mark(i for i in freed if self._is_available_after(i, cache))
        journal.commit(self.paths.task_journal, writes)
        self._ready.unmark(task.id)
        self._ready.settle_owner(task.id, None)

    def delete(self, task_id: str) -> None:
        """Remove a task and strip its id from every edge."""
        with self._locked():
            self._delete(self._require(check_task_id(task_id)))

    def _busy_with(self, agent: str, except_id: str | None = None) -> list[str]:
        """Unfinished tasks ``agent`` owns: the index's candidates checked against their files (no index: all)."""
        ids = self._ready.owned_by(agent) if self._ready.kept else [str(i) for i in self._ids_on_disk()]
        found = (self._locks.peek(self.paths.task(i)) for i in ids if i != except_id)
        return [t.id for t in found if t is not None and t.owner == agent and t.status != "completed"]

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
        and nothing is available; :class:`PolicyRefused` for the lead in delegate mode.
        """
        policy.check(self.paths, agent, "claim_task")
        with self._locked():
            if check_busy:
                busy = self._busy_with(agent, except_id=task_id)
                if busy:
                    raise ClaimRefused(task_id or "", "agent_busy", busy_with=tuple(busy))
            if task_id is not None:
                task = self._require(check_task_id(task_id))
                refused = self._refusal(task, agent)
                if refused is not None:
                    raise refused
                return self._take(task, agent)
            if not self._ready.kept:  # interop mode, no index: scan, lowest id first
                for seen in self._scan(peek=True):
                    if seen.status != "pending" or seen.owner:
                        continue
                    candidate = self._read(seen.id)  # again, under Claude Code's lock
                    if candidate is not None and self._available(candidate):
                        return self._take(candidate, agent)
                raise ClaimRefused("", "none_available")
            while (lowest := self._ready.lowest()) is not None:
                candidate = self._read(lowest)
                if candidate is not None and self._available(candidate):
                    return self._take(candidate, agent)
                self._ready.unmark(lowest)
            raise ClaimRefused("", "none_available")

    def release(self, agent: str) -> list[str]:
        """Give back every unfinished task ``agent`` owns: pending, no owner. Returns their ids."""
        with self._locked():
            released = []
            for seen in self._scan(peek=True):
                task = self._read(seen.id) if self.paths.interop else seen  # interop: again, locked
                if task is not None and task.owner == agent and task.status != "completed":
                    task.owner = None
                    task.status = "pending"
                    if not self._open_blockers(task):
                        self._ready.mark([task.id])
                    atomic_write(self.paths.task(task.id), task.to_json())
                    self._ready.settle_owner(task.id, None)
                    released.append(task.id)
            return released

    def close(self) -> None:
        self._ready.close()


def _check_text(subject: str, description: str) -> None:
    if not subject or not subject.strip():
        raise BadInput("a task needs a subject")
    if len(subject) > MAX_SUBJECT:
        raise BadInput(f"subject is longer than {MAX_SUBJECT} characters")
    if len(description) > MAX_DESCRIPTION:
        raise BadInput(f"description is longer than {MAX_DESCRIPTION} characters")
