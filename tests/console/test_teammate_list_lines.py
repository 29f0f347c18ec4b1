"""The teammate list drawn line by line: the same cells as Rich's grid (:meth:`TeammateList.render`)
at every width, a new selection redraws only the two lines it moved between, and new figures
(CPU, memory) repaint without a layout of the whole screen. Counted, not timed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from rich.segment import Segment
from rich.style import Style
from textual.app import App, ComposeResult
from textual.strip import Strip

from app.console.model import State, TeammateRow, Usage
from app.console.widgets.teammates import TeammateList
from app.lifecycle.usage import MemberUsage

if TYPE_CHECKING:
    import pytest


def _rows(cpu: float = 12.5, spend: bool = False, count: int = 5) -> list[TeammateRow]:
    rows = [TeammateRow("team-lead", None, "lead", "-", "working", None, Usage(3, 50), 2, is_lead=True)]
    for i in range(count):
        rows.append(
            TeammateRow(
                "w2-名前" if i == 2 else f"worker-{i}",
                ["purple", "orange", None, "green", "pink"][i % 5],
                "claude",
                "tmux",
                cast("State", ["working", "idle", "dead", "waiting", "over-budget"][i % 5]),
                "fix the very long task subject here, please" if i % 2 else None,
                Usage(cpu * i, 80) if i != 3 else None,
                i,
                spend=MemberUsage(name=f"w{i}", state="running", tokens_in=1200 * i, tokens_out=300,
                                  cost_usd=0.01 * i if i != 4 else None) if spend and i != 1 else None,
            )
        )  # fmt: skip
    return rows


class ListApp(App[None]):
    def compose(self) -> ComposeResult:
        yield TeammateList(id="teammates")


def _cells(strip: Strip) -> list[tuple[str, Style]]:
    return [(ch, seg.style or Style()) for seg in strip for ch in seg.text]


async def test_the_lines_are_rich_grids_cells_at_every_width() -> None:
    for width in (20, 34, 60, 130):  # 20: too narrow for the task column, Rich draws it
        for spend in (False, True):
            app = ListApp()
            async with app.run_test(size=(width + 4, 20)) as pilot:
                team = app.query_one(TeammateList)
                team.rows, team.selected = _rows(spend=spend), "worker-1"
                await pilot.pause()
                w, console = team.size.width, app.console
                ours = [team.render_line(y) for y in range(team.size.height)]
                rich = [
                    Strip(Segment.apply_style(line, team.visual_style.rich_style)).adjust_cell_length(w)
                    for line in console.render_lines(team.render(), console.options.update_width(w), pad=False)
                ]
                assert [_cells(s) for s in ours] == [_cells(s) for s in rich], (width, spend)


async def test_a_new_selection_redraws_two_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    app = ListApp()
    async with app.run_test(size=(100, 20)) as pilot:
        team = app.query_one(TeammateList)
        team.rows = _rows()
        await pilot.pause()
        lines = [team.render_line(y) for y in range(team.size.height)]
        drawn = team.lines_drawn
        team.selected = "w2-名前"  # from the lead's line
        assert [team.render_line(y) for y in range(team.size.height)] != lines
        assert team.lines_drawn - drawn == 2
        assert "reverse" in str(team.render_line(4)._segments[0].style)

        layouts: list[bool] = []
        original = team.refresh

        def spy(*regions: Any, **flags: Any) -> Any:
            layouts.append(bool(flags.get("layout")))
            return original(*regions, **flags)

        monkeypatch.setattr(team, "refresh", spy)
        team.rows = _rows(cpu=40.0)  # new figures, as every status pass of a busy team brings
        assert not any(layouts), "new figures laid the whole screen out again"
        team.rows = _rows(count=6)  # one more teammate: the list grows
        assert any(layouts)
        await pilot.pause()
        assert team.size.height == 1 + 7


async def test_a_long_list_draws_only_the_lines_it_shows() -> None:
    """100 teammates in a list ~half the screen high: only the shown lines are drawn (the first
    frame of a large team drew every one), and they are the lines a whole draw gives."""
    app = ListApp()
    async with app.run_test(size=(100, 40)) as pilot:
        team = app.query_one(TeammateList)
        team.rows = _rows(count=100)
        await pilot.pause()
        shown = team.size.height
        assert shown < 40
        assert team.lines_drawn <= shown + 1, f"{team.lines_drawn} lines drawn for {shown} shown (101 in the list)"
        last = team.render_line(101)  # the header, the lead, 100 teammates: the last is drawn when asked for
        assert "worker-99" in "".join(seg.text for seg in last)
