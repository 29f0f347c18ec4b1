"""The teammate list: the lead first, then each teammate with its state, task, usage and unread badge."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from app.core.sanitize import for_display

if TYPE_CHECKING:
    from rich.console import RenderableType

    from app.console.model import TeammateRow

STATE_STYLE = {
    "starting": "italic",
    "working": "bold",
    "waiting": "bold underline",
    "idle": "dim",
    "stopped": "dim strike",
    "dead": "bold reverse",
}
# Claude Code's member colors, as terminal color names.
COLOR_NAMES = {"purple": "magenta", "orange": "bright_red", "pink": "bright_magenta"}


def _name(row: TeammateRow) -> Text:
    color = COLOR_NAMES.get(row.color or "", row.color or "")
    text = Text(for_display(row.name, one_line=True), style=f"bold {color}".strip() if color else "bold")
    if row.unread:
        text.append(f" ✉{row.unread}", style="reverse")
    return text


def _plain(value: str) -> Text:
    """A teammate's string as plain text (no markup), escape sequences removed."""
    return Text(for_display(value, one_line=True))


class TeammateList(Widget):
    """Draws the rows it is given; ``selected`` names the highlighted row."""

    DEFAULT_CSS = """
    TeammateList { height: auto; max-height: 50%; background: $surface; border: round $primary;
                   border-title-color: $primary; padding: 0 1; }
    """

    rows: reactive[list[TeammateRow]] = reactive(list, always_update=True, layout=True)
    selected: reactive[str] = reactive("team-lead")

    def on_mount(self) -> None:
        self.border_title = "Team"

    def render(self) -> RenderableType:
        table = Table.grid(padding=(0, 1), expand=True)
        for header in ("name", "kind", "backend", "state", "task", "cpu", "mem"):
            table.add_column(header, no_wrap=True, overflow="ellipsis", ratio=2 if header == "task" else None)
        table.add_row(*(Text(h, style="dim") for h in ("name", "kind", "backend", "state", "task", "cpu%", "MB")))
        for row in self.rows:
            usage = row.usage
            table.add_row(
                _name(row),
                _plain(row.kind),
                _plain(row.backend),
                Text(row.state, style=STATE_STYLE.get(row.state, "")),
                _plain(row.task or "-"),
                f"{usage.cpu:.0f}" if usage else "-",
                f"{usage.mem_mb:.0f}" if usage else "-",
                style="reverse" if row.name == self.selected else "",
            )
        return table
