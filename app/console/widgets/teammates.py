"""The teammate list: the lead first, then each teammate with its state, task, usage and unread
badge. Once any agent reported token usage, a ``tokens`` column shows each one's tokens (in + out)
and cost, a TOTAL row sums tokens, cost, CPU and memory for the team, and the border title carries
the team's total (so it shows even when the table is too narrow for the column)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.segment import Segment
from rich.table import Table
from rich.text import Text
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

from app.core.sanitize import for_display

if TYPE_CHECKING:
    from rich.console import RenderableType
    from rich.style import Style
    from textual.geometry import Size

    from app.console.model import TeammateRow
    from app.lifecycle.usage import MemberUsage

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
DROP_ORDER = ("backend", "MB", "cpu%", "kind", "tokens")  # what goes first when the list is narrow
MIN_TASK = 12


def columns_for(width: int, widths: dict[str, int]) -> list[str]:
    """The columns that fit in ``width`` cells (``widths``: each column's widest cell), the task
    column keeping at least :data:`MIN_TASK` cells; the least useful columns go first."""
    shown = [c for c in COLUMNS if c in widths]
    task = min(MIN_TASK, widths.get("task", MIN_TASK))  # an empty task column needs no more than its header
    for drop in (None, *DROP_ORDER):
        if drop is not None and drop in shown:
            shown.remove(drop)
        need = sum(widths[c] for c in shown if c != "task") + task + len(shown) - 1
        if need <= width:
            break
    return shown


def _k(n: int) -> str:
    return f"{n / 1000:.1f}k" if n >= 1000 else str(n)


def spend_text(spend: MemberUsage | None, partial: bool = False) -> str:
    """``2.5k $0.011``: tokens in + out and the cost (3 significant digits; ``$?`` when no price is
    known, ``+?`` after a sum that lacks someone's price); ``-`` without a record."""
    if spend is None or spend.tokens_in is None or spend.tokens_out is None:
        return "-"
    tokens = _k(spend.tokens_in + spend.tokens_out)
    if spend.cost_usd is None:
        return f"{tokens} $?"
    cost = f"{spend.cost_usd:.2f}" if spend.cost_usd >= 1 else f"{spend.cost_usd:.2g}"
    return f"{tokens} ${cost}" + ("+?" if partial else "")


class TeammateList(Widget):
    """Draws the rows it is given; ``selected`` names the highlighted row. Narrow, it drops the
    backend, memory, CPU, kind and tokens columns in that order, so name, state and task always show."""

    DEFAULT_CSS = """
    TeammateList { height: auto; max-height: 50%; background: $surface; border: round $primary;
                   border-title-color: $primary; padding: 0 1; }
    """

    rows: reactive[list[TeammateRow]] = reactive(list, always_update=True)
    selected: reactive[str] = reactive("team-lead")

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self._plan: _Plan | list[Strip] | None = None  # the lines at the last size, selection and rows
        self._lines_key: tuple[object, ...] = ()
        self._rows_set = 0  # bumped each time rows are given
        self._by_cells: dict[tuple[object, ...], Strip] = {}  # the lines last drawn, by their cells and style
        self.lines_drawn = 0
        """Lines rendered so far (a new selection redraws the two lines it moved between)."""

    def on_mount(self) -> None:
        self.border_title = "Team"

    def watch_rows(self, old: list[TeammateRow], rows: list[TeammateRow]) -> None:
        self._rows_set += 1
        spent = [r.spend for r in rows if r.spend]
        self.border_title = f"Team · Σ {team_total(rows)['tokens'].plain}" if spent else "Team"
        if line_count(old) != line_count(rows):  # the list's height follows its lines; new figures only repaint
            self.refresh(layout=True)

    def _cells(self) -> tuple[list[dict[str, Text]], list[str], list[str], dict[str, int]]:
        """The cells of every row (the header excepted), each row's style, the columns shown and their widths."""
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
                    "tokens": Text(spend_text(row.spend)),
                }
            )
        with_tokens = any(r.spend for r in self.rows)  # the column and the TOTAL row show once an agent reported
        styles = ["reverse" if row.name == self.selected else "" for row in self.rows]
        if with_tokens:
            cells.append(team_total(self.rows))
            styles.append("bold")
        widths = {c: max([len(c), *(r[c].cell_len for r in cells)]) for c in COLUMNS if c != "tokens" or with_tokens}
        return cells, styles, columns_for(self.size.width, widths), widths

    def render(self) -> RenderableType:
        cells, styles, shown, _widths = self._cells()
        table = Table.grid(padding=(0, 1), expand=True)
        for header in shown:
            table.add_column(header, no_wrap=True, overflow="ellipsis", ratio=1 if header == "task" else None)
        table.add_row(*(Text(h, style="dim") for h in shown))
        for cell, style in zip(cells, styles, strict=True):
            table.add_row(*(cell[c] for c in shown), style=style)
        return table

    # -- drawn line by line: a new selection or new figures redraw only the lines that changed ------
    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return line_count(self.rows)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        key = (self._rows_set, self.selected, width)
        if key != self._lines_key:
            self._plan = self._draw(width)
            self._lines_key = key
        plan = self._plan
        if isinstance(plan, list):  # too narrow for the task column: drawn whole by Rich
            return plan[y] if y < len(plan) else Strip.blank(width)
        return self._line(plan, y) if plan is not None and y < len(plan.rows) else Strip.blank(width)

    def _draw(self, width: int) -> _Plan | list[Strip]:
        """The plan of every line at ``width``: each row's cells padded or cut (with an ellipsis) to
        its column's width, the task column taking what is left, as Rich's grid draws :meth:`render`.
        A line is drawn when it is first shown (a list of 100 shows ~20): a line drawn before with the
        same cells and style is reused. Too narrow for that: Rich draws every line now."""
        cells, styles, shown, widths = self._cells()
        base, console = self.visual_style.rich_style, self.app.console  # under every cell, as Textual's render
        task = width - sum(widths[c] for c in shown if c != "task") - (len(shown) - 1)
        if task < 1 or "task" not in shown:
            rich = console.render_lines(self.render(), console.options.update_width(width), pad=False)
            return [Strip(Segment.apply_style(line, base)) for line in rich]
        sizes = [task if c == "task" else widths[c] for c in shown]
        header = {c: Text(c, style="dim") for c in shown}
        if self._plan is not None and not isinstance(self._plan, list):
            self._by_cells = self._plan.drawn  # the lines the last plan drew, for reuse
        return _Plan(width, sizes, shown, [(header, ""), *zip(cells, styles, strict=True)], base, {})

    def _line(self, plan: _Plan, y: int) -> Strip:
        cell, style = plan.rows[y]
        texts = [cell[c] for c in plan.shown]
        key = (style, *plan.sizes, *((t.plain, tuple(t.spans), str(t.style)) for t in texts))
        strip = plan.drawn.get(key) or self._by_cells.get(key)
        if strip is None:
            line = Text(style=style, no_wrap=True, end="")
            for n, (text, size) in enumerate(zip(texts, plan.sizes, strict=True)):
                piece = text.copy()
                piece.truncate(size, overflow="ellipsis", pad=True)
                line.append_text(piece if n == 0 else Text(" ").append_text(piece))
            rendered = line.render(self.app.console)
            strip = Strip(Segment.apply_style(rendered, plan.base)).adjust_cell_length(plan.width)
            self.lines_drawn += 1
        plan.drawn[key] = strip
        return strip


