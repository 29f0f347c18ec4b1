"""A bare Textual app (one ``Static``): the idle floor the console's own idle figure is read against.

``python -m bench.bare_app`` shows ``team-lead`` (what :class:`bench.console_live.LiveConsole`
waits for as a first frame) and does nothing else until it is killed.
"""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import Static


class BareApp(App[None]):
    def compose(self) -> ComposeResult:
        yield Static("team-lead")


if __name__ == "__main__":
    BareApp().run()
