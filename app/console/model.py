"""What the console shows, gathered from disk and psutil (blocking: call from thread workers).

Everything here is plain data; the widgets only draw it. A :class:`Probe` reads the process
figures so tests and snapshots can inject fixed numbers.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol

import psutil

from app.core.liveness import TeamLiveness
from app.core.paths import LEAD_NAME
from app.core.protocol import IdleNotification, PermissionRequest, PlanApprovalRequest, parse_protocol

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable, Mapping

    from app.core.mailbox import Mailbox
    from app.core.models import InboxMessage, Member, Task, TeamFile
    from app.lifecycle.usage import MemberUsage

State = Literal["starting", "working", "waiting", "idle", "stopped", "dead", "over-budget"]
STARTING_FOR_S = 3.0
CLAUDE_STARTS_IN_S = 20.0
"""How long a pane teammate Claude Code recorded may take to show its process (starting, not dead)."""


@dataclass(frozen=True)
class Usage:
    """CPU (% of one core) and resident memory (MB) of a process tree."""

    cpu: float
    mem_mb: float


class Probe(Protocol):
    """Reads a process tree's usage; None when the process is gone."""

    def __call__(self, pid: int) -> Usage | None: ...


class PsutilProbe:
    """The real probe: psutil over the process and its children, CPU since the previous call.

    Figures are rounded as the table shows them (whole % and MB), so an idle teammate reads the
    same each time and the console has nothing to redraw. Each tree is read again at most every
    ``map_ttl`` s: on Linux from the kernel's child lists (``/proc/<pid>/task/<tid>/children``, a
    few small reads per teammate), elsewhere from one scan of the whole process table (every
    process read: ~11 ms of CPU for ~200 processes), sooner only for a pid the last scan did not
    see (a new teammate). Processes that left the trees are forgotten.
    """

    def __init__(self, *, map_ttl: float = 10.0, rescan_after: float = 1.0, child_lists: bool | None = None) -> None:
        self._procs: dict[int, psutil.Process] = {}
        self._children: dict[int, list[int]] = {}
        self._seen: set[int] = set()
        self._map_at = -1e9
        self._map_ttl = map_ttl
        self._rescan_after = rescan_after
        self._trees: dict[int, tuple[float, list[int]]] = {}  # pid -> (read at, its tree) from child lists
        self.child_lists = _has_child_lists() if child_lists is None else child_lists
        """Whether trees come from the kernel's child lists (else from scans of the process table)."""
        self.scans = 0
        """How many times the process table was scanned (tests count them)."""

    def _child_map(self, pid: int) -> dict[int, list[int]]:
        """parent pid → child pids, from one scan of the process table (not one per teammate)."""
        age = time.monotonic() - self._map_at
        if age > self._map_ttl or (pid not in self._seen and age > self._rescan_after):
            children: dict[int, list[int]] = {}
            seen: set[int] = set()
            for proc in psutil.process_iter(["ppid"]):
                seen.add(proc.pid)
                ppid = proc.info.get("ppid")
                if ppid:
                    children.setdefault(int(ppid), []).append(proc.pid)
            self._children, self._seen = children, seen
            self._map_at = time.monotonic()
            self.scans += 1
            for gone in [p for p in self._procs if p not in seen]:
                del self._procs[gone]
        return self._children

    def _tree(self, pid: int) -> list[int]:
        if self.child_lists:
            return self._listed_tree(pid)
        children = self._child_map(pid)
        out, stack = [], [pid]
        while stack:
            current = stack.pop()
            out.append(current)
            stack.extend(children.get(current, ()))
        return out

    def _listed_tree(self, pid: int) -> list[int]:
        """``pid`` and its descendants, from the kernel's child lists, read at most every ``map_ttl`` s."""
        now = time.monotonic()
        known = self._trees.get(pid)
        if known is not None and now - known[0] <= self._map_ttl:
            return known[1]
        out, stack = [], [pid]
        while stack:
            current = stack.pop()
            out.append(current)
            stack.extend(_child_pids(current))
        for gone in set(known[1] if known else ()) - set(out):
            self._procs.pop(gone, None)
        self._trees[pid] = (now, out)
        return out

    def _proc(self, pid: int) -> psutil.Process:
        proc = self._procs.get(pid)
        if proc is None or not proc.is_running():
            proc = psutil.Process(pid)
            proc.cpu_percent(None)
            self._procs[pid] = proc
        return proc

    def __call__(self, pid: int) -> Usage | None:
        try:
            self._proc(pid)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            self._trees.pop(pid, None)
            return None
        cpu = 0.0
        mem = 0
        for member in self._tree(pid):
            try:
                known = self._proc(member)
                cpu += known.cpu_percent(None)
                mem += known.memory_info().rss
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
        return Usage(cpu=float(round(cpu)), mem_mb=float(round(mem / 1_048_576)))


