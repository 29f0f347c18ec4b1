"""A frame of a scrolling teammate decorates (border, background, filters) only the rows it brought
in, the others keep the lines Textual drew for them, and the result is what Textual itself draws,
before and after a style change (focus colours the border)."""

from __future__ import annotations

import pytest
from textual.geometry import Region
from textual.widget import Widget

from app.console.widgets.terminal import TerminalView
from tests.console.test_terminal_draw_cost import COLS, ROWS, FedScreen, ViewApp, _drawn

pytest.importorskip("pyghostty")


def _as_textual_draws(view: TerminalView) -> None:
    region = Region(0, 0, *view.outer_size)
    ours = [list(strip) for strip in view.render_lines(region)]
    view._styles_cache.clear()  # Textual's own way, every line decorated anew
    theirs = [list(strip) for strip in Widget.render_lines(view, region)]
    assert ours == theirs


async def test_a_scroll_decorates_only_the_rows_it_brought_in() -> None:
    app = ViewApp(fps=20)
    async with app.run_test(size=(COLS + 2, ROWS + 2)) as pilot:
        view = app.query_one(TerminalView)
        fed = FedScreen()
        view.attach(fed)
        fed.feed(b"\r\n".join(f"\x1b[3{n % 8}mline {n}\x1b[0m".encode() for n in range(ROWS)))
        await _drawn(pilot, view, fed)
        await pilot.pause()
        _as_textual_draws(view)
        decorated = view.drawn.decorated
        scrolls = 5
        for n in range(ROWS, ROWS + scrolls):
            fed.feed(f"\r\n\x1b[1mline {n}\x1b[0m plain".encode())
            await _drawn(pilot, view, fed)
            await pilot.pause()
        # each frame: the two border lines, the new bottom row, the cursor's old and new rows at most
        assert view.drawn.decorated - decorated <= 5 * scrolls, "a scroll decorated rows that only moved up"
        _as_textual_draws(view)
        view.focus()  # the border changes colour: every line is decorated again, as Textual draws it
        await pilot.pause()
        await _drawn(pilot, view, fed)
        _as_textual_draws(view)


async def test_a_teammate_shown_again_keeps_the_rows_it_still_has() -> None:
    app = ViewApp(fps=20)
    async with app.run_test(size=(COLS + 2, ROWS + 2)) as pilot:
        view = app.query_one(TerminalView)
        first, second = FedScreen(), FedScreen()
        view.attach(first)
        first.feed(b"\r\n".join(f"\x1b[3{n % 8}mfirst {n}\x1b[0m".encode() for n in range(ROWS)))
        await _drawn(pilot, view, first)
        view.attach(second)
        second.feed(b"\r\n".join(f"second {n}".encode() for n in range(ROWS)))
        await _drawn(pilot, view, second)
        parsed = view.rows_parsed
        first.feed(b"\r\n\x1b[1mfirst new\x1b[0m")  # printed while not shown: one row scrolled in
        view.attach(first)
        await _drawn(pilot, view, first)
        # the new bottom row and the cursor's, not every row again
        assert view.rows_parsed - parsed <= 2, "the rows it still had were parsed again"
        with first.lock:
            assert [
                "".join(seg.text for seg in row).rstrip() for row in view._rows
            ] == first.screen.text_lines()
        _as_textual_draws(view)
