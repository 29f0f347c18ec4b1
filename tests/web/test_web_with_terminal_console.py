"""The terminal console and a browser tab on one team: the terminal one owns, the tab watches."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from app.console.app import make_app
from app.console.themes import ConsoleSettings
from app.core.paths import LEAD_NAME
from tests.console.console_helpers import noticed, notices, until
from tests.web.conftest import CHROMIUM, CHROMIUM_ARGS, BrowserTerminal, start_web, stop_web


async def test_a_tab_watches_while_the_terminal_console_owns(home: Path, team: str, artifacts: Path) -> None:
    if not os.path.exists(CHROMIUM):
        pytest.skip("chromium is not installed (apt-get install chromium; .ci/run does it)")
    from playwright.async_api import async_playwright

    app = make_app(home, team, settings=ConsoleSettings(), tick=0.3, remember=False)  # life on: it owns
    async with app.run_test(size=(140, 44)) as pilot:
        await until(pilot, lambda: app.ctx.seat.owner)
        server = await asyncio.to_thread(start_web, home, team)
        try:
            async with async_playwright() as pw:
                chromium = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = await chromium.new_page(viewport={"width": 1280, "height": 800})
                tab = BrowserTerminal(page)
                await page.goto(server.url)
                await until(pilot, lambda: "another console owns" in tab.text(), timeout=30)

                app.ctx.mailbox.send(LEAD_NAME, "tests pass on main", sender="bob")
                await until(pilot, noticed(pilot, "tests pass on main"))  # the terminal console
                await until(pilot, lambda: "tests pass on main" in tab.text())  # and the tab
                await page.screenshot(path=str(artifacts / "tab-beside-terminal.png"))
                history = [m for m, _ in app.ctx.mailbox.history(LEAD_NAME) if m.text == "tests pass on main"]
                assert len(history) == 1 and not app.ctx.mailbox.inbox(LEAD_NAME, unread_only=True)
                assert sum("tests pass on main" in line for line in notices(pilot)) == 1
                await chromium.close()
        finally:
            assert await asyncio.to_thread(stop_web, server) == 0
