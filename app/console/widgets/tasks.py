"""The task panel (Ctrl+T): the team's tasks with status, owner, blockers and availability.

Availability is the core's rule (:meth:`app.core.models.Task.availability`), drawn as it says.

It only draws and asks: each key posts a :class:`TaskPanel.Action` naming the task, and the
screen does the change through the core in a worker (so a refusal comes back as a notice).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import DataTable

from app.core.sanitize import for_display

if TYPE_CHECKING:
    from app.core.models import Task

STATUS_NEXT = {"pending": "in_progress", "in_progress": "completed", "completed": "pending"}


class TaskPanel(DataTable[Text]):
    """A table of tasks; its bindings act on the highlighted task."""

    DEFAULT_CSS = """
    TaskPanel { height: 12; border: round $accent; background: $surface; display: none; }
    TaskPanel.-shown { display: block; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "act('new')", "New task"),
        Binding("e", "act('edit')", "Edit"),
        Binding("a", "act('assign')", "Assign to selected"),
        Binding("u", "act('unassign')", "Unassign"),
        Binding("b", "act('depend')", "Add blocker"),
        Binding("s", "act('status')", "Next status"),
        Binding("delete,x", "act('delete')", "Delete"),
    ]

    class Action(Message):
        """The lead asked for ``verb`` on task ``task_id`` (None when the list is empty)."""

        def __init__(self, verb: str, task_id: str | None) -> None:
            self.verb = verb
            self.task_id = task_id
            super().__init__()

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self.tasks: list[Task] = []

    def on_mount(self) -> None:
        self.border_title = "Tasks"
        self.add_columns("id", "status", "owner", "subject", "availability")

    def show_tasks(self, tasks: list[Task], blocked: dict[str, list[str]]) -> None:
        """Replace the rows, keeping the cursor on the same task when it still exists."""
        current = self.current_id()
        self.tasks = tasks
        self.clear()
        for t in tasks:
            cells = (t.id, t.status, t.owner or "-", t.subject, t.availability(blocked.get(t.id, [])))
            self.add_row(*(Text(for_display(c, one_line=True)) for c in cells), key=t.id)
        if current is not None:
            for i, t in enumerate(tasks):
                if t.id == current:
                    self.move_cursor(row=i)
                    break

    def current_id(self) -> str | None:
        if not self.tasks or self.cursor_row < 0 or self.cursor_row >= len(self.tasks):
            return None
        return self.tasks[self.cursor_row].id

    def current(self) -> Task | None:
        tid = self.current_id()
        return next((t for t in self.tasks if t.id == tid), None)

    def action_act(self, verb: str) -> None:
        self.post_message(self.Action(verb, self.current_id()))
