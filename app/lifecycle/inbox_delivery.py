"""Keep typing messages into teammates that cannot read their inbox (what the console runs).

For every active teammate whose agent kind has screen rules with ``reads_inbox: false`` (codex,
gemini, aider, shell) and that has unread messages, :class:`InboxDelivery` runs ONE worker thread
for that teammate, so deliveries to different teammates never wait on each other. A worker holds
the teammate's deliverer lock (:func:`deliverer_lock`; ``crewmux deliver`` takes the same one, so
two deliverers never both type) and hands over to :func:`app.agents.delivery.deliver_unread`. A
busy agent is waited for as long as it stays busy (it is not a failure); a failed delivery is
reported and that teammate is left alone for ``backoff`` seconds, so one stuck agent does not
flood the lead; a message that failed after its text was pasted is never typed again by this
loop: it may have been taken in part already, so retyping it waits for a decision
(``crewmux msg requeue`` / the console's dead letters). Supervised: an unexpected exception in a
worker or in the loop is told (its traceback's last line, as a ``crash`` event) and that part runs
again after a backoff (``restart`` s, doubling up to ``backoff``); a message it was typing is made
a dead letter, never typed twice.
"""

from __future__ import annotations

import contextlib
import threading
import time
import traceback
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from app.agents.adapters import load_rules
from app.agents.agent_state import StateSource
from app.agents.delivery import AgentBusy, DeliveryFailed, deliver_unread, look, report_failure
from app.agents.mcp_wiring import wired
from app.agents.wake import Waker
from app.core.errors import BadInput, CrewmuxError, LockTimeout
from app.core.ledger import Ledger
from app.core.liveness import is_alive
from app.core.locks import file_lock
from app.core.mcp_ready import listed_since, wait_listed
from app.core.paths import LEAD_NAME, sanitize

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from app.agents.adapters import AgentRules
    from app.core.mailbox import Mailbox
    from app.core.models import InboxMessage, Member
    from app.core.paths import TeamPaths
    from backends.base import PaneBackend, PaneHandle, ScreenText


def _epoch(timestamp: str) -> float:
    try:
        return datetime.fromisoformat(timestamp).timestamp()
    except ValueError:
        return time.time()


@dataclass(frozen=True)
class DeliveryEvent:
    """One outcome: a message typed into ``name`` (``msg_id``), or a failure (``error``).

    ``crash``: the error is a fault of the deliverer itself (an unexpected exception, told with
    its last traceback line); it restarts after a backoff. ``name`` is "" for the loop over all.
    """

    name: str
    msg_id: str | None = None
    error: str | None = None
    crash: bool = False


def _json(name: str) -> bool:
    return name.endswith(".json")


def crash_line(exc: BaseException) -> str:
    """The traceback's last line and where it was raised: ``RuntimeError: boom (at file.py:12 in f)``."""
    last = traceback.format_exception_only(type(exc), exc)[-1].strip()
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" (at {Path(frames[-1].filename).name}:{frames[-1].lineno} in {frames[-1].name})" if frames else ""
    return f"{last}{where}"


def typed_rules(member: Member) -> AgentRules | None:
    """The screen rules of ``member``'s agent when crewmux must type its messages, else None."""
    rt = member.crewmux
    kind = (rt.agent_kind if rt else None) or member.agent_type
    if not kind or kind in ("worker", "command"):
        return None
    try:
        rules = load_rules(kind)
    except BadInput:
        return None
    return None if rules.reads_inbox else rules


def pane_handle(member: Member) -> PaneHandle | None:
    """The live pane handle recorded for ``member``, or None (no pane, or its process is gone)."""
    from backends.base import PaneHandle

    rt = member.crewmux
    if rt is None or not member.backend_type or not member.tmux_pane_id or member.is_active is False:
        return None
    if not rt.pid or not is_alive(rt.pid, rt.pid_create_time):
        return None
    return PaneHandle.for_member(member)


@contextlib.contextmanager
def deliverer_lock(paths: TeamPaths, name: str, *, wait: float = 0.0) -> Iterator[None]:
    """Be the only process typing into ``name``'s pane; LockTimeout when another deliverer is."""
    with file_lock(paths.runtime_dir / f"deliver-{sanitize(name)}", timeout=wait):
        yield


