"""Modal forms: spawn a teammate, create/edit a task, ask for one value. Each returns its result."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Select

from app.console.ops import AGENT_KINDS, BACKENDS, SpawnRequest
from app.core.sanitize import for_display

if TYPE_CHECKING:
    from textual.app import ComposeResult

FORM_CSS = """
.form { width: 72; height: auto; background: $panel; border: thick $primary; padding: 1 2; }
.form Label { margin-top: 1; }
.form .buttons { height: auto; margin-top: 1; align-horizontal: right; }
.form Button { margin-left: 1; }
"""


class SpawnForm(ModalScreen[SpawnRequest | None]):
    """Name, agent kind or command, backend, working directory, plan mode."""

    DEFAULT_CSS = "SpawnForm { align: center middle; }\n" + FORM_CSS
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, *, cwd: str, backend: str = "in-process") -> None:
        super().__init__()
        self._cwd = cwd
        self._backend = backend

    def compose(self) -> ComposeResult:
        with Vertical(classes="form"):
            yield Label("Spawn a teammate")
            yield Input(placeholder="name, e.g. worker-1", id="name")
            yield Label("Agent kind (or a command below)")
            yield Select([(k, k) for k in AGENT_KINDS], value="shell", allow_blank=False, id="kind")
            yield Input(placeholder="command (optional, overrides the kind)", id="command")
            yield Label("Backend")
            yield Select([(b, b) for b in BACKENDS], value=self._backend, allow_blank=False, id="backend")
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

    def action_cancel(self) -> None:
        self.dismiss(None)


class TaskForm(ModalScreen[tuple[str, str] | None]):
    """Subject and description of a new or edited task."""

    DEFAULT_CSS = "TaskForm { align: center middle; }\n" + FORM_CSS
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, subject: str = "", description: str = "") -> None:
        super().__init__()
        self._title = title
        self._subject = subject
        self._description = description

    def compose(self) -> ComposeResult:
        with Vertical(classes="form"):
            yield Label(self._title)
            subject, description = for_display(self._subject, one_line=True), for_display(self._description)
            yield Input(value=subject, placeholder="subject", id="subject")
            yield Input(value=description, placeholder="description", id="description")
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Save", variant="primary", id="ok")

    def _result(self) -> tuple[str, str]:
        return (self.query_one("#subject", Input).value, self.query_one("#description", Input).value)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(self._result() if event.button.id == "ok" else None)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(self._result())

    def action_cancel(self) -> None:
        self.dismiss(None)


class AskForm(ModalScreen[str | None]):
    """One value (a blocker's task id, say)."""

    DEFAULT_CSS = "AskForm { align: center middle; }\n" + FORM_CSS
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

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

    def action_cancel(self) -> None:
        self.dismiss(None)
