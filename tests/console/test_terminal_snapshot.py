"""A snapshot of the terminal view drawing an in-process teammate's Ghostty screen: 16, 256 and
true colours, bold/italic/underline/reverse, wide chars, and empty cells skipped over after a
reverse run (drawn plain, not reversed), with the cursor where the program left it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.app import App, ComposeResult

from app.console.widgets.terminal import TerminalView
from backends.pty_host import PtyTerminal
from tests.console.console_helpers import until

if TYPE_CHECKING:
    import pytest

SHOW = (
    r"printf '\033[31mred \033[1;32mbold green\033[0m \033[3mitalic\033[0m \033[4munder\033[0m"
    r" \033[7mREV\033[0m\033[6Cskipped-over\n'; "
    r"printf '\033[38;5;202m256-colour\033[0m \033[48;2;20;120;200m true-colour bg \033[0m\n'; "
    r"printf '中文 wide | emoji 😀 | END|'; exec sleep 60"
)


class ViewApp(App[None]):
    def __init__(self, term: PtyTerminal) -> None:
        super().__init__()
        self.term = term

    def compose(self) -> ComposeResult:
        yield TerminalView(id="terminal")

    def on_mount(self) -> None:
        self.query_one(TerminalView).attach(self.term)


def _view_text(pilot: Any) -> str:
    view = pilot.app.query_one(TerminalView)
    return "\n".join("".join(seg.text for seg in row) for row in view._rows)


def test_terminal_view_draws_a_ghostty_screen(snap_compare: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CREWMUX_SCREEN", "ghostty")
    term = PtyTerminal(["sh", "-c", SHOW], cwd="/", env={"LANG": "C.UTF-8"}, cols=60, rows=8)

    async def ready(pilot: Any) -> None:
        await until(pilot, lambda: "END|" in _view_text(pilot), timeout=20)
        await pilot.pause()

    try:
        assert snap_compare(ViewApp(term), terminal_size=(64, 10), run_before=ready)
    finally:
        term.proc.kill()
        term.join()
