"""A yes/no question before a destructive key acts: it names exactly what will happen."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

if TYPE_CHECKING:
    from textual.app import ComposeResult


class Confirm(ModalScreen[bool]):
    """``title`` and the consequences (one line each); y/Enter on the action button confirms, n/Esc cancels.

    Focus starts on Cancel, so a key typed by mistake never confirms: only ``y``, or Enter after
    moving to the action button, does.
    """

    DEFAULT_CSS = """
    Confirm { align: center middle; }
    Confirm > Vertical { width: 64; max-width: 100%; height: auto; background: $panel;
                         border: thick $error; padding: 1 2; }
    Confirm #title { text-style: bold; }
    Confirm #what { margin-top: 1; }
    Confirm #hint { margin-top: 1; color: $text-muted; }
    Confirm .buttons { height: auto; margin-top: 1; align-horizontal: right; }
    Confirm Button { margin-left: 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes", show=False),
        Binding("n,escape", "answer(False)", "No", show=False),
        Binding("tab,right", "app.focus_next", show=False, priority=True),
        Binding("shift+tab,left", "app.focus_previous", show=False, priority=True),
    ]

    def __init__(self, title: str, consequences: list[str], *, action: str = "Yes") -> None:
        super().__init__()
        self._title = title
        self._consequences = consequences
        self._action = action

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self._title, id="title")
            yield Static("\n".join(f"• {line}" for line in self._consequences), id="what")
            yield Label("y confirms · n or esc cancels", id="hint")
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="no")
                yield Button(self._action, variant="error", id="yes")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


def confirm_shutdown(name: str, grace: float, task: str | None) -> Confirm:
    """F3's question: what shutting ``name`` down does."""
    owned = f"its task {task} is released for others" if task else "it owns no task"
    return Confirm(
        f"Shut down {name}?",
        [
            f"{name} is asked to shut down and has {grace:g} s to agree",
            f"if it does not answer, its processes are killed (SIGTERM, then SIGKILL) and its pane closed; {owned}",
            f"{name} leaves the team",
        ],
        action="Shut down",
    )


def confirm_stop_team(team: str, names: list[str], grace: float) -> Confirm:
    """F10's question: what stopping the whole team does."""
    return Confirm(
        f"Stop team {team} and quit?",
        [
            f"every teammate ({', '.join(names) or 'none now'}) is asked to shut down",
            f"any that does not agree within {grace:g} s is killed, and its pane closed",
            "their tasks are released, and the console quits",
        ],
        action="Stop team",
    )
