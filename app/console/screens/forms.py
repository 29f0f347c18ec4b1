"""Modal forms: spawn a teammate, create/edit a task, ask for one value. Each returns its result."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, NamedTuple, TypeVar

from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Select

from app.console.ops import AGENT_KINDS, BACKENDS, SpawnRequest
from app.core.sanitize import for_display

if TYPE_CHECKING:
    from textual.app import ComposeResult

R = TypeVar("R")

FORM_CSS = """
.form { width: 72; max-width: 100%; height: auto; max-height: 100%; overflow-y: auto; background: $panel;
        border: thick $primary; padding: 1 2; }
.form Label { margin-top: 1; }
.form .buttons { height: auto; margin-top: 1; align-horizontal: right; }
.form Button { margin-left: 1; }
"""


class Form(ModalScreen[R]):
    """A modal form. Tab and Shift+Tab are priority keys: the focus moves as the key is read, so
    keys typed right after Tab land in the next field (as a non-priority binding, Tab bubbled
    through the widget queues while the next keys were already forwarded to the old field)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("tab", "app.focus_next", "Next field", show=False, priority=True),
        Binding("shift+tab", "app.focus_previous", "Previous field", show=False, priority=True),
    ]

    def action_cancel(self) -> None:
        self.dismiss(None)


class SpawnForm(Form[SpawnRequest | None]):
    """Name, agent kind or command (run by ``sh -c``), backend (``auto`` first), working directory, plan mode."""

    DEFAULT_CSS = "SpawnForm { align: center middle; }\n" + FORM_CSS

    def __init__(self, *, cwd: str, auto: str = "in-process") -> None:
        super().__init__()
        self._cwd = cwd
        self._auto = auto

    def compose(self) -> ComposeResult:
        with Vertical(classes="form"):
            yield Label("Spawn a teammate")
            yield Input(placeholder="name, e.g. worker-1", id="name")
            yield Label("Agent kind (or a command below)")
            yield Select([(k, k) for k in AGENT_KINDS], value="shell", allow_blank=False, id="kind")
            yield Input(placeholder="command (optional, overrides the kind; run by sh -c)", id="command")
            yield Label("Backend")
            choices = [(f"auto ({self._auto} here)" if b == "auto" else b, b) for b in BACKENDS]
            yield Select(choices, value="auto", allow_blank=False, id="backend")
            yield Label("Working directory")
            yield Input(value=self._cwd, id="cwd")
            yield Checkbox("Plan mode (ask approval before working)", id="plan")
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Spawn", variant="primary", id="ok")

    def _result(self) -> SpawnRequest:
        kind = self.query_one("#kind", Select).value
        backend = self.query_one("#backend", Select).value
        return SpawnRequest(
            name=self.query_one("#name", Input).value.strip(),
            kind=str(kind),
            command=self.query_one("#command", Input).value,
            backend=str(backend),
            cwd=self.query_one("#cwd", Input).value.strip(),
            plan_mode=self.query_one("#plan", Checkbox).value,
        )

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(self._result() if event.button.id == "ok" else None)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter in the name field moves on to the command; anywhere else it spawns."""
        event.stop()
        if event.input.id == "name":
            self.query_one("#command", Input).focus()
            return
        self.dismiss(self._result())


class TaskFormResult(NamedTuple):
    """What the task form returns."""

    subject: str
    description: str
    command: str


class TaskForm(Form[TaskFormResult | None]):
    """Subject, description and (optional) the shell command a worker runs for the task."""

    DEFAULT_CSS = "TaskForm { align: center middle; }\n" + FORM_CSS

    def __init__(self, title: str, subject: str = "", description: str = "", command: str = "") -> None:
        super().__init__()
        self._title = title
        self._subject = subject
        self._description = description
        self._command = command

    def compose(self) -> ComposeResult:
        with Vertical(classes="form"):
            yield Label(self._title)
            subject, description = for_display(self._subject, one_line=True), for_display(self._description)
            yield Input(value=subject, placeholder="subject", id="subject")
            yield Input(value=description, placeholder="description", id="description")
            command = for_display(self._command, one_line=True)
            yield Input(value=command, placeholder="command a worker runs (optional, sh -c)", id="command")
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Save", variant="primary", id="ok")

    def _result(self) -> TaskFormResult:
        value = {n: self.query_one(f"#{n}", Input).value for n in ("subject", "description", "command")}
        return TaskFormResult(value["subject"], value["description"], value["command"])

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(self._result() if event.button.id == "ok" else None)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(self._result())


class AskForm(Form[str | None]):
    """One value (a blocker's task id, say)."""

    DEFAULT_CSS = "AskForm { align: center middle; }\n" + FORM_CSS

    def __init__(self, question: str) -> None:
        super().__init__()
        self._question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="form"):
            yield Label(self._question)
            yield Input(id="answer")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value.strip() or None)