class InboxDelivery:
    """Delivers unread messages to typed-into teammates of ``mailbox``'s team, one worker per teammate."""

    def __init__(
        self,
        mailbox: Mailbox,
        backend_for: Callable[[str], PaneBackend],
        *,
        timeout: float = 10.0,
        recheck: float = 0.5,
        backoff: float = 30.0,
        deadline: float = 1800.0,
        restart: float = 1.0,
    ) -> None:
        self.mailbox = mailbox
        self.backend_for = backend_for
        self.timeout = timeout
        self.recheck = recheck
        self.backoff = backoff
        self.deadline = deadline
        self.restart = restart  # first wait before a crashed deliverer runs again; doubles up to ``backoff``
        self._failed_at: dict[str, float] = {}
        self._workers: dict[str, threading.Thread] = {}
        self._waker: Waker | None = None
        self.timed = False
        """Whether the last turn saw something only time brings (a live typed-into pane, a backoff)."""
        self._mcp_ready: set[tuple[str, float]] = set()  # (name, process start) whose MCP start-up is over
        self.ledger = Ledger(mailbox.paths)
        self.states = StateSource(mailbox.paths)  # the agent's own report first, its screen as the fallback

    def _targets(self) -> list[str]:
        """Names of typed-into teammates with a live pane and unread messages (and no recent failure).

        Sets :attr:`timed`: whether the loop must look again by itself (see :meth:`run`)."""
        found = []
        self.timed = False
        for m in self.mailbox.teams.load(self.mailbox.team).members:
            if m.name == LEAD_NAME or typed_rules(m) is None:
                continue
            if time.monotonic() - self._failed_at.get(m.name, -1e9) < self.backoff:
                self.timed = True  # its backoff ends with no file written
                continue
            if pane_handle(m) is None or (m.crewmux is not None and m.crewmux.paused):
                continue  # a paused (over-budget) teammate gets nothing typed into it
            self.timed = True  # a live typed-into pane: its screen is watched (permission questions)
            with contextlib.suppress(CrewmuxError):
                if self._typable(m.name):
                    found.append(m.name)
        return found

    def _typable(self, name: str) -> list[InboxMessage]:
        """Unread messages of ``name`` a deliverer may type (the ledger says none was typed yet)."""
        blocked = self.ledger.not_typable(name)
        return [u for u in self.mailbox.inbox(name, unread_only=True) if u.msg_id is None or u.msg_id not in blocked]

    def _give_up_old(self, name: str, state: str) -> None:
        """Messages waiting longer than ``deadline`` for a busy agent become dead letters (told to the lead)."""
        now = time.time()
        for m in self._typable(name):
            age = now - _epoch(m.timestamp)
            if m.msg_id and age > self.deadline:
                reason = f"not delivered within {self.deadline:.0f}s: {name} never waited for input (last: {state})"
                self.ledger.record(m.msg_id, name, "dead", reason=reason, via="typed")
                report_failure(self.mailbox, name, DeliveryFailed(reason))

    def _attempt(self, name: str, on_event: Callable[[DeliveryEvent], None], stop: threading.Event | None) -> str:
        """One delivery round for ``name``: "done" (nothing left), "busy", "failed" or "gone".

        Without ``stop`` (a synchronous pass) a teammate not waiting for input right now is "busy"
        at once; with it, the round waits up to ``timeout`` for it to wait for input.
        """
        member = self.mailbox.teams.load(self.mailbox.team).member(name)
        rules = typed_rules(member) if member else None
        handle = pane_handle(member) if member else None
        if member is None or rules is None or handle is None:
            return "gone"
        if not self._typable(name):
            return "done"
        if rules.mcp_start > 0 and not self._mcp_started(member, rules.mcp_start, stop):
            return "busy"  # its MCP servers are still loading (gemini would queue the message)
        backend = self.backend_for(member.backend_type or "in-process")
        started = member.crewmux.pid_create_time if member.crewmux else None

        def judge(shot: ScreenText) -> str:
            return self.states.judge(name, rules, shot, started_at=started).state

        if stop is None and judge(look(backend, handle)) != "waiting":
            return "busy"
        try:
            deliver_unread(
                self.mailbox, name, backend, handle, rules, timeout=self.timeout,
                stop=stop.is_set if stop is not None else None, judge=judge,
                on_delivered=lambda d: on_event(DeliveryEvent(name, msg_id=d.msg_id)),
            )  # fmt: skip
        except AgentBusy as exc:
            self._give_up_old(name, exc.state)
            return "busy"  # still busy (or something typed there): keep waiting, it is not a failure
        except DeliveryFailed as exc:
            self._failed_at[name] = time.monotonic()
            on_event(DeliveryEvent(name, error=str(exc)))
            return "failed"
        return "done"

    def _mcp_started(self, member: Member, limit: float, stop: threading.Event | None) -> bool:
        """True once ``member``'s CLI listed crewmux's MCP tools since its process started, or
        ``limit`` s after that start (then it is typed into anyway). Waits, woken by the listing,
        when ``stop`` is given. See :mod:`app.core.mcp_ready`."""
        rt = member.crewmux
        started = rt.pid_create_time if rt is not None else None
        if rt is None or not started or not wired(rt.argv) or (member.name, started) in self._mcp_ready:
            return True  # no crewmux MCP server to wait for (a fake agent, a member joined by hand)
        paths = self.mailbox.paths
        left = started + limit - time.time()
        ready = listed_since(paths, member.name, started) or left <= 0
        if not ready and stop is not None:
            ready = wait_listed(paths, member.name, started, left, stop.is_set) or time.time() >= started + limit
        if ready:
            self._mcp_ready.add((member.name, started))
        return ready

    def _serve(self, name: str, stop: threading.Event, on_event: Callable[[DeliveryEvent], None]) -> None:
        """Deliver ``name``'s unread messages until none is left, the pane is gone, or it fails.

        Supervised: any other exception is told (:func:`crash_line`) and the round runs again after
        ``restart`` s, doubling up to ``backoff``, still holding the lock. A message it was typing
        then becomes a dead letter (its ``typing`` event already keeps it from being typed twice).
        """
        crashes = 0
        try:
            with deliverer_lock(self.mailbox.paths, name):
                while not stop.is_set():
                    try:
                        while not stop.is_set() and self._attempt(name, on_event, stop) == "busy":
                            crashes = 0
                        return
                    except CrewmuxError:
                        raise
                    except Exception as exc:  # a fault of ours: tell it, keep the teammate served
                        crashes += 1
                        delay = min(self.backoff, self.restart * 2 ** (crashes - 1))
                        self._crashed(name, exc, delay, on_event)
                        stop.wait(delay)
        except LockTimeout:
            return  # another deliverer (``crewmux deliver --follow``) types into this teammate
        except CrewmuxError as exc:  # the pane or the team went away meanwhile
            on_event(DeliveryEvent(name, error=str(exc)))

    def _crashed(self, name: str, exc: Exception, delay: float, on_event: Callable[[DeliveryEvent], None]) -> None:
        """Tell a deliverer's crash; a message left ``typing`` becomes a dead letter (requeue or discard it)."""
        line = crash_line(exc)
        with contextlib.suppress(Exception):  # the ledger itself may be what failed
            for msg_id, e in self.ledger.last().items():
                if e.to == name and e.state == "typing":
                    reason = f"the deliverer failed while typing it ({line}); the text may be left in its input line"
                    self.ledger.record(msg_id, name, "dead", reason=reason, via="typed")
        on_event(DeliveryEvent(name, error=f"deliverer failed: {line}; restarting in {delay:g} s", crash=True))

    def deliver_once(self) -> tuple[list[DeliveryEvent], bool]:
        """One synchronous pass over every target (no threads). Returns (events, messages still pending)."""
        events: list[DeliveryEvent] = []
        pending = False
        for name in self._targets():
            try:
                with deliverer_lock(self.mailbox.paths, name):
                    pending |= self._attempt(name, events.append, None) == "busy"
            except LockTimeout:
                pending = True
            except CrewmuxError as exc:
                events.append(DeliveryEvent(name, error=str(exc)))
        return events, pending

    def _ensure_worker(self, name: str, stop: threading.Event, on_event: Callable[[DeliveryEvent], None]) -> bool:
        """Start ``name``'s worker unless one runs; True when one is running afterwards."""
        worker = self._workers.get(name)
        if worker is not None and worker.is_alive():
            return True
        worker = threading.Thread(target=self._serve, args=(name, stop, on_event), name=f"deliver-{name}", daemon=True)
        self._workers[name] = worker
        worker.start()
        return True

    def wake(self) -> None:
        """Make the loop of :meth:`run` turn now (any thread): after setting its ``stop``, say."""
        waker = self._waker
        if waker is not None:
            waker.poke()

    def run(self, stop: threading.Event, on_event: Callable[[DeliveryEvent], None], *, idle: float = 1.0) -> None:
        """Deliver until ``stop`` is set (then call :meth:`wake`): woken by writes to the inboxes, the
        agents' reports and the team file (a new pane); every ``idle`` s too while a typed-into pane
        lives (its screen is watched for questions, a lock may free) or a backoff runs. A team with
        no typed-into agent is not looked at until a file changes.

        Each turn also raises a typed-into teammate's permission question to the lead (once).
        """
        from app.lifecycle.permission_watch import PermissionWatch

        inboxes = self.mailbox.paths.inboxes
        permissions = PermissionWatch(self.mailbox, self.backend_for, self.states)
        crashes = 0
        try:
            reports = self.mailbox.paths.runtime_dir / "agent-status"  # an agent's own report (a permission question)
            team_file = self.mailbox.paths.team_dir
            watches = [(inboxes, _json), (reports, _json), (team_file, lambda n: n == "config.json")]
            with Waker(watches) as waker:
                self._waker = waker
                while not stop.is_set():
                    try:
                        for name in self._targets():
                            self._ensure_worker(name, stop, on_event)
                        permissions.check()  # a permission question on a typed agent's screen: tell the lead
                        crashes = 0
                    except CrewmuxError:
                        pass  # the team file is being rewritten or the team is gone: look again
                    except Exception as exc:  # a fault of ours: tell it and go on after a backoff
                        crashes += 1
                        wait = min(self.backoff, self.restart * 2 ** (crashes - 1))
                        on_event(
                            DeliveryEvent(
                                "", error=f"deliverer failed: {crash_line(exc)}; restarting in {wait:g} s", crash=True
                            )
                        )
                        stop.wait(wait)  # not woken early by inbox writes: a crash loop stays slow
                        continue
                    if not stop.is_set():  # set before wake(): a wake-up can no longer be missed
                        waker.wait(idle if self.timed else None)
        finally:
            self._waker = None
            for worker in list(self._workers.values()):
                worker.join(timeout=self.timeout + 5)
