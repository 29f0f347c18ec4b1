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


def shown_availability(task: Task, blockers: list[str]) -> str:
    """The core's availability rule, except a task its worker kept after a failure (pending with
    ``metadata.failure``): ``FAILED (exit code 1)`` / ``FAILED (plan rejected)``, never ``available``."""
    failure = (task.metadata or {}).get("failure") if task.status != "completed" else None
    if not failure:
        return task.availability(blockers)
    why = "see its notes"
    if isinstance(failure, dict) and "exitCode" in failure:
        why = f"exit code {failure['exitCode']}"
    if isinstance(failure, dict) and failure.get("planRejected"):
        why = "plan rejected"
    return f"FAILED ({why})"


FOCUSED_HINT = "keys act on tasks · esc: back to typing"
UNFOCUSED_HINT = "tab or click here to use its keys · ctrl+t hides"


class TaskPanel(DataTable[Text]):
    """A table of tasks; its letter keys act on the highlighted task, only while it has focus.

    Focus shows: a thick accent border and the keys in its subtitle. Any other printable key is
    text, not a command: :meth:`takes_key` says so, and the screen sends it to the composer.
    """

    DEFAULT_CSS = """
    TaskPanel { height: 35%; min-height: 6; max-height: 14; border: round $panel; background: $surface; display: none;
                border-subtitle-color: $text-muted; }
    TaskPanel:focus { border: thick $accent; border-title-style: bold; border-subtitle-color: $accent; }
    TaskPanel.-shown { display: block; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "leave", "Back", tooltip="Back to typing: the composer gets the focus"),
        Binding("n", "act('new')", "New", tooltip="New task (subject, description, command a worker runs)"),
        Binding("e", "act('edit')", "Edit", tooltip="Edit the highlighted task"),
        Binding("a", "act('assign')", "Assign", tooltip="Assign the highlighted task to the selected teammate"),
        Binding("u", "act('unassign')", "Unassign", tooltip="Take the highlighted task from its owner"),
        Binding("b", "act('depend')", "Blocker", tooltip="Make the highlighted task wait on another task"),
        Binding("s", "act('status')", "Status", tooltip="Next status: pending → in progress → completed"),
        Binding("delete,x", "act('delete')", "Delete…", tooltip="Delete the highlighted task (asks first)"),
    ]

    class Leave(Message):
        """Esc: the lead wants to type again (the screen focuses the composer)."""

    class Action(Message):
        """The lead asked for ``verb`` on task ``task_id`` (None when the list is empty)."""

        def __init__(self, verb: str, task_id: str | None) -> None:
            self.verb = verb
            self.task_id = task_id
            super().__init__()

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self.tasks: list[Task] = []

    @classmethod
    def takes_key(cls, key: str) -> bool:
        """True for the keys the panel acts on (its bindings and table navigation)."""
        keys = {k for b in cls.BINDINGS if isinstance(b, Binding) for k in b.key.split(",")}
        return key in keys or key in ("up", "down", "pageup", "pagedown", "home", "end", "enter", "tab")

    def on_mount(self) -> None:
        self.border_title = "Tasks"
        self.border_subtitle = UNFOCUSED_HINT
        self.add_columns("id", "status", "owner", "subject", "availability")

    def show_tasks(self, tasks: list[Task], blocked: dict[str, list[str]]) -> None:
        """Replace the rows, keeping the cursor on the same task when it still exists."""
        current = self.current_id()
        self.tasks = tasks
        self.clear()
        for t in tasks:
            cells = (t.id, t.status, t.owner or "-", t.subject, shown_availability(t, blocked.get(t.id, [])))
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

    def on_focus(self) -> None:
        self.border_subtitle = FOCUSED_HINT

    def on_blur(self) -> None:
        self.border_subtitle = UNFOCUSED_HINT

    def action_leave(self) -> None:
        self.post_message(self.Leave())

    def action_act(self, verb: str) -> None:
        self.post_message(self.Action(verb, self.current_id()))
