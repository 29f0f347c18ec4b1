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
    "over-budget": "bold reverse",
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


COLUMNS = ("name", "kind", "backend", "state", "task", "tokens", "cpu%", "MB")
DROP_ORDER = ("tokens", "backend", "MB", "cpu%", "kind")  # what goes first when the list is narrow
MIN_TASK = 12


def columns_for(width: int, widths: dict[str, int]) -> list[str]:
    """The columns that fit in ``width`` cells (``widths``: each column's widest cell), the task
    column keeping at least :data:`MIN_TASK` cells; the least useful columns go first."""
    shown = [c for c in COLUMNS if c in widths]
    for drop in (None, *DROP_ORDER):
        if drop is not None and drop in shown:
            shown.remove(drop)
        need = sum(widths[c] for c in shown if c != "task") + MIN_TASK + len(shown) - 1
        if need <= width:
            break
    return shown


class TeammateList(Widget):
    """Draws the rows it is given; ``selected`` names the highlighted row. Narrow, it drops the
    backend, memory, CPU and kind columns in that order, so name, state and task always show."""

    DEFAULT_CSS = """
    TeammateList { height: auto; max-height: 50%; background: $surface; border: round $primary;
                   border-title-color: $primary; padding: 0 1; }
    """

    rows: reactive[list[TeammateRow]] = reactive(list, always_update=True, layout=True)
    selected: reactive[str] = reactive("team-lead")

    def on_mount(self) -> None:
        self.border_title = "Team"

    def render(self) -> RenderableType:
        cells: list[dict[str, Text]] = []
        for row in self.rows:
            usage = row.usage
            cells.append(
                {
                    "name": _name(row),
                    "kind": _plain(row.kind),
                    "backend": _plain(row.backend),
                    "state": Text(row.state, style=STATE_STYLE.get(row.state, "")),
                    "task": _plain(row.task or "-"),
                    "cpu%": Text(f"{usage.cpu:.0f}" if usage else "-"),
                    "MB": Text(f"{usage.mem_mb:.0f}" if usage else "-"),
                    "tokens": Text(row.tokens or "-"),
                }
            )
        with_tokens = any(r.tokens for r in self.rows)  # the column shows once an agent reported usage
        widths = {c: max([len(c), *(r[c].cell_len for r in cells)]) for c in COLUMNS if c != "tokens" or with_tokens}
        shown = columns_for(self.size.width, widths)
        table = Table.grid(padding=(0, 1), expand=True)
        for header in shown:
            table.add_column(header, no_wrap=True, overflow="ellipsis", ratio=1 if header == "task" else None)
        table.add_row(*(Text(h, style="dim") for h in shown))
        for row, cell in zip(self.rows, cells, strict=True):
            table.add_row(*(cell[c] for c in shown), style="reverse" if row.name == self.selected else "")
        return table
