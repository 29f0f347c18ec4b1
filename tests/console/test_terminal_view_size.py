"""The terminal view and the teammate's terminal are the same size; a mirror shows the bottom."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.app import App, ComposeResult

from app.console.widgets.terminal import TerminalView
from backends.base import PaneSpec
from backends.inprocess import InProcessBackend

WINCH_LOOP = (
    "trap 'echo WINCH $(stty size)' WINCH; echo start C=${COLUMNS-unset} L=${LINES-unset}; "
    "while :; do sleep 0.05; done"
)


class ViewApp(App[None]):
    def compose(self) -> ComposeResult:
        yield TerminalView(id="terminal")


def _text(view: TerminalView) -> list[str]:
    return [view.render_line(y).text.rstrip() for y in range(view.size.height)]


@pytest.mark.asyncio
async def test_a_taller_mirrored_screen_shows_its_bottom() -> None:
    # a tmux pane of 110 rows after `seq 1 100; echo MARKER`, the prompt below, blank rows after it
    pane = [str(i) for i in range(1, 101)] + ["MARKER", "$ "] + [""] * 8
    async with ViewApp().run_test(size=(80, 24)) as pilot:
        view = pilot.app.query_one(TerminalView)
        view.show_screen(pane)
        await pilot.pause()
        shown = _text(view)
        assert "MARKER" in shown and "$" in shown and "100" in shown, shown
        assert shown[0] == str(103 - view.size.height)  # 102 rows with text: the last `height` of them
        view.show_screen(["short", "screen"])  # a screen that fits stays at the top
        await pilot.pause()
        assert _text(view)[:2] == ["short", "screen"]


@pytest.mark.asyncio
async def test_an_attached_teammate_takes_the_view_size_and_env_is_not_frozen(tmp_path: Path) -> None:
    backend = InProcessBackend()
    spec = PaneSpec(team="t", name="w", argv=["bash", "-c", WINCH_LOOP], cwd=str(tmp_path), cols=120, rows=36)
    handle = backend.spawn(spec)
    term = backend.terminal(handle)
    try:
        assert term.wait_for(lambda s: any("start" in line for line in s.display), 20), term.screen.display
        assert any("C=unset L=unset" in line for line in term.screen.display), term.screen.display
        async with ViewApp().run_test(size=(80, 24)) as pilot:
            view = pilot.app.query_one(TerminalView)
            view.attach(term)
            cols, rows = view.size.width, view.size.height
            assert (term.screen.columns, term.screen.lines) == (cols, rows)
            assert term.wait_for(lambda s: any(f"WINCH {rows} {cols}" in line for line in s.display), 20)
    finally:
        backend.kill(handle, grace=0.5)


def test_resize_all_resizes_every_teammate(tmp_path: Path) -> None:
    backend = InProcessBackend()
    handles = [
        backend.spawn(PaneSpec(team="t", name=n, argv=["bash", "-c", WINCH_LOOP], cwd=str(tmp_path), cols=50, rows=12))
        for n in ("a", "b")
    ]
    terms = [backend.terminal(h) for h in handles]
    try:
        for term in terms:
            assert term.wait_for(lambda s: any("start" in line for line in s.display), 20)
        backend.resize_all(70, 20)
        for term in terms:
            assert term.wait_for(lambda s: any("WINCH 20 70" in line for line in s.display), 20), term.screen.display
    finally:
        for h in handles:
            backend.kill(h, grace=0.5)
