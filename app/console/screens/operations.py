"""The base of the main screen: team operations run in thread workers, outcomes told as notices."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.worker import Worker, WorkerState

from app.console import ops
from app.console.messages import Notice
from app.console.screens.paint_now import PaintNowScreen
from app.console.widgets.terminal import TerminalView
from app.core.errors import CrewmuxError

if TYPE_CHECKING:
    from app.console.ops import TeamContext


class OperationsScreen(PaintNowScreen):
    """``run_op(what, fn, *args)``: ``fn`` runs off the UI thread; a refusal comes back as a notice."""

    ctx: TeamContext

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """While a teammate's screen has focus, every key is its program's (ctrl+] leaves it): the
        screen's priority keys (tab, shift+tab, shift+arrows, ctrl+t) go to the program."""
        return not (isinstance(self.focused, TerminalView) and action in TerminalView.PROGRAM_KEYS_ACTIONS)

    @on(TerminalView.Resized)
    def _view_resized(self, event: TerminalView.Resized) -> None:
        """The view and every in-process teammate's terminal are always the same size."""
        event.stop()
        ops.fit_terminals(self.ctx, event.cols, event.rows)

    def run_op(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> None:
        """Run a blocking operation in a thread worker; its outcome comes back as a Notice."""
        self._run_op(what, fn, args, kwargs)

    def operation_done(self) -> None:
        """Called (from the worker's thread) after an operation succeeded: read the team again."""

    @work(thread=True, exit_on_error=False, group="ops", description="a team operation")
    def _run_op(self, what: str, fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        try:
            result = fn(*args, **kwargs)
        except CrewmuxError as exc:
            self.post_message(Notice(f"{what}: refused: {exc}", "warning"))
            return
        if what.startswith("shut down"):
            self.post_message(Notice(f"⏻ {what}: {result}", key=f"shutdown:{what.removeprefix('shut down ')}"))
        elif what.startswith("spawn"):
            self.post_message(Notice(f"{what}: started"))
        self.operation_done()

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            error = event.worker.error
            self.post_message(Notice(f"{event.worker.description}: {type(error).__name__}: {error}", "error"))