def _has_child_lists() -> bool:
    """Whether this kernel keeps ``/proc/<pid>/task/<tid>/children`` (Linux with CONFIG_PROC_CHILDREN)."""
    return os.path.exists(f"/proc/{os.getpid()}/task/{os.getpid()}/children")


def _child_pids(pid: int) -> list[int]:
    """``pid``'s children, from each of its threads' child list ([] when it is gone)."""
    try:
        threads = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    found: list[int] = []
    for tid in threads:
        try:
            with open(f"/proc/{pid}/task/{tid}/children", "rb") as f:
                found.extend(int(child) for child in f.read().split())
        except (OSError, ValueError):
            continue  # the thread ended meanwhile
    return found


@dataclass(frozen=True)
class TeammateRow:
    """One row of the teammate list."""

    name: str
    color: str | None
    kind: str
    backend: str
    state: State
    task: str | None
    usage: Usage | None
    unread: int
    pane_id: str = ""
    pid: int | None = None
    is_lead: bool = False
    spend: MemberUsage | None = None
    """Tokens in/out and cost from its agent CLI's own records (:mod:`app.lifecycle.usage`); None
    when it has no record (worker, shell, or none written yet)."""


@dataclass(frozen=True)
class TeamSnapshot:
    """The whole team as the console shows it, taken at ``taken_at``."""

    team: str
    rows: list[TeammateRow]
    taken_at: float = field(default_factory=time.time)

    def names(self) -> list[str]:
        return [r.name for r in self.rows]


def member_state(
    member: Member,
    *,
    alive: bool,
    idle: IdleNotification | None,
    now_ms: int,
    cpu: float | None,
    dead: bool = False,
    screen: str | None = None,
    judged: bool = False,
) -> State:
    """The state shown for ``member``.

    stopped: marked inactive and its process is gone (a live one marked inactive is judged by
    the rules below; one with no process to judge by is idle); dead: its process is gone
    while it should run (``judged``: :class:`~app.core.liveness.TeamLiveness` could tell, e.g. a
    Claude Code teammate crewmux did not start), or ``dead`` (the liveness monitor found it dead); waiting: its screen
    shows it waiting for input or a permission answer (``screen``, from its agent's rules) or its
    last idle notice says so; working: its screen shows it busy; starting: joined in the last few
    seconds; idle: it said it is idle and is not busy; working: otherwise.
    """
    recorded = bool(member.crewmux and member.crewmux.pid)
    judged = judged or recorded
    joining = now_ms - member.joined_at < STARTING_FOR_S * 1000
    if dead and not alive:
        return "dead"
    if member.is_active is False and not alive:
        # Liveness decides: Claude Code sets isActive false after every turn of a live teammate.
        return "stopped" if judged else "idle"
    if judged and not alive and not recorded and now_ms - member.joined_at < CLAUDE_STARTS_IN_S * 1000:
        return "starting"  # Claude Code records a pane teammate before its process starts
    if judged and not alive:
        return "dead"
    if screen in ("waiting", "permission"):
        return "waiting"
    if screen == "busy":
        return "working"
    if idle is not None:
        if idle.idle_reason == "waiting_input":
            return "waiting"
        if cpu is None or cpu < 5.0:
            return "idle"
    if joining and idle is None:
        return "starting"
    return "working"


