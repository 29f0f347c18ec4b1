"""A teammate's escape sequences and markup never reach the lead's terminal through the console."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.console.widgets.feed import Conversation, NotificationLog
from app.console.widgets.tasks import TaskPanel
from app.console.widgets.teammates import TeammateList
from app.core.mailbox import Mailbox
from app.core.paths import LEAD_NAME
from tests.console.console_helpers import main_screen, until

if TYPE_CHECKING:
    from collections.abc import Callable

    from app.console.app import CrewmuxApp
    from app.core.tasks import TaskStore
    from app.core.team import TeamStore

OSC52 = "\x1b]52;c;cm0gLXJmIH4K\x07"
TITLE = "\x1b]0;pwned-title\x1b\\"
HOSTILE_NAME = f"mallory{OSC52}"


def _drawn(pilot: Any) -> str:
    """Every line the console's widgets draw right now, as the terminal would get their text."""
    screen = main_screen(pilot)
    out = []
    for cls in (TeammateList, NotificationLog, Conversation, TaskPanel):
        widget = screen.query_one(cls)
        for y in range(widget.size.height):
            out.append("".join(seg.text for seg in widget.render_line(y)))
    return "\n".join(out)


async def test_hostile_names_messages_and_subjects_are_drawn_harmless(
    console_factory: Callable[..., CrewmuxApp], teams: TeamStore, team: str, tasks: TaskStore
) -> None:
    def plant(tf: Any) -> None:  # a hand-edited team file: the name check is bypassed
        tf.members[1].name = HOSTILE_NAME
        tf.members[1].agent_type = f"[link=http://evil.example]kind[/link]{TITLE}"

    teams.update(team, plant)
    task = tasks.create(f"fix it{TITLE}[reverse]loud[/reverse]")
    tasks.claim(task.id, HOSTILE_NAME)
    Mailbox(teams, team).send(LEAD_NAME, f"done{OSC52}{TITLE}\x07 really", sender="bob")
    app = console_factory(team)
    async with app.run_test(size=(200, 50)) as pilot:  # wide: the team list keeps its kind column
        await until(pilot, lambda: main_screen(pilot).snapshot is not None)
        await pilot.press("ctrl+t")
        await until(pilot, lambda: main_screen(pilot).query_one(TaskPanel).row_count == 1)
        main_screen(pilot).query_one(NotificationLog).add(f"from {HOSTILE_NAME}: {OSC52}hi\n{TITLE}")
        await pilot.pause()
        drawn = _drawn(pilot)
    assert "\x1b" not in drawn and "\x07" not in drawn.replace("␇", "")
    assert "cm0gLXJmIH4K" not in drawn and "pwned-title" not in drawn
    assert "mallory" in drawn and "fix it" in drawn
    assert "[link=http://evil.example]kind" in drawn  # shown as text, never read as markup
    assert "[reverse]loud[/reverse]" in drawn
