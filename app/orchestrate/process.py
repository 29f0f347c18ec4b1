"""One fresh process for one iteration: start it, watch it, kill it, measure it.

The process runs in its own session (so its whole process group can be killed), with stdout and
stderr going to a log file. It counts as *alive* while it writes its heartbeat file
(``$CREWMUX_HEARTBEAT``) or its log grows; silent for longer than the heartbeat timeout, or
running past the iteration timeout, it is killed (SIGTERM to the group, SIGKILL after a grace)
and counted failed. CPU time comes from ``wait4``'s rusage of the child and its descendants.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol

from app.core.atomic import atomic_write, ensure_dir
from app.core.errors import StorageError

if TYPE_CHECKING:
    from pathlib import Path

Ending = Literal["ok", "failed", "heartbeat", "timeout"]
TAIL_BYTES = 2048
KILL_GRACE = 1.0
USAGE_SCAN_BYTES = 256 * 1024
#: the child records its own pid (then execs the command, keeping that pid) before anything
#: else runs, so an orchestrator killed right after the fork still leaves the orphan findable.
_PID_WRAPPER = ["/bin/sh", "-c", 'printf \'{"pid": %d}\' "$$" > "$0" && exec "$@"']


@dataclass(frozen=True)
class Launch:
    """What to start and how to watch it."""

    argv: list[str]
    env: dict[str, str]
    cwd: Path
    log: Path
    heartbeat: Path
    usage: Path
    pid_file: Path
    heartbeat_timeout: float | None = None
    iteration_timeout: float | None = None


@dataclass
class Finished:
    """How a process ended."""

    ending: Ending
    exit_status: int | None
    started_at: float
    ended_at: float
    cpu_s: float | None
    output_tail: str
    tokens: int | None = None
    cost_usd: float | None = None
    killed_for: str | None = None

    @property
    def duration_s(self) -> float:
        return self.ended_at - self.started_at


def read_tail(path: Path, limit: int = TAIL_BYTES) -> str:
    """The last ``limit`` bytes of a log, as text ('' when it does not exist)."""
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - limit))
            return fh.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return ""


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return 0.0


def _usage_of(doc: object) -> tuple[int | None, float | None]:
    if not isinstance(doc, dict):
        return None, None
    tokens = doc.get("tokens")
    usage = doc.get("usage")
    if tokens is None and isinstance(usage, dict):  # Claude Code's ``-p --output-format json`` result
        counts = [v for k, v in usage.items() if k.endswith("_tokens") and isinstance(v, int)]
        tokens = sum(counts) if counts else None
    cost = doc.get("cost_usd", doc.get("costUsd", doc.get("total_cost_usd")))
    return (
        int(tokens) if isinstance(tokens, int | float) else None,
        float(cost) if isinstance(cost, int | float) else None,
    )


def read_usage(path: Path, log: Path | None = None) -> tuple[int | None, float | None]:
    """Tokens and cost of an iteration, when known.

    From ``$CREWMUX_USAGE`` (``{"tokens": n, "cost_usd": x}``) if it wrote one; else from the
    last line of its output when that is a JSON result carrying ``usage``/``total_cost_usd``
    (what ``claude -p --output-format json`` prints).
    """
    try:
        return _usage_of(json.loads(path.read_bytes()))
    except (OSError, ValueError):
        pass
    if log is None:
        return None, None
    lines = read_tail(log, USAGE_SCAN_BYTES).strip().splitlines()
    if not lines or not lines[-1].lstrip().startswith("{"):
        return None, None
    try:
        return _usage_of(json.loads(lines[-1]))
    except ValueError:
        return None, None


class IterationProcess(Protocol):
    """A started iteration, headless or in a pane."""

    @property
    def pid(self) -> int | None: ...

    def poll(self) -> Finished | None:
        """None while it runs; how it ended once it has."""
        ...

    def wait(self, poll_interval: float = ...) -> Finished:
        """Block until it ends."""
        ...

    def stop(self) -> None:
        """Kill it at once, with everything it started (the orchestrator is going away)."""
        ...


def overdue(launch: Launch, started_mono: float, started_wall: float) -> str | None:
    """ "timeout" past the iteration timeout, "heartbeat" when silent too long, else None.

    Silent means: the heartbeat file was not touched and the log did not grow.
    """
    if launch.iteration_timeout is not None and time.monotonic() - started_mono > launch.iteration_timeout:
        return "timeout"
    if launch.heartbeat_timeout is not None:
        last = max(started_wall, _mtime(launch.heartbeat), _mtime(launch.log))
        if time.time() - last > launch.heartbeat_timeout:
            return "heartbeat"
    return None


def ending_for(kill_reason: str | None, code: int | None) -> Ending:
    """How a process ended, from why it was killed (if it was) and its exit code."""
    if kill_reason == "heartbeat":
        return "heartbeat"
    if kill_reason == "timeout":
        return "timeout"
    return "ok" if code == 0 else "failed"


def finished_record(
    launch: Launch, started_at: float, kill_reason: str | None, code: int | None, cpu: float | None
) -> Finished:
    """The record of an ended iteration, however it ran (headless or in a pane)."""
    tokens, cost = read_usage(launch.usage, launch.log)
    return Finished(
        ending=ending_for(kill_reason, code),
        exit_status=code,
        started_at=started_at,
        ended_at=time.time(),
        cpu_s=cpu,
        output_tail=read_tail(launch.log),
        tokens=tokens,
        cost_usd=cost,
        killed_for=kill_reason,
    )


@dataclass
class HeadlessProcess:
    """A plain child process in its own process group."""

    launch: Launch
    popen: subprocess.Popen[bytes] = field(init=False)
    started_at: float = field(init=False)
    _started_mono: float = field(init=False)
    _kill_reason: str | None = field(default=None, init=False)
    _kill_sent_at: float | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        spec = self.launch
        ensure_dir(spec.log.parent)
        spec.heartbeat.touch()
        with contextlib.suppress(FileNotFoundError):
            spec.usage.unlink()
        try:
            with spec.log.open("ab") as log:
                self.popen = subprocess.Popen(
                    [*_PID_WRAPPER, str(child_pid_file(spec.pid_file)), *spec.argv],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    cwd=spec.cwd,
                    env=spec.env,
                    start_new_session=True,
                )
        except OSError as exc:
            raise StorageError(f"cannot start {spec.argv[0]!r}: {exc}") from exc
        self.started_at = time.time()
        self._started_mono = time.monotonic()
        from app.core.liveness import create_time

        record = {"pid": self.pid, "createTime": create_time(self.pid), "heartbeat": str(spec.heartbeat)}
        atomic_write(spec.pid_file, json.dumps(record), fsync=False)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def _signal_group(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, sig)

    def kill(self, reason: str) -> None:
        """Start killing the whole group (SIGTERM now, SIGKILL after a grace); ``poll`` reaps it."""
        if self._kill_reason is None:
            self._kill_reason = reason
            self._kill_sent_at = time.monotonic()
            self._signal_group(signal.SIGTERM)

    def stop(self) -> None:
        """SIGKILL the whole group and reap the process."""
        self._signal_group(signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)
            self.popen.returncode = -signal.SIGKILL

    def poll(self) -> Finished | None:
        """None while it runs; how it ended once it has. Kills it when it goes silent or overruns."""
        try:
            pid, status, usage = os.wait4(self.pid, os.WNOHANG)
        except ChildProcessError:
            pid, status, usage = self.pid, 0, None
        if pid == 0:
            self._watch()
            return None
        code = os.waitstatus_to_exitcode(status) if usage is not None else None
        self.popen.returncode = code if code is not None else -1
        if self._kill_reason is not None:
            self._signal_group(signal.SIGKILL)  # leave no stragglers of a killed iteration behind
        cpu = usage.ru_utime + usage.ru_stime if usage is not None else None
        return finished_record(self.launch, self.started_at, self._kill_reason, code, cpu)

    def _watch(self) -> None:
        if self._kill_sent_at is not None:
            if time.monotonic() - self._kill_sent_at > KILL_GRACE:
                self._signal_group(signal.SIGKILL)
            return
        reason = overdue(self.launch, self._started_mono, self.started_at)
        if reason is not None:
            self.kill(reason)

    def wait(self, poll_interval: float = 0.02) -> Finished:
        """Block until it ends (still watching heartbeat and timeout)."""
        while True:
            done = self.poll()
            if done is not None:
                return done
            time.sleep(poll_interval)


def child_pid_file(pid_file: Path) -> Path:
    """Where the child writes its own pid (the orchestrator writes ``pid_file`` itself)."""
    return pid_file.with_name(pid_file.name + ".child")


def _is_ours(pid: int, doc: dict[str, object], heartbeat: Path) -> bool:
    import psutil

    started = doc.get("createTime")
    try:
        proc = psutil.Process(pid)
        if isinstance(started, int | float):
            return abs(proc.create_time() - float(started)) <= 0.01
        return proc.environ().get("CREWMUX_HEARTBEAT") == str(heartbeat)
    except (psutil.Error, OSError):
        return False


def kill_orphan(pid_file: Path, heartbeat: Path) -> None:
    """Kill the process group recorded in ``pid_file`` by a previous orchestrator, if it still runs.

    ``pid_file`` holds ``{"pid": n, "createTime": t}``, written by the orchestrator; when it died
    right after the fork only the child's own ``<pid_file>.child`` (the pid alone) is there. The
    group is only signalled when that process is provably the same one: same start time, or its
    environment names the same heartbeat file.
    """
    from app.core.liveness import is_alive

    for candidate in (pid_file, child_pid_file(pid_file)):
        try:
            doc = json.loads(candidate.read_bytes())
            pid = int(doc["pid"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if isinstance(doc, dict) and _is_ours(pid, doc, heartbeat):
            break
    else:
        return
    started = doc.get("createTime")
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10.0
    while is_alive(pid, float(started) if isinstance(started, int | float) else None):
        if time.monotonic() > deadline:
            break
        time.sleep(0.01)
