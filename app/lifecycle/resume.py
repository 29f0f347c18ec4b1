"""Resume a team: re-attach teammates whose processes live, restart the others as recorded.

A teammate is restarted with its recorded argv and cwd (``crewmux.argv``, ``cwd``); the tasks it
still owns stay its own (the built-in worker resumes an ``in_progress`` task first). Restarted
teammates go into a pane of the chosen backend when one can be loaded, else run detached.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.core.errors import CrewmuxError
from app.core.liveness import create_time, is_alive
from app.core.paths import LEAD_NAME

if TYPE_CHECKING:
    from collections.abc import Callable

    from app.core.models import Member
    from app.core.team import TeamStore
    from backends.base import PaneBackend

    BackendLoader = Callable[[str], PaneBackend]


@dataclass(frozen=True)
class ResumeEntry:
    name: str
    action: str  # attached | restarted | skipped
    detail: str


def _restart(
    teams: TeamStore, team: str, m: Member, backend: str | None, load_backend: BackendLoader | None, *, hosts: bool
) -> ResumeEntry:
    rt = m.crewmux
    assert rt is not None and rt.argv
    env = dict(rt.env or {})
    choice = backend or (m.backend_type if m.backend_type and m.backend_type != "in-process" else None)
    if choice is None and hosts and m.backend_type == "in-process":
        choice = "in-process"  # a console hosts in-process panes: restart it there, shown in the console
    if choice:
        from app.lifecycle.teammates import Backends
        from backends.base import PaneSpec

        loader = load_backend or Backends(teams.paths(team).settings).get
        handle = loader(choice).spawn(
            PaneSpec(team=team, name=m.name, argv=list(rt.argv), cwd=m.cwd or ".", env=env, color=m.color)
        )
        pid, started, pane, locator, kind = handle.pid, handle.pid_create_time, handle.pane_id, handle.locator, choice
    else:
        import os

        proc = subprocess.Popen(
            rt.argv,
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
        member.tmux_pane_id = pane
        member.is_active = True

    teams.set_member(team, m.name, change)
    return ResumeEntry(m.name, "restarted", f"{kind} pid {pid}: {' '.join(rt.argv)}")


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
        if rt is not None and is_alive(rt.pid, rt.pid_create_time):
            where = f"pane {m.tmux_pane_id}" if m.tmux_pane_id and m.tmux_pane_id != "in-process" else "process"
            out.append(ResumeEntry(m.name, "attached", f"{where} pid {rt.pid} still running"))
            continue
        if rt is None or not rt.argv:
            out.append(ResumeEntry(m.name, "skipped", "no recorded command to restart it with"))
            continue
        try:
            out.append(_restart(teams, team, m, backend, load_backend, hosts=hosts_in_process))
        except CrewmuxError as exc:
            out.append(ResumeEntry(m.name, "failed", str(exc)))
    return out
