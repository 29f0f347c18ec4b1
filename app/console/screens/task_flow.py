"""What each task-panel key does: a form, a confirmation, or an operation run through the core.

The panel only posts :class:`TaskPanel.Action`; the main screen hands it here with itself, so
the forms and the worker that runs the change stay the screen's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.console import ops, task_ops
from app.console.messages import Notice
from app.console.screens.confirm import Confirm

if TYPE_CHECKING:
    from app.console.screens.forms import TaskFormResult
    from app.console.screens.main import MainScreen
    from app.console.widgets.tasks import TaskPanel


def act(screen: MainScreen, panel: TaskPanel, verb: str, tid: str | None) -> None:
    """Carry out ``verb`` on task ``tid`` (None: the list is empty) for the lead."""
    from app.console.screens.forms import AskForm, TaskForm  # imported on first use: not for the first frame

    ctx = screen.ctx
    if verb == "new":

        def created(r: TaskFormResult | None) -> None:
            if r is not None:
                screen.run_op("new task", task_ops.create, ctx, r.subject, r.description, r.command)

        screen.app.push_screen(TaskForm("New task"), created)
        return
    task = panel.current()
    if tid is None or task is None:
        screen.post_message(Notice("no task selected", "warning"))
        return
    if verb == "edit":

        def edited(r: TaskFormResult | None) -> None:
            if r is not None:
                screen.run_op(f"edit #{tid}", task_ops.edit, ctx, tid, r.subject, r.description, r.command)

        command = str((task.metadata or {}).get("command") or "")
        screen.app.push_screen(TaskForm(f"Edit task #{tid}", task.subject, task.description, command), edited)
    elif verb == "assign":
        screen.run_op(f"assign #{tid} to {screen.selected}", ops.assign, ctx, tid, screen.selected)
    elif verb == "unassign":
        screen.run_op(f"unassign #{tid}", ops.assign, ctx, tid, None)
    elif verb == "status":
        screen.run_op(f"status of #{tid}", task_ops.next_status, ctx, tid)
    elif verb == "delete":
        waiting = ", ".join(f"#{b}" for b in task.blocks) or "no task"
        consequences = [
            f"task #{tid} “{task.subject}” is removed from the team's list for everyone",
            f"{waiting} waiting on it no longer waits" if task.blocks else "no task waits on it",
            f"its owner {task.owner} stops seeing it" if task.owner else "nobody owns it",
        ]

        def confirmed(yes: bool | None) -> None:
            if yes:
                screen.run_op(f"delete #{tid}", task_ops.delete, ctx, tid)

        screen.app.push_screen(Confirm(f"Delete task #{tid}?", consequences, action="Delete"), confirmed)
    elif verb == "depend":

        def depend(b: str | None) -> None:
            if b is not None:
                screen.run_op(f"#{tid} blocked by {b}", task_ops.add_blocker, ctx, tid, b)

        screen.app.push_screen(AskForm(f"Task #{tid} waits on task id:"), depend)
