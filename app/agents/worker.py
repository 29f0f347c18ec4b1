"""The built-in worker: a teammate that follows the whole protocol without any model.

Loop: answer messages → claim the lowest available task → (plan mode: ask approval) → run the
task's ``metadata.command`` with its output in this terminal → mark it completed (exit 0, and the
TaskCompleted hook agrees) or report the failure → tell the lead → when nothing can be done, say
why once (``no_task`` / ``blocked``, through the TeammateIdle hook) and sleep until the inbox or
a task file changes. It never busy-polls: it wakes on inotify events (:class:`Waker`).

A failed task is kept by the worker as ``pending`` with ``metadata.failure`` (so nobody re-runs
it blindly and its dependents stay blocked); the lead is told and can hand it out again with
``crewmux task update ID --owner ''``. Unfinished tasks are released when the worker exits.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO

from app.agents.wake import Waker, task_file
from app.agents.worker_process import DIE_WITH_PARENT, own_argv
from app.core.errors import ClaimRefused, InboxFull
from app.core.heartbeat import HeartbeatThread
from app.core.hooks import hook_payload, run_hooks
from app.core.liveness import create_time
from app.core.mailbox import Mailbox
from app.core.models import MemberRuntime, Task, now_iso
from app.core.paths import LEAD_NAME
from app.core.protocol import (
    IdleNotification,
    PlanApprovalRequest,
    PlanApprovalResponse,
    ShutdownApproved,
    ShutdownRejected,
    ShutdownRequest,
    TaskCompleted,
    parse_protocol,
    protocol_text,
    request_id,
)
from app.core.tasks import TaskStore

if TYPE_CHECKING:

    from app.core.models import InboxMessage, Member
    from app.core.team import TeamStore


@dataclass
class WorkerConfig:
    team: str
    name: str
    plan: bool = False
    heartbeat_interval: float = 1.0
    #: a safety net only: the worker wakes on events; this bounds a missed one.
    idle_check: float = 30.0


class _Stop(Exception):
    """Leave the loop (shutdown approved or a hook said stop)."""


class Worker:
    """One worker process's loop. ``run()`` returns the process exit code."""

    def __init__(self, teams: TeamStore, config: WorkerConfig, out: TextIO | None = None) -> None:
        self.teams = teams
        self.cfg = config
        self.name = config.name
        self.paths = teams.paths(config.team)
        self.mail = Mailbox(teams, config.team)
        self.tasks = TaskStore(self.paths)
        self.out = out or sys.stdout
        self.proc: subprocess.Popen[bytes] | None = None
        self.current: Task | None = None
        self.plan_answer: PlanApprovalResponse | None = None
        self.last_idle: tuple[str, tuple[str, ...]] | None = None
        self.beats = HeartbeatThread(self.paths, self.name, interval=config.heartbeat_interval)
        self.waker = Waker([(self.paths.inboxes, self._my_inbox), (self.paths.tasks_dir, task_file)])

    def _my_inbox(self, filename: str) -> bool:
        return filename == self.paths.inbox(self.name).name

    def say(self, text: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')} {self.name}] {text}", file=self.out, flush=True)

    def tell_lead(
        self,
        message: IdleNotification | TaskCompleted | PlanApprovalRequest | ShutdownApproved | ShutdownRejected,
        summary: str,
    ) -> None:
        message.sender = self.name
        try:
            self.mail.send(LEAD_NAME, protocol_text(message), sender=self.name, summary=summary)
        except InboxFull as exc:  # the lead is not reading: say so here and keep working
            self.say(f"could not tell the lead ({summary}): {exc}")

    # -- setup ------------------------------------------------------------------------------
    def _member_from_spawn(self, wait: float = 10.0) -> Member | None:
        """The member entry; when ``crewmux spawn`` started us (it sets $CREWMUX_AGENT to our name),
        wait for spawn to record it rather than racing it with a join of our own."""
        found = self.teams.load(self.cfg.team).member(self.name)
        if found is not None or os.environ.get("CREWMUX_AGENT") != self.name:
            return found
        config = self.paths.config
        deadline = time.monotonic() + wait
        with Waker([(config.parent, lambda n: n == config.name)]) as waker:
            while found is None and time.monotonic() < deadline:
                waker.wait(min(0.5, max(0.0, deadline - time.monotonic())))
                found = self.teams.load(self.cfg.team).member(self.name)
        return found

    def _register(self) -> None:
        """Record this process in the member's entry (join if spawned by hand)."""
        pid = os.getpid()
        found = self._member_from_spawn()
        runtime = MemberRuntime(pid=pid, pid_create_time=create_time(pid), argv=own_argv(), agent_kind="worker")
        runtime.env = {"CREWMUX_HOME": str(self.teams.home)}
        if found is None:
            self.teams.join(
                self.cfg.team, self.name, agent_type="worker", runtime=runtime, plan_mode_required=self.cfg.plan or None
            )
            return

        def change(m: Member) -> None:
            m.is_active = True
            rt = m.crewmux or MemberRuntime()
            rt.agent_kind = rt.agent_kind or "worker"
            # Inside a pane the recorded pid is the pane's process; keep it while it lives.
            from app.core.liveness import is_alive

            if not is_alive(rt.pid, rt.pid_create_time):
                rt.pid, rt.pid_create_time = pid, create_time(pid)
                rt.argv = rt.argv or own_argv()
                rt.env = rt.env or {"CREWMUX_HOME": str(self.teams.home)}
            m.crewmux = rt

        self.teams.set_member(self.cfg.team, self.name, change)

    # -- messages ---------------------------------------------------------------------------
    def _handle(self, msg: InboxMessage) -> None:
        proto = parse_protocol(msg.text)
        if isinstance(proto, ShutdownRequest):
            self._on_shutdown(proto)
        elif isinstance(proto, PlanApprovalResponse):
            self.plan_answer = proto
        elif proto is None:
            self.say(f"message from {msg.sender}: {msg.text}")
        else:
            self.say(f"{proto.type} from {msg.sender}")

    def _on_shutdown(self, req: ShutdownRequest) -> None:
        busy = self.proc is not None and self.proc.poll() is None
        if busy and not req.force:
            assert self.current is not None
            reason = f"mid-task: running task {self.current.id} ({self.current.subject})"
            self.say(f"shutdown rejected: {reason}")
            self.tell_lead(ShutdownRejected(request_id=req.request_id, reason=reason), "shutdown rejected")
            return
        if busy:
            self._kill_child()
        self.say("shutdown approved")
        self.tell_lead(ShutdownApproved(request_id=req.request_id, backend_type=None), "shutdown approved")
        raise _Stop("shutdown approved")

    def drain(self) -> None:
        for msg in self.mail.take_unread(self.name):
            self._handle(msg)

    # -- idle -------------------------------------------------------------------------------
    def _why_idle(self) -> tuple[str, tuple[str, ...]]:
        all_tasks = self.tasks.list_tasks()
        blocked = self.tasks.blocked(all_tasks)
        waiting = sorted(
            {b for t in all_tasks if t.status == "pending" and not t.owner for b in blocked[t.id]}, key=int
        )
        return ("blocked", tuple(waiting)) if waiting else ("no_task", ())

    def _go_idle(self) -> None:
        reason = self._why_idle()
        if reason == self.last_idle:
            return
        outcome = run_hooks(
            self.paths,
            "TeammateIdle",
            hook_payload("TeammateIdle", team=self.cfg.team, teammate=self.name, cwd=os.getcwd()),
        )
        if outcome.stop:
            self.say(f"stopped by TeammateIdle hook: {outcome.stop_reason}")
            raise _Stop(outcome.stop_reason or "stopped by hook")
        if not outcome.allowed:
            self.say(f"idle refused by hook: {outcome.feedback}")
            return
        self.last_idle = reason
        kind, blockers = reason
        summary = f"waiting on blockers {', '.join(blockers)}" if blockers else "no task available"
        self.say(f"idle: {summary}")
        self.tell_lead(IdleNotification(idle_reason=kind, summary=summary, blocked_by=list(blockers) or None), summary)

    # -- running a task ---------------------------------------------------------------------
    def _wait_plan(self, task: Task, command: str) -> bool:
        rid = request_id("plan_approval", self.name, self.cfg.team)
        self.plan_answer = None
        self.beats.set("waiting_plan", task.id)
        self.tell_lead(
            PlanApprovalRequest(request_id=rid, plan_content=f"task {task.id}: {command}"), f"plan for task {task.id}"
        )
        self.say(f"asked the lead to approve: {command}")
        while True:
            self.waker.event.clear()
            self.drain()
            if self.plan_answer is not None and self.plan_answer.request_id == rid:
                return self.plan_answer.approved
            self.waker.wait(self.cfg.idle_check)

    def _kill_child(self) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def _run_command(self, command: str) -> int:
        self.proc = subprocess.Popen(["sh", "-c", command], start_new_session=True, preexec_fn=DIE_WITH_PARENT)  # noqa: PLW1509 (one syscall, see die_with_parent)
        proc = self.proc

        def reap() -> None:
            proc.wait()
            self.waker.poke()

        threading.Thread(target=reap, daemon=True).start()
        try:
            while True:
                self.waker.event.clear()
                if proc.poll() is not None:
                    return proc.returncode
                self.drain()
                self.waker.wait(self.cfg.idle_check)
        finally:
            if proc.poll() is None:
                self._kill_child()
            self.proc = None

    def _keep_failed(self, task: Task, note: dict[str, object]) -> None:
        self.tasks.update(task.id, status="pending", metadata={"failure": note})

    def work_on(self, task: Task) -> None:
        self.current = task
        command = str((task.metadata or {}).get("command") or "")
        try:
            if task.status != "in_progress":
                self.tasks.update(task.id, status="in_progress", owner=self.name)
            self.beats.set("working", task.id)
            self.say(f"task {task.id}: {task.subject}")
            if self.cfg.plan and not self._wait_plan(task, command or "(nothing to run)"):
                feedback = self.plan_answer.feedback if self.plan_answer else None
                self._keep_failed(task, {"by": self.name, "at": now_iso(), "planRejected": feedback or True})
                self.say(f"plan for task {task.id} rejected: {feedback or ''}")
                self.tell_lead(
                    TaskCompleted(
                        task_id=task.id,
                        task_subject=task.subject,
                        status="failed",
                        detail=f"plan rejected: {feedback or ''}",
                    ),
                    f"task {task.id} plan rejected",
                )
                self.last_idle = None
                return
            self.beats.set("working", task.id)
            code = self._run_command(command) if command else 0
            if code == 0:
                self._complete(task)
            else:
                self._keep_failed(task, {"by": self.name, "at": now_iso(), "exitCode": code})
                self.say(f"task {task.id} FAILED (exit {code}); kept as pending, owned by {self.name}")
                self._report_outcome(task, "failed", f"task {task.id} failed", detail=f"exit code {code}")
            self.last_idle = None
        finally:
            self.current = None
            self.beats.set("idle")

    def _complete(self, task: Task) -> None:
        outcome = run_hooks(
            self.paths,
            "TaskCompleted",
            hook_payload(
                "TaskCompleted",
                team=self.cfg.team,
                teammate=self.name,
                cwd=os.getcwd(),
                task_id=task.id,
                task_subject=task.subject,
                task_description=task.description or None,
            ),
        )
        if outcome.stop:
            raise _Stop(outcome.stop_reason or "stopped by hook")
        if not outcome.allowed:
            self.tasks.update(task.id, metadata={"hookFeedback": outcome.feedback})
            self.say(f"completion of task {task.id} refused by hook: {outcome.feedback}")
            self.tell_lead(
                TaskCompleted(task_id=task.id, task_subject=task.subject, status="refused", detail=outcome.feedback),
                f"task {task.id} completion refused",
            )
            return
        self.tasks.update(task.id, status="completed", metadata={"failure": None, "completedBy": self.name})
        self.say(f"task {task.id} completed")
        self._report_outcome(task, "completed", f"task {task.id} done")

    def _report_outcome(self, task: Task, status: str, summary: str, *, detail: str | None = None) -> None:
        """Tell the lead how a task ended: a task_completed, then an idle notice saying why."""
        self.tell_lead(
            TaskCompleted(task_id=task.id, task_subject=task.subject, status=status, detail=detail),
            f"task {task.id} {status}",
        )
        self.tell_lead(
            IdleNotification(
                idle_reason="failed" if status == "failed" else "task_done",
                completed_task_id=task.id,
                completed_status=status,
                summary=summary,
            ),
            summary,
        )

    # -- the loop ---------------------------------------------------------------------------
    def _resumable(self) -> Task | None:
        """A task this worker owns in progress (it was restarted mid-task)."""
        for t in self.tasks.list_tasks():
            if t.owner == self.name and t.status == "in_progress":
                return t
        return None

    def run(self) -> int:
        self._register()
        self.beats.start()
        reason = "finished"
        try:
            self.say(f"worker for team {self.cfg.team!r} ready{' (plan mode)' if self.cfg.plan else ''}")
            resumed = self._resumable()
            if resumed is not None:
                self.say(f"resuming task {resumed.id}")
                self.work_on(resumed)
            while True:
                self.waker.event.clear()
                self.drain()
                try:
                    task = self.tasks.claim(None, self.name)
                except ClaimRefused:
                    self._go_idle()
                    self.waker.wait(self.cfg.idle_check)
                    continue
                self.work_on(task)
        except _Stop as stop:
            reason = str(stop)
        except KeyboardInterrupt:
            reason = "interrupted"
        finally:
            self._kill_child()
            released = self.tasks.release(self.name)
            if released:
                self.say(f"released tasks {', '.join(released)}")
            self.beats.stop()
            self.waker.close()
            self.tasks.close()
            with contextlib.suppress(Exception):
                self.teams.set_member(self.cfg.team, self.name, lambda m: setattr(m, "is_active", False))
        self.say(f"exiting: {reason}")
        return 0
