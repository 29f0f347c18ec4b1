"""An invisible widget that keeps the console's team alive: resume, liveness, message delivery.

When the console opens on a team, one thread worker first resumes it (:func:`resume_team`:
teammates whose panes live are re-attached, dead and in-process ones restarted with their
recorded argv, cwd and tasks — in-process ones into this console's own in-process backend, so
they show here) and says what it did; then it runs the :class:`LivenessMonitor`, so a teammate
that dies is marked dead as soon as the kernel reports its exit (no polling per teammate; see
:mod:`app.lifecycle.monitor`), its tasks released and the lead told. A second worker
types messages into teammates that cannot read their inbox (:class:`InboxDelivery`). Both stop
when the widget is unmounted (the console quits). Only the console that owns the team's seat
(:mod:`app.console.seat`) runs them; another one waits for the seat and takes over when it frees.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from textual import work
from textual.widget import Widget

from app.console.messages import Notice, SeatTaken
from app.console.widgets.watcher import tick_interval
from app.core.errors import CrewmuxError
from app.lifecycle.inbox_delivery import DeliveryEvent, InboxDelivery
from app.lifecycle.monitor import LivenessMonitor

if TYPE_CHECKING:
    from app.console.ops import TeamContext
    from app.core.exits import ExitWatch
    from app.lifecycle.resume import ResumeEntry


def describe_resume(entries: list[ResumeEntry]) -> list[tuple[str, str]]:
    """Notification lines (text, severity) for a resume: restarts and failures; re-attaches summed up."""
    lines: list[tuple[str, str]] = []
    attached = [e.name for e in entries if e.action == "attached"]
    if attached:
        lines.append((f"re-attached to {', '.join(attached)} (still running)", "information"))
    for e in entries:
        released = f"; released task(s) {', '.join(e.released)}" if e.released else ""
        if e.action == "restarted":
            said = f" — {e.conversation}" if e.conversation else ""
            lines.append((f"↻ restarted {e.name}: {e.detail}{said}", "information"))
        elif e.action == "failed":
            lines.append((f"could not restart {e.name}: {e.detail}{released}", "error"))
        elif e.action == "ended" and released:
            lines.append((f"{e.name} {e.detail}{released}", "information"))
    return lines


DUTIES = "the team's deliveries, restarts and liveness checks"


class TeamLife(Widget):
    """Runs the resume+liveness and delivery workers for ``ctx``; ``dead`` names who the monitor buried."""

    DEFAULT_CSS = "TeamLife { display: none; }"

    def __init__(self, ctx: TeamContext, *, interval: float = 2.0, resume: bool = True) -> None:
        super().__init__()
        self.ctx = ctx
        self.interval = interval
        self.resume = resume
        self.dead: set[str] = set()
        self.stop = threading.Event()
        self.resumed = threading.Event()
        self._target: Widget = self
        self._checking = threading.Lock()  # held while resuming or checking: quitting waits for it
        self._exit_watch: ExitWatch | None = None  # what the liveness worker sleeps on (woken to quit)
        self._delivery: InboxDelivery | None = None  # the deliverer (woken to quit)
        self._started = False

    def on_mount(self) -> None:
        self._target = self.screen  # workers post here; looked up once, not from their threads

    def start(self) -> None:
        """Start both workers (once): the screen calls it when the team's first picture is drawn,
        so resuming a large team does not hold up the first frame."""
        if self._started:
            return
        self._started = True
        self.watch_liveness()
        self.deliver_messages()

    def on_unmount(self) -> None:
        """Stop both workers; wait out a check under way, so quitting never races a release."""
        self.stop.set()
        self.resumed.set()  # the deliverer waiting for the resume looks at ``stop`` now
        watch, delivery = self._exit_watch, self._delivery
        if watch is not None:
            watch.wake()
        if delivery is not None:
            delivery.wake()  # its loop sleeps until a file changes
        with self._checking:
            pass

    def _notice(self, text: str, severity: str = "information", key: str | None = None) -> None:
        self._target.post_message(Notice(text, severity, key))

    @work(thread=True, exit_on_error=False, group="life", description="resume the team and watch liveness")
    def watch_liveness(self) -> None:
        ctx = self.ctx
        if not self._wait_for_seat():
            return
        if self.resume:
            self._resume()
        self.resumed.set()
        monitor = LivenessMonitor(ctx.teams, ctx.team)
        with monitor.exit_watch() as watch:
            self._exit_watch = watch
            if self.stop.is_set():
                return
            while not self.stop.is_set():
                found = []
                with self._checking:
                    if self.stop.is_set():
                        return
                    try:
                        found = monitor.check_once()
                    except CrewmuxError as exc:
                        self._notice(f"liveness check failed: {exc}", "warning", key="liveness")
                for d in found:
                    self.dead.add(d.name)
                    released = f"; released task(s) {', '.join(d.released)}" if d.released else ""
                    self._notice(f"✖ {d.name} is dead ({d.reason}){released}", "error", key=f"dead:{d.name}")
                # woken by a death, a team-file change or a due heartbeat/budget; where the system
                # cannot tell deaths, every tick (a large team: less often)
                monitor.wait(watch, tick_interval(self.interval, monitor.members), self.stop)

    def _wait_for_seat(self) -> bool:
        """Own the team's seat before doing any of its duties; a viewer says so, then retries each tick.

        ``False`` when the console quits first. See :mod:`app.console.seat`.
        """
        if self.ctx.seat.try_take():
            return True
        self._notice(f"another console owns {DUTIES}: this one watches, and takes over when that one quits", key="seat")
        while not self.stop.wait(self.interval):
            if self.ctx.seat.try_take():
                self._notice(f"this console now owns {DUTIES}", key="seat")
                self._target.post_message(SeatTaken())
                return True
        return False

    def _resume(self, *, asked: bool = False) -> None:
        """Resume the team (under the check lock, so the monitor never sees a half-restarted member)."""
        ctx = self.ctx
        if not ctx.seat.owner:
            self._notice(f"this console is a viewer: the console that owns {DUTIES} restarts teammates", key="resume")
            return
        with self._checking:
            if self.stop.is_set():
                return
            try:
                entries = ctx.teammates.resume()  # in-process teammates restart into this console
            except CrewmuxError as exc:
                self._notice(f"resuming the team failed: {exc}", "error")
                return
        lines = describe_resume(entries)
        for text, severity in lines:
            self._notice(text, severity)
        if asked and not lines:
            self._notice("resume: no teammate to re-attach or restart", key="resume")
        for e in entries:
            if e.action == "restarted":
                self.dead.discard(e.name)

    @work(thread=True, exit_on_error=False, group="life-resume", description="resume the team")
    def resume_now(self) -> None:
        """Restart dead teammates now (the f9 key), as on opening the console."""
        self._resume(asked=True)

    @work(thread=True, exit_on_error=False, group="deliver", description="deliver messages to typed agents")
    def deliver_messages(self) -> None:
        self.resumed.wait()  # restarted panes first, so messages go to the live ones (set to quit too)
        if self.stop.is_set():
            return
        self._delivery = InboxDelivery(self.ctx.mailbox, self.ctx.backend_for)
        if not self.stop.is_set():  # quitting meanwhile: on_unmount may have missed the new deliverer
            self._delivery.run(self.stop, self._delivered)

    def _delivered(self, event: DeliveryEvent) -> None:
        if event.crash:  # the deliverer's own fault: told with its traceback's last line; it restarts
            who = f" for {event.name}" if event.name else ""
            self._notice(f"⚠ message delivery{who}: {event.error}", "error", key=f"deliverer:{event.name}")
        elif event.error is not None:
            self._notice(f"message to {event.name} not delivered: {event.error}", "error", key=f"deliver:{event.name}")
        else:
            self._notice(f"✉ typed a message into {event.name}", key=f"typed:{event.name}")
