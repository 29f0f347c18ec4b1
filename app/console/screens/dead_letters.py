"""Dead letters in the console: the list (ctrl+l), requeue (r) and discard (d, confirmed first).

Both go through :func:`app.core.ledger.decide`, the rule ``crewmux msg requeue | discard`` use.
:class:`DeadLetterKeys`, a base of the main screen, opens the list and keeps the conversation's
message states live: a write to the ledger (``typing``, ``dead``, …) reads the team again.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, ClassVar, Literal

from textual import work
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from app.console.messages import Notice, TeamChanged
from app.console.screens.confirm import Confirm
from app.console.screens.operations import OperationsScreen
from app.console.widgets.watcher import TeamWatcher
from app.core.atomic import ensure_dir
from app.core.errors import CrewmuxError
from app.core.ledger import dead_letters, decide
from app.core.sanitize import for_display
from app.core.watch import DirWatcher

if TYPE_CHECKING:
    from textual.app import ComposeResult
    from textual.screen import Screen

    from app.console.ops import TeamContext
    from app.core.ledger import DeadLetter

LEDGER_FILE = "ledger.jsonl"


def letter_line(letter: DeadLetter) -> str:
    """One dead letter as a line: to whom, when, why, and its first words."""
    e = letter.event
    when = time.strftime("%H:%M:%S", time.localtime(e.at))
    text = for_display(letter.text, one_line=True)[:60] if letter.text else "(its text is no longer in the inbox)"
    return f"{e.id}  → {e.to}  {when}  {for_display(e.reason or 'no reason recorded', one_line=True)}  «{text}»"


def confirm_discard(letter: DeadLetter) -> Confirm:
    """The question before a dead letter is dropped for good."""
    return Confirm(
        f"Discard message {letter.event.id} to {letter.event.to}?",
        [
            "it is never typed or delivered again (marked read)",
            "the ledger keeps its history (crewmux msg status)",
        ],
        action="Discard",
    )


class DeadLetterScreen(ModalScreen[None]):
    """The team's dead letters, oldest first; r requeues the highlighted one, d discards it (asks first)."""

    DEFAULT_CSS = """
    DeadLetterScreen { align: center middle; }
    DeadLetterScreen > Vertical { width: 100; max-width: 100%; height: auto; max-height: 90%; background: $panel;
                                  border: thick $warning; padding: 0 1; }
    DeadLetterScreen #title { text-style: bold; }
    DeadLetterScreen OptionList { height: auto; max-height: 16; margin-top: 1; }
    DeadLetterScreen #hint { margin-top: 1; color: $text-muted; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "requeue", "Requeue"),
        Binding("d", "discard", "Discard…"),
        Binding("escape,q", "dismiss", "Close"),
    ]

    def __init__(self, ctx: TeamContext, report: Screen[None]) -> None:
        super().__init__()
        self.ctx = ctx
        self.report = report  # where outcomes go as notices (the main screen)
        self.letters: list[DeadLetter] = []

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Dead letters: messages crewmux gave up on", id="title")
            yield OptionList(id="letters")
            yield Label("r requeue (type it once more) · d discard… · esc close", id="hint")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="dead-letters", description="read dead letters")
    def load(self) -> None:
        try:
            letters = dead_letters(self.ctx.mailbox)
        except CrewmuxError as exc:
            self.report.post_message(Notice(f"dead letters: could not read them: {exc}", "warning"))
            letters = []
        self.app.call_from_thread(self._show, letters)

    def _show(self, letters: list[DeadLetter]) -> None:
        if not self.is_attached:
            return  # closed while the letters were read
        self.letters = letters
        options = self.query_one(OptionList)
        highlighted = options.highlighted
        options.clear_options()
        if not letters:
            options.add_option(Option("no dead letters", disabled=True))
            return
        options.add_options([Option(letter_line(x), id=x.event.id) for x in letters])
        options.highlighted = min(highlighted or 0, len(letters) - 1)

    def _current(self) -> DeadLetter | None:
        i = self.query_one(OptionList).highlighted
        return self.letters[i] if i is not None and 0 <= i < len(self.letters) else None

    def action_requeue(self) -> None:
        letter = self._current()
        if letter is not None:
            self._decide(letter, "requeued")

    def action_discard(self) -> None:
        letter = self._current()
        if letter is None:
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                self._decide(letter, "discarded")

        self.app.push_screen(confirm_discard(letter), confirmed)

    @work(thread=True, exit_on_error=False, group="dead-letter-decide", description="requeue or discard")
    def _decide(self, letter: DeadLetter, state: Literal["requeued", "discarded"]) -> None:
        e = letter.event
        try:
            decide(self.ctx.mailbox, e.id, state, by="console")
        except CrewmuxError as exc:
            self.report.post_message(Notice(f"{state.removesuffix('d')} {e.id}: refused: {exc}", "warning"))
        else:
            what = "requeued: it will be typed once more" if state == "requeued" else "discarded"
            self.report.post_message(Notice(f"message {e.id} to {e.to} {what}", key=f"letter:{e.id}"))
        self.app.call_from_thread(self.load)  # workers start on the UI thread


class DeadLetterKeys(OperationsScreen):
    """The main screen's base: ctrl+l opens the dead letters; a ledger write refreshes the conversation."""

    _ledger_watch: DirWatcher | None = None  # the ledger watch's waiter (woken to end it)
    _ledger_stopped = False

    def on_mount(self) -> None:
        self._follow_ledger(self.query_one(TeamWatcher))

    def on_unmount(self) -> None:
        self._ledger_stopped = True
        if self._ledger_watch is not None:
            self._ledger_watch.wake()  # it sleeps until the ledger changes

    def action_dead_letters(self) -> None:
        self.app.push_screen(DeadLetterScreen(self.ctx, self))

    @work(thread=True, exit_on_error=False, group="ledger-watch", description="watch the message ledger")
    def _follow_ledger(self, watcher: TeamWatcher) -> None:
        worker = get_current_worker()
        directory = self.ctx.paths.runtime_dir
        ensure_dir(directory)
        with DirWatcher(directory, {LEDGER_FILE}) as changes:
            self._ledger_watch = changes
            while not worker.is_cancelled and not self._ledger_stopped:
                if changes.wait(None) and not worker.is_cancelled:
                    watcher.post_message(TeamChanged("ledger"))