@dataclass
class _Plan:
    """What :meth:`TeammateList._line` draws a line from: the cells of every row and the column sizes."""

    width: int
    sizes: list[int]
    shown: list[str]
    rows: list[tuple[dict[str, Text], str]]
    base: Style
    drawn: dict[tuple[object, ...], Strip]


def line_count(rows: list[TeammateRow]) -> int:
    """The lines :meth:`TeammateList.render` draws for ``rows``: the header, a line per row (cells
    never wrap), and the TOTAL row once an agent reported usage."""
    return 1 + len(rows) + any(r.spend for r in rows)


def team_total(rows: list[TeammateRow]) -> dict[str, Text]:
    """The TOTAL row's cells: tokens in/out and cost summed over the teammates (the lead is not
    one), CPU and memory summed over every running process, and how many are over budget."""
    mates = [r for r in rows if not r.is_lead]
    from app.lifecycle.usage import total  # imported once an agent reported usage: not for the first frame

    spend = total([r.spend for r in mates if r.spend])
    usages = [r.usage for r in rows if r.usage]
    over = sum(r.state == "over-budget" for r in mates)
    partial = any(r.spend and r.spend.cost_usd is None for r in mates)  # a model without a price
    return {
        "name": Text("TOTAL"),
        "kind": Text(""),
        "backend": Text(""),
        "state": Text(f"{over} over" if over else "", style=STATE_STYLE["over-budget"] if over else ""),
        "task": Text(""),
        "cpu%": Text(f"{sum(u.cpu for u in usages):.0f}" if usages else "-"),
        "MB": Text(f"{sum(u.mem_mb for u in usages):.0f}" if usages else "-"),
        "tokens": Text(spend_text(spend, partial) if spend.tokens_in is not None else "-"),
    }
