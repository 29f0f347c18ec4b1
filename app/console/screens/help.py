"""F1 (or ?): every key of the console, read from the bindings themselves so it is never stale."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.table import Table
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

if TYPE_CHECKING:
    from collections.abc import Iterable

    from textual.app import ComposeResult

# How Textual names keys → how a person reads them.
_KEY_NAMES = {
    "shift": "Shift", "ctrl": "Ctrl", "escape": "Esc", "enter": "Enter", "delete": "Del", "tab": "Tab",
    "question_mark": "?",
}  # fmt: skip


def key_label(keys: str) -> str:
    """``"shift+down"`` → ``"Shift+Down"``, ``"delete,x"`` → ``"Del / x"``, ``"f10"`` → ``"F10"``."""
    out = []
    for key in keys.split(","):
        parts = [_KEY_NAMES.get(p, p.upper() if p.startswith("f") and p[1:].isdigit() else p) for p in key.split("+")]
        out.append("+".join(p if len(p) == 1 else p[:1].upper() + p[1:] for p in parts))
    return " / ".join(out)


def binding_rows(bindings: Iterable[BindingType]) -> list[tuple[str, str]]:
    """(keys, what it does) for each described binding, in declaration order."""
    rows = []
    for b in bindings:
        if isinstance(b, Binding) and b.description:
            rows.append((key_label(b.key), b.tooltip or b.description))
    return rows


def console_help(
    main: Iterable[BindingType], tasks: Iterable[BindingType], terminal: Iterable[BindingType]
) -> list[tuple[str, list[tuple[str, str]]]]:
    """The help screen's sections, from the main screen's, the task panel's and the terminal view's bindings."""
    return [
        ("Main screen", binding_rows(main)),
        ("Task panel (ctrl+t; its letters act only while it has focus)", binding_rows(tasks)),
        ("A teammate's screen (enter on an empty composer opens it)", binding_rows(terminal)),
        ("Everywhere", [("Ctrl+P", "Command palette: every action, themes"), ("Esc", "Close a form or dialog")]),
    ]


class HelpScreen(ModalScreen[None]):
    """Sections of ``(title, [(keys, what)])``; Esc, F1, ? or q closes."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 76; max-width: 100%; height: auto; max-height: 100%;
                                  background: $panel; border: thick $primary; padding: 0 1; }
    HelpScreen #help-hint { color: $text-muted; }
    HelpScreen .section { text-style: bold underline; margin-top: 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,f1,question_mark,q", "app.pop_screen", "Close help")]

    def __init__(self, sections: list[tuple[str, list[tuple[str, str]]]]) -> None:
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Label("Keys (also in the command palette, ctrl+p)", id="help-title")
            for title, rows in self.sections:
                yield Label(title, classes="section")
                table = Table.grid(padding=(0, 2))
                table.add_column(style="bold", no_wrap=True, min_width=12)
                table.add_column()
                for keys, what in rows:
                    table.add_row(keys, what)
                yield Static(table)
            yield Label("esc closes · arrows / page keys scroll", id="help-hint")
