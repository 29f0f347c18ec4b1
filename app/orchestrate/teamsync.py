"""Mirror a checkpoint's tasks into a team's task list, so the console shows them.

Each checkpoint task becomes one team task (its dependencies as ``blockedBy``), tagged in its
metadata with the checkpoint's path and the task's id; a mirror that crashed half way finds its
tasks again by that tag instead of making duplicates. Starting a task claims it for the slot
that runs it and marks it in progress; finishing marks it completed; a failure gives it back.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from app.core.errors import TeamExists
from app.core.tasks import TaskStore
from app.core.team import TeamStore

if TYPE_CHECKING:
    from pathlib import Path

    from app.orchestrate.checkpoint import Checkpoint, TaskSpec

TAG_FILE = "iterateCheckpoint"
TAG_TASK = "iterateTask"


def default_team(checkpoint: Path) -> str:
    """The team used when none is named: ``iterate-<checkpoint stem>``."""
    stem = "".join(ch if ch.isalnum() else "-" for ch in checkpoint.stem.lower()).strip("-") or "run"
    return f"iterate-{stem}"[:64]


class TeamMirror:
    """The team task list that shows one checkpoint's tasks."""

    def __init__(self, home: Path, team: str, checkpoint: Path) -> None:
        self.teams = TeamStore(home)
        self.team = team
        self.checkpoint = str(checkpoint)
        if not self.teams.exists(team):
            with contextlib.suppress(TeamExists):
                self.teams.create(team, f"crewmux iterate: {checkpoint.name}")
        self.store = TaskStore(self.teams.paths(team))

    def close(self) -> None:
        self.store.close()

    def _existing(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for task in self.store.list_tasks():
            meta: dict[str, Any] = task.metadata or {}
            if meta.get(TAG_FILE) == self.checkpoint and isinstance(meta.get(TAG_TASK), str):
                found[meta[TAG_TASK]] = task.id
        return found

    def sync(self, cp: Checkpoint, order: list[TaskSpec]) -> bool:
        """Give every remaining task a team task (``order``: dependencies first). True if any changed."""
        missing = [t for t in order if t.team_task_id is None]
        if not missing:
            return False
        existing = self._existing()
        team_ids = {t.id: t.team_task_id for t in cp.remaining if t.team_task_id}
        team_ids.update({r.id: r.team_task_id for r in cp.completed if r.team_task_id})
        for spec in missing:
            tid = existing.get(spec.id)
            if tid is None:
                blockers = [team_ids[d] for d in spec.deps if team_ids.get(d)]
                made = self.store.create(
                    spec.subject or f"task {spec.id}",
                    spec.description,
                    blocked_by=[b for b in blockers if b is not None],
                    metadata={TAG_FILE: self.checkpoint, TAG_TASK: spec.id},
                )
                tid = made.id
            spec.team_task_id = tid
            team_ids[spec.id] = tid
        return True

    def started(self, spec: TaskSpec, owner: str) -> None:
        if spec.team_task_id:
            self.store.update(spec.team_task_id, owner=owner, status="in_progress")

    def finished(self, spec: TaskSpec, result: object) -> None:
        if spec.team_task_id:
            text = result if isinstance(result, str) else None
            meta = {"iterateResult": text[:500]} if text else None
            self.store.update(spec.team_task_id, status="completed", metadata=meta)

    def failed(self, spec: TaskSpec) -> None:
        if spec.team_task_id:
            self.store.update(spec.team_task_id, owner=None, status="pending")
