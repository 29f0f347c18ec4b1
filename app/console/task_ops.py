"""Task panel operations for the lead: every change through :class:`TaskStore`, under the policy."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.core import policy
from app.core.paths import LEAD_NAME

if TYPE_CHECKING:
    from app.console.ops import TeamContext
    from app.core.models import Task
    from app.core.tasks import UpdateStatus

STATUS_NEXT: dict[str, UpdateStatus] = {"pending": "in_progress", "in_progress": "completed", "completed": "pending"}


def _allowed(ctx: TeamContext) -> None:
    policy.check(ctx.paths, LEAD_NAME, "manage_tasks")


def create(ctx: TeamContext, subject: str, description: str, command: str = "") -> Task:
    """A new pending task; ``command`` (optional) is the shell command a worker runs for it
    (``metadata.command``, as ``crewmux task add --command``). Raises BadInput for an empty subject."""
    _allowed(ctx)
    return ctx.tasks.create(subject, description, metadata={"command": command} if command.strip() else None)


def edit(ctx: TeamContext, task_id: str, subject: str, description: str, command: str | None = None) -> Task | None:
    """Change a task's subject, description and (when given; empty removes it) its command."""
    _allowed(ctx)
    if command is None:
        return ctx.tasks.update(task_id, subject=subject, description=description)
    metadata = {"command": command if command.strip() else None}
    return ctx.tasks.update(task_id, subject=subject, description=description, metadata=metadata)


def next_status(ctx: TeamContext, task_id: str) -> Task | None:
    """Move a task to its next status (pending → in_progress → completed → pending)."""
    _allowed(ctx)  # the lead working its own task in delegate mode: TaskStore refuses it
    return ctx.tasks.update(task_id, status=STATUS_NEXT[ctx.tasks.get(task_id).status])


def add_blocker(ctx: TeamContext, task_id: str, blocker_id: str) -> Task | None:
    """Make ``task_id`` wait on ``blocker_id``; DependencyCycle when that would loop."""
    _allowed(ctx)
    return ctx.tasks.update(task_id, add_blocked_by=[blocker_id])


def delete(ctx: TeamContext, task_id: str) -> None:
    """Remove a task and its edges."""
    _allowed(ctx)
    ctx.tasks.delete(task_id)
