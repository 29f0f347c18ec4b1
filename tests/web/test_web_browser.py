"""``crewmux web`` in a real browser: the console shows, keys drive it, tabs share one owner."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.core.locks import try_hold
from app.core.mailbox import Mailbox
from app.core.paths import LEAD_NAME
from app.core.tasks import TaskStore
from app.core.team import TeamStore
from tests.web.conftest import BrowserTerminal, WebServer

VIEWPORT = {"width": 1280, "height": 800}


def seat_taken(seat: Path) -> bool:
    """Whether some console holds the team's seat (taken and given back at once when free)."""
    held = try_hold(seat)
    if held is None:
        return True
    held.release()
    return False


def open_console(browser: Any, web: WebServer) -> BrowserTerminal:
    page = browser.new_page(viewport=VIEWPORT)
    term = BrowserTerminal(page)
    response = page.goto(web.url)
    assert response is not None and response.status == 200
    term.wait_for("message to team-lead", timeout=20)
    page.focus(".xterm-helper-textarea")
    return term


WS_OPENS = """url => new Promise(done => {
    const ws = new WebSocket(url);
    ws.onopen = () => { ws.close(); done("open"); };
    ws.onerror = () => done("refused");
})"""


def test_the_browser_gets_nothing_without_the_token(browser: Any, web: WebServer, team: str) -> None:
    page = browser.new_page()
    response = page.goto(web.origin + "/")
    assert response is not None and response.status == 403
    assert team not in page.title() and "403" in page.content()
    ws_origin = web.origin.replace("http://", "ws://")
    assert page.evaluate(WS_OPENS, ws_origin + "/ws?width=80&height=24") == "refused"
    assert page.evaluate("url => fetch(url).then(r => r.status)", web.origin + "/static/js/textual.js") == 403
    assert web.consoles() == []
    page.close()


def test_the_console_shows_and_browser_keys_drive_it(
    browser: Any, web: WebServer, home: Path, team: str, tasks: TaskStore, artifacts: Path
) -> None:
    tasks.create("paint the fence")
    term = open_console(browser, web)
    page = term.page
    term.wait_for("alice")  # the team list, read from the team's files
    page.screenshot(path=str(artifacts / "console.png"))
    assert "paint the fence" not in term.text()  # the task panel starts hidden

    page.keyboard.press("Shift+ArrowDown")  # select the next teammate
    term.wait_for("message to alice")
    page.keyboard.type("hello from the browser")  # into the composer, to the selected teammate
    page.keyboard.press("Enter")
    mailbox = Mailbox(TeamStore(home), team)
    term.wait_until(
        lambda: any(m.sender == LEAD_NAME and m.text == "hello from the browser" for m in mailbox.inbox("alice")),
        "the message typed in the browser reaches alice's inbox",
    )

    page.keyboard.press("Control+t")  # show the task panel
    term.wait_for("paint the fence")
    page.screenshot(path=str(artifacts / "tasks.png"))
    assert (artifacts / "console.png").stat().st_size > 10_000
    page.close()


def test_tabs_share_the_team_with_one_owner(
    browser: Any, web: WebServer, home: Path, team: str, artifacts: Path
) -> None:
    teams = TeamStore(home)
    seat = teams.paths(team).console_seat
    first = open_console(browser, web)
    first.wait_until(lambda: seat_taken(seat), "the first tab's console owns the team's seat")
    second = open_console(browser, web)
    second.wait_for("another console owns")

    mailbox = Mailbox(teams, team)
    mailbox.send(LEAD_NAME, "the build is green", sender="alice")
    first.wait_for("the build is green")
    second.wait_for("the build is green")  # the viewer shows it too, without consuming it
    second.page.screenshot(path=str(artifacts / "viewer.png"))
    first.wait_until(lambda: not mailbox.inbox(LEAD_NAME, unread_only=True), "the owner read the lead's inbox")
    said = [m for m, _ in mailbox.history(LEAD_NAME) if m.text == "the build is green"]
    assert len(said) == 1  # one message, consumed once

    first.page.close()  # the owner's console quits: the viewer takes the duties over
    second.wait_for("this console now owns", timeout=20)
    second.page.close()
