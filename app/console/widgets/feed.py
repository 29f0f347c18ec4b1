"""Notifications (idle coalesced to one line per teammate) and the conversation with a teammate.

Every line is shown through :func:`app.core.sanitize.for_display` (one line each): a teammate's
text never reaches the lead's terminal as an escape sequence, and it is drawn as plain
:class:`rich.text.Text`, never read as markup.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from app.console.readable import readable
from app.console.receipts import receipt_label
from app.core.sanitize import for_display

if TYPE_CHECKING:
    from rich.console import RenderableType

MAX_NOTICES = 200

SEVERITY_STYLE = {"information": "", "warning": "bold", "error": "bold reverse"}


class NotificationLog(Widget):
    """Newest last. A notice with a ``key`` replaces the older one with that key (coalescing)."""

    DEFAULT_CSS = """
    NotificationLog { height: 1fr; background: $surface; border: round $secondary; padding: 0 1; }
    """

    version: reactive[int] = reactive(0)

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self._lines: OrderedDict[str, tuple[str, str]] = OrderedDict()
        self._n = 0

    def on_mount(self) -> None:
        self.border_title = "Notifications"

    def add(self, text: str, *, severity: str = "information", key: str | None = None) -> None:
        """Add a line; with ``key``, replace (and move to the end) the line of that key."""
        self._n += 1
        k = key or f"#{self._n}"
        self._lines.pop(k, None)
        self._lines[k] = (for_display(text, one_line=True), severity)
        while len(self._lines) > MAX_NOTICES:
            self._lines.popitem(last=False)
        self.version += 1

    def discard(self, key: str) -> None:
        if self._lines.pop(key, None) is not None:
            self.version += 1

    @property
    def lines(self) -> list[str]:
        return [text for text, _ in self._lines.values()]

    def render(self) -> RenderableType:
        height = max(1, self.size.height)
        shown = list(self._lines.values())[-height:]
        out = Text()
        for i, (text, severity) in enumerate(shown):
            if i:
                out.append("\n")
            out.append(text, style=SEVERITY_STYLE.get(severity, ""))
        rows = out.wrap(self.app.console, max(1, self.size.width))  # long lines wrap: keep the newest rows
        return Text("\n").join(rows[-height:]) if len(rows) > height else out


class Conversation(Widget):
    """The lead's messages with ``peer``: ``(direction, text, receipt)`` rows, protocol in plain words.

    ``peer_reads_inbox`` is False for a teammate running a plain command (nothing reads its inbox).
    """

    DEFAULT_CSS = """
    Conversation { height: 8; max-height: 30%; min-height: 3; background: $surface; border: round $secondary;
                   padding: 0 1; }
    """

    entries: reactive[list[tuple[str, str, str]]] = reactive(list, always_update=True)
    peer: reactive[str] = reactive("")
    peer_reads_inbox: reactive[bool] = reactive(True)

    def on_mount(self) -> None:
        self.border_title = "Conversation"

    def render(self) -> RenderableType:
        height = max(1, self.size.height)
        out = Text()
        for i, (direction, text, receipt) in enumerate(self.entries[-height:]):
            if i:
                out.append("\n")
            sent = direction == "sent"
            out.append("→ " if sent else "← ", style="bold")
            words = readable("you", text, to=self.peer) if sent else readable(self.peer, text, to="you")
            shown = for_display(words if words is not None else text, one_line=True)
            out.append(shown, style="italic" if words else "")
            if receipt:
                words, style = receipt_label(receipt, reads_inbox=self.peer_reads_inbox)
                out.append(f"  [{for_display(words, one_line=True)}]", style=style)
        if not self.entries:
            out.append("no messages yet", style="dim")
        rows = out.wrap(self.app.console, max(1, self.size.width))  # long lines wrap: keep the newest rows
        return Text("\n").join(rows[-height:]) if len(rows) > height else out
