"""The key bar rebuilds once for binding updates that come together (the console's start sent five,
each a full rebuild of every key), and still shows the keys of whatever has the focus."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.app import App
from textual.binding import Binding, BindingType
from textual.widgets import Input

from app.console.widgets.footer import Footer
from tests.console.console_helpers import until

if TYPE_CHECKING:
    from textual.app import ComposeResult


class Keyed(Input):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("f5", "noop", "Five")]


class Bar(App[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("f2", "noop", "Two")]

    def __init__(self) -> None:
        super().__init__()
        self.rebuilds = 0

    def compose(self) -> ComposeResult:
        yield Input(id="plain")
        yield Keyed(id="keyed")
        yield Footer()

    def action_noop(self) -> None:
        pass


def shown(app: Bar) -> list[str]:
    return sorted(str(getattr(key, "key", "")) for key in app.screen.query("FooterKey"))


async def test_binding_updates_that_come_together_rebuild_the_key_bar_once() -> None:
    app = Bar()
    async with app.run_test(size=(100, 10)) as pilot:
        await until(pilot, lambda: "f2" in shown(app))
        footer = app.screen.query_one(Footer)
        real = footer.recompose

        async def counted() -> None:
            app.rebuilds += 1
            await real()

        footer.recompose = counted  # type: ignore[method-assign]
        for _ in range(5):  # as a focus change, a pushed screen and mounted widgets send them
            app.screen.bindings_updated_signal.publish(app.screen)
        await pilot.pause()
        await pilot.pause()
        assert app.rebuilds == 1

        app.set_focus(app.query_one("#keyed"))  # the keys follow the focus
        await until(pilot, lambda: "f5" in shown(app))
        app.set_focus(app.query_one("#plain"))
        await until(pilot, lambda: "f5" not in shown(app))
        assert "f2" in shown(app)
