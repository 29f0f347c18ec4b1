"""Resume a team: re-attach teammates whose processes live, restart the others as recorded.

A teammate is restarted under its name, color, cwd (its worktree's) and backend with its recorded
argv; an agent CLI resumes its own conversation where it can (:mod:`app.agents.conversation`);
the tasks it still owns stay its own (the built-in worker resumes an ``in_progress`` task first);
its unread messages stay unread in its inbox and are delivered once. A teammate that ended on
purpose (``crewmux.ended``: killed, shut down) is not brought back; the tasks of one that is not
(ended, or its restart failed) are released. Restarted teammates go into a pane of the chosen
backend when one can be loaded, else run detached.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.core.errors import CrewmuxError
from app.core.liveness import create_time, is_alive
from app.core.paths import LEAD_NAME
from app.core.tasks import TaskStore

if TYPE_CHECKING:
    from collections.abc import Callable

    from app.core.models import Member
    from app.core.team import TeamStore
    from backends.base import PaneBackend

    BackendLoader = Callable[[str], PaneBackend]


@dataclass(frozen=True)
class ResumeEntry:
    name: str
    action: str  # attached | restarted | ended | skipped | failed
    detail: str
    conversation: str = ""
    """What happened to its agent CLI's own conversation (resumed, or why not)."""
    released: tuple[str, ...] = ()
    """Tasks given back to pending because it does not come back."""


def _release(teams: TeamStore, team: str, name: str) -> tuple[str, ...]:
    store = TaskStore(teams.paths(team))
    try:
        return tuple(store.release(name))
    finally:
        store.close()


def _restart(
    teams: TeamStore, team: str, m: Member, backend: str | None, load_backend: BackendLoader | None, *, hosts: bool
) -> ResumeEntry:
    from app.agents.conversation import resume_argv

    rt = m.crewmux
    assert rt is not None and rt.argv
    session_id = rt.session_id
    if rt.agent_kind == "codex" and not session_id:
        from app.lifecycle.usage import codex_session_id

        session_id = codex_session_id(m, teams.paths(team))
    argv, conversation = resume_argv(rt.agent_kind, list(rt.argv), session_id, m.prompt)
    env = dict(rt.env or {})
    choice = backend or (m.backend_type if m.backend_type and m.backend_type != "in-process" else None)
    if choice is None and hosts and m.backend_type == "in-process":
        choice = "in-process"  # a console hosts in-process panes: restart it there, shown in the console
    if choice:
        from app.lifecycle.teammates import Backends
        from backends.base import PaneSpec

        loader = load_backend or Backends(teams.paths(team).settings).get
        handle = loader(choice).spawn(
            PaneSpec(team=team, name=m.name, argv=argv, cwd=m.cwd or ".", env=env, color=m.color, title=m.name)
        )
        pid, started, pane, locator, kind = handle.pid, handle.pid_create_time, handle.pane_id, handle.locator, choice
    else:
        import os

        proc = subprocess.Popen(
            argv,
            cwd=m.cwd or None,
            env={**os.environ, **env},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        pid, started, pane, locator, kind = proc.pid, create_time(proc.pid), "in-process", None, "detached"

    def change(member: Member) -> None:
        assert member.crewmux is not None
        member.crewmux.pid, member.crewmux.pid_create_time = pid, started
        member.crewmux.pane_session = locator
        member.crewmux.created_by_crewmux = True
        member.crewmux.ended = None
        member.crewmux.session_id = session_id
        member.tmux_pane_id = pane
        member.is_active = True

    teams.set_member(team, m.name, change)
    return ResumeEntry(m.name, "restarted", f"{kind} pid {pid}: {' '.join(argv)}", conversation)


def _pane_gone(m: Member, load_backend: BackendLoader | None) -> bool:
    """True when ``m``'s tmux/iTerm2 pane is gone though its process still runs (an orphan)."""
    if m.backend_type not in ("tmux", "iterm2") or load_backend is None or not m.tmux_pane_id:
        return False
    from backends.base import PaneHandle

    try:
        return not load_backend(m.backend_type).is_alive(PaneHandle.for_member(m))
    except CrewmuxError:
        return False


def resume_team(
    teams: TeamStore,
    team: str,
    *,
    backend: str | None = None,
    load_backend: BackendLoader | None = None,
    hosts_in_process: bool = False,
) -> list[ResumeEntry]:
    """Re-attach or restart every teammate; returns one entry per teammate.

    ``backend`` forces one backend for every restart. ``load_backend`` (name → backend instance)
    replaces the registry's loader (the teammate service passes its one lookup). With
    ``hosts_in_process`` (a console) in-process teammates restart into this process's in-process
    backend, shown there, instead of running detached. Call it through
    :meth:`app.lifecycle.teammates.Teammates.resume`.
    """
    out: list[ResumeEntry] = []
    for m in teams.load(team).members:
        if m.name == LEAD_NAME:
            continue
        rt = m.crewmux
        orphan = rt is not None and is_alive(rt.pid, rt.pid_create_time) and _pane_gone(m, load_backend)
        if orphan and rt is not None and rt.pid:  # e.g. gemini outlives tmux kill-server: end it, restart it
            from app.core.proctree import terminate_tree, tree

            terminate_tree(tree(rt.pid, rt.pid_create_time), 2.0)
        if rt is not None and not orphan and is_alive(rt.pid, rt.pid_create_time):
            where = f"pane {m.tmux_pane_id}" if m.tmux_pane_id and m.tmux_pane_id != "in-process" else "process"
            out.append(ResumeEntry(m.name, "attached", f"{where} pid {rt.pid} still running"))
            continue
        if rt is None:
            out.append(ResumeEntry(m.name, "skipped", "not started by crewmux: left to whoever runs it"))
            continue
        if rt.ended:
            why = f"ended on purpose ({rt.ended}): not brought back"
            out.append(ResumeEntry(m.name, "ended", why, released=_release(teams, team, m.name)))
            continue
        if not rt.argv:
            released = _release(teams, team, m.name)
            out.append(ResumeEntry(m.name, "skipped", "no recorded command to restart it with", released=released))
            continue
        try:
            out.append(_restart(teams, team, m, backend, load_backend, hosts=hosts_in_process))
        except CrewmuxError as exc:
            out.append(ResumeEntry(m.name, "failed", str(exc), released=_release(teams, team, m.name)))
    return out