def last_idle_by_sender(lead_messages: Iterable[InboxMessage]) -> dict[str, IdleNotification]:
    """The newest idle notification each teammate sent the lead, from the lead's messages
    (archived and current, oldest first: :meth:`Mailbox.history`)."""
    found: dict[str, IdleNotification] = {}
    for m in lead_messages:
        parsed = parse_protocol(m.text)
        if isinstance(parsed, IdleNotification):
            found[m.sender] = parsed
        elif m.sender in found:
            # anything newer from the sender means it is no longer idle
            del found[m.sender]
    return found


def lead_state(lead_messages: Iterable[InboxMessage]) -> State:
    """The lead's state: ``waiting`` while a teammate's newest message asks it something (a plan or
    a permission to approve), else ``idle`` — the lead is a person at the console, not a process."""
    newest: dict[str, bool] = {}
    for m in lead_messages:
        newest[m.sender] = isinstance(parse_protocol(m.text), (PlanApprovalRequest, PermissionRequest))
    return "waiting" if any(newest.values()) else "idle"


def member_kind(member: Member) -> str:
    """What runs in the teammate: its agent kind, ``command`` for a plain command, ``lead``, or ``?``."""
    rt = member.crewmux
    if rt is not None and rt.agent_kind:
        return rt.agent_kind
    if member.agent_type:
        return member.agent_type
    if member.name == LEAD_NAME:
        return "lead"
    return "command" if rt is not None and rt.argv else "?"


def _spend(m: Member) -> MemberUsage | None:
    from app.lifecycle.usage import MemberUsage, token_usage

    out = MemberUsage(name=m.name, state="")
    try:
        token_usage(m, out)
    except OSError:
        return None
    return out if out.tokens_in is not None and out.tokens_out is not None else None


def snapshot(
    team_file: TeamFile,
    mailbox: Mailbox,
    tasks: list[Task],
    probe: Probe,
    *,
    lead_messages: Iterable[InboxMessage] = (),
    dead: Collection[str] = (),
    screens: Mapping[str, str] | None = None,
    spend: bool = True,
) -> TeamSnapshot:
    """The team's rows, the lead first. Blocking (files and psutil).

    ``lead_messages``: the lead's history (read once per refresh by the caller), for idle notices;
    ``dead``: names the liveness monitor found dead (shown dead, not merely stopped);
    ``screens``: name → screen state from its agent's rules (see :mod:`app.console.screen_state`);
    ``spend``: read each one's token usage (the first pass leaves it to the full one).
    """
    lead_messages = list(lead_messages)
    idle = last_idle_by_sender(lead_messages)
    owned: dict[str, str] = {}
    for t in tasks:
        if t.owner and t.status != "completed" and t.owner not in owned:
            owned[t.owner] = f"#{t.id} {t.subject}"
    now = int(time.time() * 1000)
    rows: list[TeammateRow] = []
    members = sorted(team_file.members, key=lambda m: m.name != LEAD_NAME)
    liveness = TeamLiveness(team_file)
    for m in members:
        rt = m.crewmux
        is_lead = m.name == LEAD_NAME
        seen = None if is_lead else liveness.alive(m)
        alive = bool(seen)
        pid = (rt.pid if rt else None) or (liveness.pid(m) if alive else None)
        usage = probe(pid) if pid and alive else None
        try:
            unread = len(mailbox.inbox(m.name, unread_only=True, tf=team_file))  # not re-read per member
        except Exception:
            unread = 0
        state: State = (
            lead_state(lead_messages)
            if is_lead
            else member_state(
                m,
                alive=alive,
                idle=idle.get(m.name),
                now_ms=now,
                cpu=usage.cpu if usage else None,
                dead=m.name in dead,
                screen=(screens or {}).get(m.name),
                judged=seen is not None,
            )
        )
        if alive and rt is not None and rt.paused:
            state = "over-budget"  # paused by its budget (app.lifecycle.budgets): nothing is typed into it
        rows.append(
            TeammateRow(
                name=m.name,
                color=m.color,
                kind=member_kind(m),
                backend="console" if is_lead else (m.backend_type or "-"),
                state=state,
                task=owned.get(m.name),
                usage=usage,
                unread=unread,
                pane_id=m.tmux_pane_id,
                pid=pid,
                is_lead=is_lead,
                spend=_spend(m) if spend else None,
            )
        )
    return TeamSnapshot(team=team_file.name, rows=rows)
